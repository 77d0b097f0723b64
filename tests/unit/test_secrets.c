/*
 * Secret generation: alphabets, lengths, that values do not repeat,
 * passwords' character classes, bcrypt.  With --pairs N it prints N
 * generated passwords and their bcrypt hashes, one pair a line, for a
 * check by another implementation (PostgreSQL's pgcrypto, in
 * tests/postgres).
 */
#include <stdlib.h>

#include "unit.h"
#include "rollout/secrets.h"

static void
alphabet(enum secret_gen gen, long n, const char *set, size_t want_len)
{
	struct secret_key k = { "k", gen, n, NULL, 0 };
	struct s7_error err;
	char a[1024], b[1024];
	size_t i;

	CHECK(secret_generate(&k, a, sizeof(a), &err) == 0);
	CHECK(secret_generate(&k, b, sizeof(b), &err) == 0);
	CHECK(strlen(a) == want_len);
	CHECK(strspn(a, set) == want_len);
	CHECK(strcmp(a, b) != 0);
	for (i = 0; i < strlen(a); i++)
		if (a[i] == '\0')
			CHECK(!"NUL inside a value");
}

/* Every password has the four classes; every sign and letter turns up. */
static void
passwords(void)
{
	static const char set[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
	struct secret_key k = { "k", GEN_PASSWORD, 16, NULL, 0 };
	struct s7_error err;
	int counts[65] = { 0 }, i, j, all = 1;
	char a[64], b[64];

	alphabet(GEN_PASSWORD, 24, set, 24);
	for (i = 0; i < 1000; i++) {
		CHECK(secret_generate(&k, a, sizeof(a), &err) == 0);
		CHECK(strlen(a) == 16 && strspn(a, set) == 16);
		all &= strpbrk(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != NULL &&
		    strpbrk(a, "abcdefghijklmnopqrstuvwxyz") != NULL &&
		    strpbrk(a, "0123456789") != NULL && strpbrk(a, "-_.") != NULL;
		for (j = 0; a[j]; j++)
			counts[strchr(set, a[j]) - set]++;
	}
	CHECK(all);
	for (i = 0; i < 65; i++)
		CHECK(counts[i] > 100);		/* mean 246 */
	CHECK(secret_generate(&k, b, sizeof(b), &err) == 0);
	CHECK(strcmp(a, b) != 0);
}

static void
bcrypt(void)
{
	struct secret_key derived = { "hash", GEN_BCRYPT, 0, NULL, 0 };
	struct s7_error err;
	char h1[128], h2[128], v[64];

	/* A published test vector of bcrypt (Openwall's crypt_blowfish). */
	CHECK(secret_bcrypt_ok("U*U",
	    "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
	CHECK(!secret_bcrypt_ok("U*V",
	    "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
	CHECK(secret_bcrypt("Zq-8.sector7", h1, sizeof(h1), &err) == 0);
	CHECK(secret_bcrypt("Zq-8.sector7", h2, sizeof(h2), &err) == 0);
	CHECK(strlen(h1) == 60 && strncmp(h1, "$2a$10$", 7) == 0);
	CHECK(strcmp(h1, h2) != 0);		/* salted */
	CHECK(secret_bcrypt_ok("Zq-8.sector7", h1));
	CHECK(secret_bcrypt_ok("Zq-8.sector7", h2));
	CHECK(!secret_bcrypt_ok("Zq-8.sector8", h1));
	CHECK(!secret_bcrypt_ok("Zq-8.sector7", "Zq-8.sector7"));
	CHECK(!secret_bcrypt_ok("", ""));
	CHECK(secret_bcrypt("x", h1, 40, &err) < 0);	/* no room */
	CHECK(secret_generate(&derived, v, sizeof(v), &err) < 0);
}

static int
pairs(long n)
{
	struct secret_key k = { "k", GEN_PASSWORD, 24, NULL, 0 };
	struct s7_error err;
	char pw[64], h[128];

	while (n-- > 0) {
		if (secret_generate(&k, pw, sizeof(pw), &err) < 0 ||
		    secret_bcrypt(pw, h, sizeof(h), &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		printf("%s %s\n", pw, h);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct secret_key fixed = { "username", GEN_VALUE, 0, "n8n", 0 };
	struct secret_key huge = { "k", GEN_ALNUM, 4096, NULL, 0 };
	struct s7_error err;
	char v[64];
	int counts[62] = { 0 }, i, j;
	static const char alnum[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

	if (argc == 3 && strcmp(argv[1], "--pairs") == 0)
		return pairs(atol(argv[2]));
	alphabet(GEN_ALNUM, 32, alnum, 32);
	alphabet(GEN_HEX, 64, "0123456789abcdef", 64);
	/* 32 bytes in base64: 44 characters with padding */
	alphabet(GEN_BASE64, 32,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=",
	    44);
	CHECK(secret_generate(&fixed, v, sizeof(v), &err) == 0);
	CHECK_STR(v, "n8n");
	CHECK(secret_generate(&huge, v, sizeof(v), &err) < 0);
	/* Every letter and digit turns up, none far more than the others. */
	for (i = 0; i < 200; i++) {
		struct secret_key k = { "k", GEN_ALNUM, 62, NULL, 0 };
		char x[80];

		CHECK(secret_generate(&k, x, sizeof(x), &err) == 0);
		for (j = 0; x[j]; j++)
			counts[strchr(alnum, x[j]) - alnum]++;
	}
	for (i = 0; i < 62; i++)
		CHECK(counts[i] > 100 && counts[i] < 320);	/* mean 200 */
	passwords();
	bcrypt();
	return unit_done("secrets");
}
