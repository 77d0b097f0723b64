#include <crypt.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "crypto.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

struct crypto_sha256_ctx {
	EVP_MD_CTX *md;
};

int
crypto_random(void *buf, size_t n, struct s7_error *err)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t got = getrandom(p, n, 0);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return s7_error(err, "getrandom: %s", strerror(errno));
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

/* OpenSSL failing to hash is a broken installation, not an input error. */
static void
broken(const char *what)
{
	fprintf(stderr, "sector7: internal error: %s failed\n", what);
	abort();
}

void
crypto_sha256(const void *data, size_t len, unsigned char out[SHA256_LEN])
{
	unsigned int mdlen = 0;

	if (EVP_Digest(data, len, out, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != SHA256_LEN)
		broken("sha256");
}

static void
hex(const unsigned char *md, char out[SHA256_HEXLEN])
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < SHA256_LEN; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[2 * SHA256_LEN] = '\0';
}

void
sha256_hex(const void *data, size_t len, char out[SHA256_HEXLEN])
{
	unsigned char md[SHA256_LEN];

	crypto_sha256(data, len, md);
	hex(md, out);
}

struct crypto_sha256_ctx *
crypto_sha256_begin(void)
{
	struct crypto_sha256_ctx *c = xcalloc(1, sizeof(*c));

	c->md = EVP_MD_CTX_new();
	if (c->md == NULL || EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1)
		broken("sha256");
	return c;
}

void
crypto_sha256_add(struct crypto_sha256_ctx *c, const void *data, size_t len)
{
	if (EVP_DigestUpdate(c->md, data, len) != 1)
		broken("sha256");
}

void
crypto_sha256_end(struct crypto_sha256_ctx *c, char out[SHA256_HEXLEN])
{
	unsigned char md[SHA256_LEN];
	unsigned int mdlen = 0;

	if (EVP_DigestFinal_ex(c->md, md, &mdlen) != 1 || mdlen != SHA256_LEN)
		broken("sha256");
	hex(md, out);
	EVP_MD_CTX_free(c->md);
	free(c);
}

int
crypto_bcrypt(const char *pw, int cost, char out[BCRYPT_MAX],
    struct s7_error *err)
{
	struct crypt_data *cd = xcalloc(1, sizeof(*cd));
	unsigned char rnd[16];
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	const char *h;
	int ret = -1;

	if (crypto_random(rnd, sizeof(rnd), err) < 0)
		goto done;
	/*
	 * $2a$, as bcryptjs (n8n's) and most libraries write it; for values
	 * shorter than 255 bytes $2a$ and $2b$ hash the same.
	 */
	if (crypt_gensalt_rn("$2a$", (unsigned long)cost, (const char *)rnd,
	    sizeof(rnd), salt, sizeof(salt)) == NULL) {
		s7_error(err, "bcrypt: %s", strerror(errno));
		goto done;
	}
	h = crypt_r(pw, salt, cd);
	if (h == NULL || h[0] == '*' || strlen(h) >= BCRYPT_MAX) {
		s7_error(err, "bcrypt: no hash");
		goto done;
	}
	memcpy(out, h, strlen(h) + 1);
	ret = 0;
done:
	explicit_bzero(cd, sizeof(*cd));
	explicit_bzero(rnd, sizeof(rnd));
	free(cd);
	return ret;
}

int
crypto_bcrypt_ok(const char *pw, const char *hash)
{
	struct crypt_data *cd;
	const char *h;
	int ok;

	if (strncmp(hash, "$2", 2) != 0)
		return 0;
	cd = xcalloc(1, sizeof(*cd));
	h = crypt_r(pw, hash, cd);
	ok = h != NULL && h[0] != '*' && strlen(h) == strlen(hash) &&
	    CRYPTO_memcmp(h, hash, strlen(h)) == 0;
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

int
crypto_memeq(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}
