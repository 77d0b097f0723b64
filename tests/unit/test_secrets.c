/* Secret generation: alphabets, lengths, and that values do not repeat. */
#include <stdlib.h>

#include "unit.h"
#include "kube/secrets.h"

static void
alphabet(enum secret_gen gen, long n, const char *set, size_t want_len)
{
	struct secret_key k = { "k", gen, n, NULL };
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

int
main(void)
{
	struct secret_key fixed = { "username", GEN_VALUE, 0, "n8n" };
	struct secret_key huge = { "k", GEN_ALNUM, 4096, NULL };
	struct s7_error err;
	char v[64];
	int counts[62] = { 0 }, i, j;
	static const char alnum[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

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
		struct secret_key k = { "k", GEN_ALNUM, 62, NULL };
		char x[80];

		CHECK(secret_generate(&k, x, sizeof(x), &err) == 0);
		for (j = 0; x[j]; j++)
			counts[strchr(alnum, x[j]) - alnum]++;
	}
	for (i = 0; i < 62; i++)
		CHECK(counts[i] > 100 && counts[i] < 320);	/* mean 200 */
	return unit_done("secrets");
}
