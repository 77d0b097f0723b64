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

#endif
