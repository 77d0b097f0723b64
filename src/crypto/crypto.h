/*
 * Everything cryptographic sector7 does, behind one module: the only code
 * that includes OpenSSL or libcrypt.  Random values come from the OS
 * (getrandom), digests from OpenSSL, bcrypt from libcrypt (libxcrypt).
 * Nothing here keeps state; buffers that held secrets are wiped before
 * they are returned to the allocator.
 */
#ifndef S7_CRYPTO_H
#define S7_CRYPTO_H

#include <stddef.h>

#include "../util/error.h"
#include "../util/strbuf.h"

#define SHA256_LEN 32
#define SHA256_HEXLEN 65	/* with the NUL */
#define BCRYPT_MAX 128

/* n bytes from the OS random source (getrandom, retried on EINTR). */
int crypto_random(void *buf, size_t n, struct s7_error *err);

void crypto_sha256(const void *data, size_t len, unsigned char out[SHA256_LEN]);
/* SHA-256 as lowercase hex. */
void sha256_hex(const void *data, size_t len, char out[SHA256_HEXLEN]);

/* An incremental SHA-256, for files read in pieces. */
struct crypto_sha256_ctx;
struct crypto_sha256_ctx *crypto_sha256_begin(void);
void crypto_sha256_add(struct crypto_sha256_ctx *c, const void *data,
    size_t len);
/* Writes the hex digest and frees c. */
void crypto_sha256_end(struct crypto_sha256_ctx *c, char out[SHA256_HEXLEN]);

/*
 * The bcrypt hash of pw ($2a$, 2^cost rounds, a random salt) in out, and
 * whether hash is the bcrypt hash of pw (compared in constant time).
 */
int crypto_bcrypt(const char *pw, int cost, char out[BCRYPT_MAX],
    struct s7_error *err);
int crypto_bcrypt_ok(const char *pw, const char *hash);

/* Whether a and b (n bytes each) are equal, in constant time. */
int crypto_memeq(const void *a, const void *b, size_t n);

/* SHA-1, for the WebSocket handshake (RFC 6455) only. */
#define SHA1_LEN 20
void crypto_sha1(const void *data, size_t len, unsigned char out[SHA1_LEN]);

/*
 * Backups: CMS (RFC 5652) EnvelopedData, the content encrypted with
 * AES-256-CBC under a random key that is encrypted to one recipient
 * certificate (RSA or EC), written as DER.  Any CMS tool decrypts it:
 *   openssl cms -decrypt -inform DER -in FILE -inkey KEY.pem
 *
 * crypto_cert_info checks that cert (PEM) is one X.509 certificate that
 * can receive such an envelope and gives its subject and the sha256 of
 * its DER form (for the backup's manifest).
 */
#define CERT_SUBJECT_MAX 256
int crypto_cert_info(const char *cert_pem, size_t len,
    char subject[CERT_SUBJECT_MAX], char sha256[SHA256_HEXLEN],
    struct s7_error *err);
/* Appends the DER envelope of data[0..len) for cert_pem to out. */
int crypto_cms_encrypt(const char *cert_pem, size_t cert_len,
    const void *data, size_t len, struct strbuf *out, struct s7_error *err);
/*
 * Appends the content of the DER envelope in[0..len) to out, decrypted
 * with the recipient's private key (PEM; an encrypted key asks for its
 * passphrase on the terminal).  out holds a secret: the caller releases
 * it with strbuf_release_secret.
 */
int crypto_cms_decrypt(const char *key_pem, size_t key_len, const void *in,
    size_t len, struct strbuf *out, struct s7_error *err);

#endif
