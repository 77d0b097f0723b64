/* Standard base64 (RFC 4648), as Kubernetes uses for Secret data. */
#ifndef S7_BASE64_H
#define S7_BASE64_H

#include <stddef.h>

#include "strbuf.h"

int base64_encode(struct strbuf *out, const void *data, size_t len);
/* Ignores whitespace; returns -1 on any other non-alphabet byte. */
int base64_decode(struct strbuf *out, const char *in, size_t len);

#endif
