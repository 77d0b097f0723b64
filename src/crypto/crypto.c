#include <crypt.h>
#include <errno.h>
#include <limits.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
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

void
crypto_sha1(const void *data, size_t len, unsigned char out[SHA1_LEN])
{
	unsigned int mdlen = 0;

	if (EVP_Digest(data, len, out, &mdlen, EVP_sha1(), NULL) != 1 ||
	    mdlen != SHA1_LEN)
		broken("sha1");
}

/* OpenSSL's first queued error as text (and the queue emptied). */
static const char *
ossl_why(char *buf, size_t size)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		snprintf(buf, size, "unknown error");
	else
		ERR_error_string_n(e, buf, size);
	ERR_clear_error();
	return buf;
}

static X509 *
read_cert(const char *pem, size_t len, struct s7_error *err)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	X509 *x = NULL;
	char why[256];

	if (b == NULL || len > INT_MAX) {
		BIO_free(b);
		s7_error(err, "recipient certificate: too large");
		return NULL;
	}
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (x == NULL)
		s7_error(err, "recipient certificate: not a PEM certificate: %s",
		    ossl_why(why, sizeof(why)));
	return x;
}

int
crypto_cert_info(const char *cert_pem, size_t len,
    char subject[CERT_SUBJECT_MAX], char sha256[SHA256_HEXLEN],
    struct s7_error *err)
{
	X509 *x = read_cert(cert_pem, len, err);
	EVP_PKEY *pk;
	unsigned char *der = NULL;
	int n, id, ret = -1;

	if (x == NULL)
		return -1;
	pk = X509_get0_pubkey(x);
	id = pk ? EVP_PKEY_get_base_id(pk) : 0;
	if (id != EVP_PKEY_RSA && id != EVP_PKEY_EC) {
		s7_error(err, "recipient certificate: its key is neither RSA nor EC");
		goto done;
	}
	n = i2d_X509(x, &der);
	if (n <= 0) {
		s7_error(err, "recipient certificate: cannot encode it");
		goto done;
	}
	sha256_hex(der, (size_t)n, sha256);
	OPENSSL_free(der);
	X509_NAME_oneline(X509_get_subject_name(x), subject, CERT_SUBJECT_MAX);
	ret = 0;
done:
	X509_free(x);
	return ret;
}

int
crypto_cms_encrypt(const char *cert_pem, size_t cert_len, const void *data,
    size_t len, struct strbuf *out, struct s7_error *err)
{
	STACK_OF(X509) *certs = NULL;
	X509 *x = read_cert(cert_pem, cert_len, err);
	BIO *in = NULL, *mem = NULL;
	CMS_ContentInfo *cms = NULL;
	char *p;
	long n;
	char why[256];
	int ret = -1;

	if (x == NULL)
		return -1;
	if (len > INT_MAX) {
		s7_error(err, "cms: content too large");
		goto done;
	}
	certs = sk_X509_new_null();
	if (certs == NULL || !sk_X509_push(certs, x))
		broken("cms");
	in = BIO_new_mem_buf(data, (int)len);
	mem = BIO_new(BIO_s_mem());
	if (in == NULL || mem == NULL)
		broken("cms");
	/* CMS_BINARY: the content is bytes, not text to canonicalise. */
	cms = CMS_encrypt(certs, in, EVP_aes_256_cbc(), CMS_BINARY);
	if (cms == NULL) {
		s7_error(err, "cms: cannot encrypt: %s",
		    ossl_why(why, sizeof(why)));
		goto done;
	}
	if (i2d_CMS_bio(mem, cms) != 1) {
		s7_error(err, "cms: cannot encode: %s",
		    ossl_why(why, sizeof(why)));
		goto done;
	}
	n = BIO_get_mem_data(mem, &p);
	if (n <= 0 || strbuf_add(out, p, (size_t)n) < 0) {
		s7_error(err, "cms: the envelope does not fit");
		goto done;
	}
	ret = 0;
done:
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	BIO_free(mem);
	sk_X509_free(certs);
	X509_free(x);
	return ret;
}

int
crypto_cms_decrypt(const char *key_pem, size_t key_len, const void *in,
    size_t len, struct strbuf *out, struct s7_error *err)
{
	BIO *kb = NULL, *ib = NULL, *ob = NULL;
	EVP_PKEY *pk = NULL;
	CMS_ContentInfo *cms = NULL;
	char why[256];
	char *p;
	long n;
	int ret = -1;

	if (key_len > INT_MAX || len > INT_MAX)
		return s7_error(err, "cms: input too large");
	kb = BIO_new_mem_buf(key_pem, (int)key_len);
	ib = BIO_new_mem_buf(in, (int)len);
	ob = BIO_new(BIO_s_secmem());
	if (ob == NULL)
		ob = BIO_new(BIO_s_mem());
	if (kb == NULL || ib == NULL || ob == NULL)
		broken("cms");
	pk = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
	if (pk == NULL) {
		s7_error(err, "private key: not a PEM private key (or a wrong passphrase): %s",
		    ossl_why(why, sizeof(why)));
		goto done;
	}
	cms = d2i_CMS_bio(ib, NULL);
	if (cms == NULL) {
		s7_error(err, "cms: not a DER CMS structure: %s",
		    ossl_why(why, sizeof(why)));
		goto done;
	}
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_enveloped) {
		s7_error(err, "cms: not an EnvelopedData");
		goto done;
	}
	/* No certificate: every recipient is tried with the key (and a
	 * wrong key gives an error, not random bytes: CMS_DEBUG_DECRYPT). */
	if (CMS_decrypt(cms, pk, NULL, NULL, ob, CMS_BINARY | CMS_DEBUG_DECRYPT)
	    != 1) {
		s7_error(err, "cms: cannot decrypt (is it the key of the backup's recipient?): %s",
		    ossl_why(why, sizeof(why)));
		goto done;
	}
	n = BIO_get_mem_data(ob, &p);
	if (n < 0 || strbuf_add(out, p, (size_t)n) < 0) {
		s7_error(err, "cms: the content does not fit");
		goto done;
	}
	if (n > 0)
		OPENSSL_cleanse(p, (size_t)n);
	ret = 0;
done:
	CMS_ContentInfo_free(cms);
	EVP_PKEY_free(pk);
	BIO_free(kb);
	BIO_free(ib);
	BIO_free(ob);
	return ret;
}
