#include <stdio.h>
#include <string.h>

#include "applyset.h"
#include "../crypto/crypto.h"
#include "../util/base64.h"
#include "../util/strbuf.h"
#include "../util/banned.h"

void
applyset_id(const char *name, const char *namespace, char id[APPLYSET_ID_MAX])
{
	unsigned char md[SHA256_LEN];
	struct strbuf in, b64;
	size_t i;

	strbuf_init(&in, 4096);
	strbuf_init(&b64, 4096);
	strbuf_addf(&in, "%s.%s.Secret.", name, namespace);
	crypto_sha256(in.buf, in.len, md);
	base64_encode(&b64, md, sizeof(md));
	/* URL-safe alphabet, no padding (RFC 4648 section 5). */
	for (i = 0; i < b64.len; i++) {
		if (b64.buf[i] == '+')
			b64.buf[i] = '-';
		else if (b64.buf[i] == '/')
			b64.buf[i] = '_';
	}
	while (b64.len && b64.buf[b64.len - 1] == '=')
		strbuf_setlen(&b64, b64.len - 1);
	snprintf(id, APPLYSET_ID_MAX, "applyset-%s-v1", b64.buf);
	strbuf_release(&in);
	strbuf_release(&b64);
}

void
applyset_group_kind(const char *api_version, const char *kind, char *out,
    size_t size)
{
	const char *slash = strchr(api_version, '/');

	if (slash)
		snprintf(out, size, "%s.%.*s", kind, (int)(slash - api_version),
		    api_version);
	else
		snprintf(out, size, "%s", kind);
}
