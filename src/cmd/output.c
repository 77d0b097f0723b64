/*
 * The JSON side is a streaming writer: a stack of open containers, each
 * remembering whether it has an item yet (for the commas), indented two
 * spaces a level as the tests and people read it.  Nothing is built in
 * memory, so a long listing costs no more than its widest line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "output.h"
#include "../util/strbuf.h"
#include "../util/banned.h"

#define DEPTH_MAX 32

static struct {
	int json;
	char root;		/* '{' or '[': opened at the first item */
	int depth;
	int items[DEPTH_MAX];	/* items written in each open container */
	char close[DEPTH_MAX];	/* '}' or ']' */
} out;

int
out_is_json(void)
{
	return out.json;
}

static void
indent(void)
{
	int i;

	for (i = 0; i < out.depth; i++)
		fputs("  ", stdout);
}

static void
json_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	putchar('"');
	for (; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", stdout);
			break;
		case '\\':
			fputs("\\\\", stdout);
			break;
		case '\n':
			fputs("\\n", stdout);
			break;
		case '\t':
			fputs("\\t", stdout);
			break;
		case '\r':
			fputs("\\r", stdout);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				printf("\\u%04x", *p);
			else
				putchar(*p);
		}
	}
	putchar('"');
}

static void open_container(const char *key, char open, char close);

/* A new item in the current container: comma, newline, indent, key. */
static void
item(const char *key)
{
	if (out.root) {
		char r = out.root;

		out.root = 0;
		open_container(NULL, r, r == '{' ? '}' : ']');
	}
	if (out.depth > 0 && out.items[out.depth - 1]++ > 0)
		putchar(',');
	if (out.depth > 0)
		putchar('\n');
	indent();
	if (key && out.depth > 0 && out.close[out.depth - 1] == '}') {
		json_str(key);
		fputs(": ", stdout);
	}
}

static void
open_container(const char *key, char open, char close)
{
	item(key);
	putchar(open);
	if (out.depth < DEPTH_MAX) {
		out.items[out.depth] = 0;
		out.close[out.depth] = close;
		out.depth++;
	}
}

static void
close_container(void)
{
	if (out.depth == 0)
		return;
	out.depth--;
	if (out.items[out.depth]) {
		putchar('\n');
		indent();
	}
	putchar(out.close[out.depth]);
	if (out.depth == 0)
		putchar('\n');
}

void
out_begin(int json)
{
	memset(&out, 0, sizeof(out));
	out.json = json;
	out.root = json ? '{' : 0;
}

void
out_begin_array(int json)
{
	memset(&out, 0, sizeof(out));
	out.json = json;
	out.root = json ? '[' : 0;
}

void
out_end(void)
{
	while (out.json && out.depth > 0)
		close_container();
}

void
out_open_object(const char *key)
{
	if (out.json)
		open_container(key, '{', '}');
}

void
out_close_object(void)
{
	if (out.json)
		close_container();
}

void
out_open_array(const char *key)
{
	if (out.json)
		open_container(key, '[', ']');
}

void
out_close_array(void)
{
	if (out.json)
		close_container();
}

static int
wanted(int mode)
{
	return (mode & (out.json ? OUT_JSON : OUT_TEXT)) != 0;
}

void
out_escape(struct strbuf *sb, const char *s, size_t len, size_t max,
    int keep_nl)
{
	size_t i, n = len < max ? len : max;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch < 0x20 && ch != '\t' && !(keep_nl && ch == '\n')) ||
		    ch == 0x7f)
			strbuf_addf(sb, "\\x%02x", ch);
		else
			strbuf_addch(sb, ch);
	}
	if (n < len)
		strbuf_addf(sb, "... (%zu bytes)", len);
}

void
out_escaped(FILE *fp, const char *s, size_t len, size_t max, int keep_nl)
{
	struct strbuf sb;

	strbuf_init(&sb, 8 * max + 64);
	out_escape(&sb, s, len, max, keep_nl);
	fwrite(sb.buf, 1, sb.len, fp);
	strbuf_release(&sb);
}

/*
 * The formats below come from the callers, as string literals; the
 * values they take are fixed per function, as in iproute2's print_*().
 */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

void
out_string(int mode, const char *key, const char *fmt, const char *v)
{
	struct strbuf sb;

	if (!wanted(mode))
		return;
	if (out.json) {
		item(key);
		if (v)
			json_str(v);
		else
			fputs("null", stdout);
		return;
	}
	/* Escaped into a buffer first, so the format's width applies. */
	strbuf_init(&sb, 8 * OUT_VALUE_MAX + 64);
	out_escape(&sb, v ? v : "", v ? strlen(v) : 0, OUT_VALUE_MAX, 0);
	printf(fmt, sb.buf);
	strbuf_release(&sb);
}

void
out_int(int mode, const char *key, const char *fmt, long long v)
{
	if (!wanted(mode))
		return;
	if (out.json) {
		item(key);
		printf("%lld", v);
	} else
		printf(fmt, v);
}

void
out_uint(int mode, const char *key, const char *fmt, unsigned long long v)
{
	if (!wanted(mode))
		return;
	if (out.json) {
		item(key);
		printf("%llu", v);
	} else
		printf(fmt, v);
}

void
out_float(int mode, const char *key, const char *fmt, double v)
{
	if (!wanted(mode))
		return;
	if (out.json) {
		item(key);
		printf("%.3f", v);
	} else
		printf(fmt, v);
}

void
out_bool(int mode, const char *key, const char *fmt, int v)
{
	if (!wanted(mode))
		return;
	if (out.json) {
		item(key);
		fputs(v ? "true" : "false", stdout);
	} else
		printf(fmt, v ? "true" : "false");
}

void
out_null(int mode, const char *key, const char *fmt)
{
	if (!wanted(mode))
		return;
	if (out.json) {
		item(key);
		fputs("null", stdout);
	} else
		fputs(fmt, stdout);
}

void
out_text(const char *fmt, ...)
{
	va_list ap;

	if (out.json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}
