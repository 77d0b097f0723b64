/* SHA-256 as lowercase hex (65 bytes with the NUL). */
#ifndef S7_DIGEST_H
#define S7_DIGEST_H

#include <stddef.h>

#define SHA256_HEXLEN 65

void sha256_hex(const void *data, size_t len, char out[SHA256_HEXLEN]);

#endif
