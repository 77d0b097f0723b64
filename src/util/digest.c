#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>

#include "digest.h"
#include "banned.h"

void
sha256_hex(const void *data, size_t len, char out[SHA256_HEXLEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	static const char hex[] = "0123456789abcdef";

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32) {
		fprintf(stderr, "sector7: internal error: sha256 failed\n");
		abort();
	}
	for (i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}
