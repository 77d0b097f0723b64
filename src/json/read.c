/*
 * The JSON reader: text straight into node trees in the caller's arena,
 * with no tree of another library in between (a LIST of a hundred objects
 * was held twice while it was converted).  RFC 8259, strictly: UTF-8 only
 * (no overlong forms, no surrogates), no control bytes in strings, \u
 * escapes in valid pairs, no duplicate keys, integers that fit 64 bits.
 * "\u0000" is allowed in a string value (a Secret's bytes may hold it),
 * never in a key.
 *
 * Children are gathered on one stack and copied into an array of their
 * exact size when their container closes: nothing is allocated twice.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "../util/text.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

#define DUP_LINEAR 8		/* pairs compared one by one up to this */

struct reader {
	struct arena *a;
	const char *name;
	const unsigned char *buf, *p, *end;
	size_t nodes;
	struct ynode **stack;	/* children of the open containers */
	size_t nstack, capstack;
	const char *why;	/* the first error */
	const unsigned char *at;	/* and where */
};

static struct ynode *value(struct reader *r, unsigned depth);

static int
fail(struct reader *r, const unsigned char *at, const char *why)
{
	if (r->why == NULL) {
		r->why = why;
		r->at = at;
	}
	return -1;
}

static void
ws(struct reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' ||
	    *r->p == '\r' || *r->p == '\t'))
		r->p++;
}

static int
count(struct reader *r)
{
	if (++r->nodes > JSON_MAX_NODES)
		return fail(r, r->p, arena_printf(r->a, "more than %zu values",
		    JSON_MAX_NODES));
	return 0;
}

static void
stack_push(struct reader *r, struct ynode *n)
{
	if (r->nstack == r->capstack) {
		r->capstack = r->capstack ? r->capstack * 2 : 256;
		r->stack = xreallocarray(r->stack, r->capstack,
		    sizeof(*r->stack));
	}
	r->stack[r->nstack++] = n;
}

/* Past a container's opening byte: whether it closes at once. */
static int
closes_at_once(struct reader *r, char close)
{
	r->p++;
	ws(r);
	if (r->p < r->end && *r->p == close) {
		r->p++;
		return 1;
	}
	return 0;
}

/*
 * After an item of a container: 1 when a ',' says another follows, 0 past
 * its closing byte, -1 (why) for anything else.
 */
static int
more(struct reader *r, char close, const char *why)
{
	ws(r);
	if (r->p < r->end && *r->p == ',') {
		r->p++;
		ws(r);
		return 1;
	}
	if (r->p < r->end && *r->p == close) {
		r->p++;
		return 0;
	}
	return fail(r, r->p, why);
}

/* A scalar whose text is in the arena already. */
static struct ynode *
scalar_in_arena(struct reader *r, enum ytype t, const char *s, size_t len)
{
	struct ynode *n = arena_alloc(r->a, sizeof(*n));

	n->kind = Y_SCALAR;
	n->type = t;
	n->str = s;
	n->len = len;
	return n;
}

/* The children pushed since base, moved into n in an array of their size. */
static void
stack_take(struct reader *r, struct ynode *n, size_t base, size_t per)
{
	size_t k = r->nstack - base;

	if (k > 0) {
		n->v = arena_array(r->a, k, sizeof(*n->v));
		memcpy(n->v, r->stack + base, k * sizeof(*n->v));
	}
	n->n = k / per;
	n->cap = k;
	r->nstack = base;
}

/*
 * The length of the UTF-8 sequence at p (its first byte >= 0x80), or 0
 * when it is not a valid one: overlong forms, surrogates and code points
 * past U+10FFFF are not.
 */
static size_t
utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t n, i;
	uint32_t cp;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

static int
hex4(const unsigned char *p, const unsigned char *end, uint32_t *v)
{
	int i;

	*v = 0;
	if (end - p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		unsigned c = p[i];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			*v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			*v |= c - 'A' + 10;
		else
			return -1;
	}
	return 0;
}

static size_t
put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * A string; r->p at its opening quote.  The text goes to the arena as is
 * when it has no escape, else decoded (never longer than the source).
 */
static struct ynode *
string(struct reader *r, int key)
{
	const unsigned char *s = ++r->p, *q = s;
	char *o, *out;
	int escaped = 0;
	size_t k;

	for (;;) {
		if (q >= r->end) {
			fail(r, q, "unterminated string");
			return NULL;
		}
		if (*q == '"')
			break;
		if (*q == '\\') {
			escaped = 1;
			if (q + 1 >= r->end) {
				fail(r, q, "unterminated string");
				return NULL;
			}
			q += 2;
			continue;
		}
		if (*q < 0x20) {
			fail(r, q, "control character in a string");
			return NULL;
		}
		if (*q < 0x80) {
			q++;
			continue;
		}
		if ((k = utf8_len(q, r->end)) == 0) {
			fail(r, q, "invalid UTF-8 in a string");
			return NULL;
		}
		q += k;
	}
	r->p = q + 1;
	if (!escaped)
		return ynode_scalar(r->a, YT_STR, (const char *)s,
		    (size_t)(q - s));
	out = o = arena_alloc(r->a, (size_t)(q - s) + 1);
	while (s < q) {
		uint32_t cp, lo;

		if (*s != '\\') {
			*o++ = (char)*s++;
			continue;
		}
		switch (s[1]) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '/': *o++ = '/'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			if (hex4(s + 2, q, &cp) < 0) {
				fail(r, s, "invalid \\u escape");
				return NULL;
			}
			if (cp >= 0xdc00 && cp <= 0xdfff) {
				fail(r, s, "invalid Unicode escape (a lone low surrogate)");
				return NULL;
			}
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (q - (s + 6) < 6 || s[6] != '\\' || s[7] != 'u' ||
				    hex4(s + 8, q, &lo) < 0 || lo < 0xdc00 ||
				    lo > 0xdfff) {
					fail(r, s, "invalid Unicode escape (a high surrogate without its low one)");
					return NULL;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				s += 6;
			}
			if (cp == 0 && key) {
				fail(r, s, "\\u0000 in an object key");
				return NULL;
			}
			o += put_utf8(o, cp);
			s += 4;
			break;
		default:
			fail(r, s, "invalid escape in a string");
			return NULL;
		}
		s += 2;
	}
	*o = '\0';
	return scalar_in_arena(r, YT_STR, out, (size_t)(o - out));
}

static struct ynode *
number(struct reader *r)
{
	const unsigned char *s = r->p, *q = s;
	int real = 0;
	char buf[64], *text;
	size_t len;
	struct ynode *n;

	if (q < r->end && *q == '-')
		q++;
	if (q < r->end && *q == '0')
		q++;
	else if (q < r->end && *q >= '1' && *q <= '9')
		while (q < r->end && *q >= '0' && *q <= '9')
			q++;
	else {
		fail(r, s, "invalid number");
		return NULL;
	}
	if (q < r->end && *q == '.') {
		real = 1;
		if (++q >= r->end || *q < '0' || *q > '9') {
			fail(r, s, "invalid number");
			return NULL;
		}
		while (q < r->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < r->end && (*q == 'e' || *q == 'E')) {
		real = 1;
		q++;
		if (q < r->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= r->end || *q < '0' || *q > '9') {
			fail(r, s, "invalid number");
			return NULL;
		}
		while (q < r->end && *q >= '0' && *q <= '9')
			q++;
	}
	len = (size_t)(q - s);
	text = arena_strndup(r->a, (const char *)s, len);
	errno = 0;
	if (!real) {
		long long v = strtoll(text, NULL, 10);

		if (errno == ERANGE) {
			fail(r, s, "an integer too large for 64 bits");
			return NULL;
		}
		if (v == 0)	/* "-0" */
			text = "0", len = 1;
		n = scalar_in_arena(r, YT_INT, text, len);
	} else {
		double d = strtod(text, NULL);

		if (errno == ERANGE && (d > 1 || d < -1)) {
			fail(r, s, "a real number too large");
			return NULL;
		}
		xsnprintf(buf, sizeof(buf), "%.17g", d);
		n = ynode_scalar(r->a, YT_FLOAT, buf, strlen(buf));
	}
	r->p = q;
	return n;
}

static int
key_equal(const struct ynode *x, const struct ynode *y)
{
	return x->len == y->len && memcmp(x->str, y->str, x->len) == 0;
}

static uint64_t
key_hash(const struct ynode *k)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */
	size_t i;

	for (i = 0; i < k->len; i++)
		h = (h ^ (unsigned char)k->str[i]) * 1099511628211ULL;
	return h;
}

/* Whether the keys v[0], v[2], ... (n pairs) hold a duplicate: its index. */
static long
duplicate(struct ynode *const *v, size_t n)
{
	size_t i, j, size, *slot;
	long dup = -1;

	if (n <= DUP_LINEAR) {
		for (i = 1; i < n; i++)
			for (j = 0; j < i; j++)
				if (key_equal(v[2 * i], v[2 * j]))
					return (long)i;
		return -1;
	}
	for (size = 16; size < 2 * n; size *= 2)
		;
	slot = xcalloc(size, sizeof(*slot));	/* index + 1; 0: free */
	for (i = 0; i < n && dup < 0; i++) {
		size_t h = (size_t)key_hash(v[2 * i]) & (size - 1);

		for (; slot[h]; h = (h + 1) & (size - 1))
			if (key_equal(v[2 * (slot[h] - 1)], v[2 * i])) {
				dup = (long)i;
				break;
			}
		slot[h] = i + 1;
	}
	free(slot);
	return dup;
}

static struct ynode *
object(struct reader *r, unsigned depth)
{
	const unsigned char *open = r->p;
	size_t base = r->nstack;
	struct ynode *n = ynode_map(r->a), *k, *v;
	char shown[120];
	int more_items;
	long dup;

	if (closes_at_once(r, '}'))
		return n;
	do {
		if (r->p >= r->end || *r->p != '"') {
			fail(r, r->p, "string or '}' expected");
			return NULL;
		}
		if ((k = string(r, 1)) == NULL)
			return NULL;
		k->file = r->name;
		ws(r);
		if (r->p >= r->end || *r->p != ':') {
			fail(r, r->p, "':' expected");
			return NULL;
		}
		r->p++;
		ws(r);
		if ((v = value(r, depth + 1)) == NULL)
			return NULL;
		stack_push(r, k);
		stack_push(r, v);
	} while ((more_items = more(r, '}', "',' or '}' expected")) > 0);
	if (more_items < 0)
		return NULL;
	if ((dup = duplicate(r->stack + base, (r->nstack - base) / 2)) >= 0) {
		const struct ynode *d = r->stack[base + 2 * (size_t)dup];

		r->nstack = base;
		fail(r, open, arena_printf(r->a, "duplicate object key '%s'",
		    text_clean(shown, sizeof(shown), d->str)));
		return NULL;
	}
	stack_take(r, n, base, 2);
	return n;
}

static struct ynode *
array(struct reader *r, unsigned depth)
{
	size_t base = r->nstack;
	struct ynode *n = ynode_seq(r->a), *v;
	int more_items;

	if (closes_at_once(r, ']'))
		return n;
	do {
		if ((v = value(r, depth + 1)) == NULL)
			return NULL;
		stack_push(r, v);
	} while ((more_items = more(r, ']', "',' or ']' expected")) > 0);
	if (more_items < 0)
		return NULL;
	stack_take(r, n, base, 1);
	return n;
}

static int
word(struct reader *r, const char *w)
{
	size_t len = strlen(w);

	if ((size_t)(r->end - r->p) < len || memcmp(r->p, w, len) != 0)
		return 0;
	r->p += len;
	return 1;
}

static struct ynode *
value(struct reader *r, unsigned depth)
{
	struct ynode *n;

	if (depth > JSON_MAX_DEPTH) {
		fail(r, r->p, arena_printf(r->a,
		    "nesting is too deep (more than %d levels)", JSON_MAX_DEPTH));
		return NULL;
	}
	if (count(r) < 0)
		return NULL;
	if (r->p >= r->end) {
		fail(r, r->p, "a value expected");
		return NULL;
	}
	switch (*r->p) {
	case '{':
		n = object(r, depth);
		break;
	case '[':
		n = array(r, depth);
		break;
	case '"':
		n = string(r, 0);
		break;
	case 't':
		n = word(r, "true") ? ynode_bool(r->a, 1) : NULL;
		break;
	case 'f':
		n = word(r, "false") ? ynode_bool(r->a, 0) : NULL;
		break;
	case 'n':
		n = word(r, "null") ? ynode_null(r->a) : NULL;
		break;
	default:
		if (*r->p == '-' || (*r->p >= '0' && *r->p <= '9'))
			n = number(r);
		else
			n = NULL;
		break;
	}
	if (n == NULL) {
		fail(r, r->p, "a value expected");
		return NULL;
	}
	n->file = r->name;
	return n;
}

/* Line and column (1-based, in bytes) of at. */
static void
position(const struct reader *r, const unsigned char *at, unsigned *line,
    unsigned *col)
{
	const unsigned char *p, *bol = r->buf;

	*line = 1;
	for (p = r->buf; p < at && p < r->end; p++)
		if (*p == '\n') {
			(*line)++;
			bol = p + 1;
		}
	*col = (unsigned)(at - bol) + 1;
}

int
json_parse(struct arena *a, const char *name, const char *buf, size_t len,
    struct ynode **out, struct s7_error *err)
{
	struct reader r;
	struct ynode *n;
	unsigned line, col;

	memset(&r, 0, sizeof(r));
	r.a = a;
	r.name = name;
	r.buf = r.p = (const unsigned char *)buf;
	r.end = r.buf + len;
	*out = NULL;
	ws(&r);
	n = value(&r, 0);
	if (n) {
		ws(&r);
		if (r.p != r.end) {
			fail(&r, r.p, "end of input expected");
			n = NULL;
		}
	}
	free(r.stack);
	if (n == NULL) {
		position(&r, r.at, &line, &col);
		return s7_error_at(err, name, line, col, "invalid JSON: %s",
		    r.why);
	}
	*out = n;
	return 0;
}
