#include <string.h>

#include "base64.h"
#include "banned.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
base64_encode(struct strbuf *out, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		char q[4] = {
			alphabet[p[i] >> 2],
			alphabet[((p[i] & 3) << 4) | (p[i + 1] >> 4)],
			alphabet[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)],
			alphabet[p[i + 2] & 63],
		};
		if (strbuf_add(out, q, 4) < 0)
			return -1;
	}
	if (len - i == 1) {
		char q[4] = { alphabet[p[i] >> 2], alphabet[(p[i] & 3) << 4],
		    '=', '=' };
		return strbuf_add(out, q, 4);
	}
	if (len - i == 2) {
		char q[4] = { alphabet[p[i] >> 2],
		    alphabet[((p[i] & 3) << 4) | (p[i + 1] >> 4)],
		    alphabet[(p[i + 1] & 15) << 2], '=' };
		return strbuf_add(out, q, 4);
	}
	return 0;
}

int
base64_decode(struct strbuf *out, const char *in, size_t len)
{
	unsigned acc = 0;
	int bits = 0, pad = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		const char *p;
		unsigned char c = (unsigned char)in[i];

		if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad || c == '\0' || (p = strchr(alphabet, c)) == NULL)
			return -1;
		acc = (acc << 6) | (unsigned)(p - alphabet);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (strbuf_addch(out, (int)((acc >> bits) & 0xff)) < 0)
				return -1;
		}
	}
	if (pad > 2 || bits >= 6)
		return -1;
	return 0;
}
