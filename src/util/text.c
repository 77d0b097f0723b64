#include <string.h>

#include "text.h"
#include "banned.h"

unsigned
text_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	unsigned row[64], prev, tmp;

	if (la > 63 || lb > 63)
		return 255;
	for (j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = (unsigned)i;
		for (j = 1; j <= lb; j++) {
			unsigned best = prev + (a[i - 1] != b[j - 1]);

			tmp = row[j];
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb] > 255 ? 255 : row[lb];
}

const char *
text_suggest(const char *word, const char *const *cands)
{
	const char *best = NULL;
	unsigned bestd = 255, limit;
	size_t len = strlen(word);

	limit = len <= 3 ? 1 : len <= 6 ? 2 : 3;
	for (; *cands; cands++) {
		unsigned d = text_distance(word, *cands);

		if (d < bestd) {
			bestd = d;
			best = *cands;
		}
	}
	return bestd <= limit ? best : NULL;
}

int
text_is_dns_label(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-'))
			return 0;
	}
	return 1;
}

int
text_is_dns_name(const char *s)
{
	char label[64];
	size_t n = strlen(s), start = 0, i;

	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i <= n; i++) {
		if (s[i] == '.' || s[i] == '\0') {
			size_t l = i - start;

			if (l == 0 || l > 63)
				return 0;
			memcpy(label, s + start, l);
			label[l] = '\0';
			if (!text_is_dns_label(label))
				return 0;
			start = i + 1;
		}
	}
	return 1;
}

int
text_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int
text_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

void
text_url_escape(struct strbuf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
		    c == '~') {
			strbuf_addch(out, c);
		} else {
			strbuf_addch(out, '%');
			strbuf_addch(out, hex[c >> 4]);
			strbuf_addch(out, hex[c & 15]);
		}
	}
}

/*
 * Length of the UTF-8 sequence at s (at most n bytes) and its code point,
 * or 0 when the bytes are not a valid, shortest-form sequence.
 */
static size_t
utf8_seq(const unsigned char *s, size_t n, unsigned long *cp)
{
	size_t len, i;
	unsigned long c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 ||
	    c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Code points that change how the text around them is shown. */
static int
invisible(unsigned long c)
{
	return (c >= 0x80 && c <= 0x9f) || c == 0x061c ||
	    (c >= 0x200b && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) ||
	    (c >= 0x2060 && c <= 0x2069) || c == 0xfeff ||
	    (c >= 0xfff9 && c <= 0xfffb);
}

void
text_escape(struct strbuf *out, const char *str, size_t len, size_t max,
    unsigned flags)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	if (s == NULL)
		return;
	while (i < len) {
		unsigned long cp;
		size_t n = utf8_seq(s + i, len - i, &cp);

		if (i + (n ? n : 1) > max)
			break;
		if (n == 0) {
			strbuf_addstr(out, "\\x");
			strbuf_addch(out, hex[s[i] >> 4]);
			strbuf_addch(out, hex[s[i] & 15]);
			i++;
			continue;
		}
		if (cp == '\n' && (flags & TEXT_KEEP_NEWLINES))
			strbuf_addch(out, '\n');
		else if (cp == '\n')
			strbuf_addstr(out, "\\n");
		else if (cp == '\r')
			strbuf_addstr(out, "\\r");
		else if (cp == '\t')
			strbuf_addstr(out, "\\t");
		else if (cp < 0x20 || cp == 0x7f) {
			strbuf_addstr(out, "\\x");
			strbuf_addch(out, hex[cp >> 4]);
			strbuf_addch(out, hex[cp & 15]);
		} else if (invisible(cp))
			strbuf_addf(out, "\\u{%04lx}", cp);
		else
			strbuf_add(out, s + i, n);
		i += n;
	}
	if (i < len)
		strbuf_addf(out, "... (%zu more bytes)", len - i);
}

char *
text_escape_buf(char *buf, size_t size, const char *s, size_t len,
    size_t max)
{
	struct strbuf sb;
	size_t n;

	if (size == 0)
		return buf;
	/* Each input byte takes at most 8 output bytes (\u{202e}). */
	strbuf_init(&sb, (max < len ? max : len) * 8 + 64);
	text_escape(&sb, s, len, max, 0);
	n = sb.len < size - 1 ? sb.len : size - 1;
	/* Cut at a character boundary: never half a UTF-8 sequence. */
	while (n > 0 && n < sb.len &&
	    ((unsigned char)sb.buf[n] & 0xc0) == 0x80)
		n--;
	memcpy(buf, sb.buf, n);
	buf[n] = '\0';
	strbuf_release(&sb);
	return buf;
}

char *
text_clean(char *buf, size_t size, const char *s)
{
	if (s == NULL)
		s = "";
	return text_escape_buf(buf, size, s, strlen(s), size);
}

int
text_has_control(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 1;
	return 0;
}
