/*
 * Fuzz target: response header lines as curl hands them over (status
 * line, ETag, Content-Type, Retry-After), and the escaping of outside
 * text.  Checked: a status is 0 or 100-999, Retry-After is -1 or 0 to a
 * day, kept values hold no control character, and escaping is
 * idempotent and leaves no control byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "util/strbuf.h"
#include "util/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_escape(const char *s, size_t len)
{
	struct strbuf a, b;
	size_t i;

	strbuf_init(&a, STRBUF_LARGE);
	strbuf_init(&b, STRBUF_LARGE);
	text_escape(&a, s, len, len, 0);
	text_escape(&b, a.buf, a.len, a.len, 0);
	if (a.len != b.len || memcmp(a.buf, b.buf, a.len) != 0)
		abort();
	for (i = 0; i < a.len; i++)
		if ((unsigned char)a.buf[i] < 0x20 || a.buf[i] == 0x7f)
			abort();
	strbuf_reset(&a);
	text_escape(&a, s, len, len / 2, 0);
	if (len / 2 < len && strstr(a.buf, "more bytes)") == NULL)
		abort();
	strbuf_release(&a);
	strbuf_release(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	struct http_req r;

	http_req_init(&r);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);

		http_parse_header(&r, p, len);
		if (r.status != 0 && (r.status < 100 || r.status > 999))
			abort();
		if (r.retry_after_ms < -1 || r.retry_after_ms > 86400000L)
			abort();
		if (text_has_control(r.etag, strlen(r.etag)) ||
		    text_has_control(r.content_type_out,
		    strlen(r.content_type_out)))
			abort();
		p += len;
	}
	http_req_release(&r);
	check_escape((const char *)data, size);
	return 0;
}
