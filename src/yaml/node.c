#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

struct ynode *
ynode_scalar(struct arena *a, enum ytype t, const char *s, size_t len)
{
	struct ynode *n = arena_alloc(a, sizeof(*n));

	n->kind = Y_SCALAR;
	n->type = t;
	n->str = arena_strndup(a, s, len);
	n->len = len;
	return n;
}

struct ynode *
ynode_str(struct arena *a, const char *s)
{
	return ynode_scalar(a, YT_STR, s, strlen(s));
}

struct ynode *
ynode_strf(struct arena *a, const char *fmt, ...)
{
	va_list ap, cp;
	struct ynode *n;
	char *p;
	int len;

	va_start(ap, fmt);
	va_copy(cp, ap);
	len = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (len < 0)
		len = 0;
	p = arena_alloc(a, (size_t)len + 1);
	vsnprintf(p, (size_t)len + 1, fmt, ap);
	va_end(ap);
	n = arena_alloc(a, sizeof(*n));
	n->kind = Y_SCALAR;
	n->type = YT_STR;
	n->str = p;
	n->len = (size_t)len;
	return n;
}

struct ynode *
ynode_int(struct arena *a, long long v)
{
	char buf[32];

	xsnprintf(buf, sizeof(buf), "%lld", v);
	return ynode_scalar(a, YT_INT, buf, strlen(buf));
}

struct ynode *
ynode_bool(struct arena *a, int v)
{
	return ynode_scalar(a, YT_BOOL, v ? "true" : "false", v ? 4 : 5);
}

struct ynode *
ynode_null(struct arena *a)
{
	return ynode_scalar(a, YT_NULL, "null", 4);
}

struct ynode *
ynode_seq(struct arena *a)
{
	struct ynode *n = arena_alloc(a, sizeof(*n));

	n->kind = Y_SEQ;
	return n;
}

struct ynode *
ynode_map(struct arena *a)
{
	struct ynode *n = arena_alloc(a, sizeof(*n));

	n->kind = Y_MAP;
	return n;
}

/* Makes room for `slots` more child pointers (arrays stay in the arena). */
static void
reserve(struct arena *a, struct ynode *n, size_t used, size_t slots)
{
	struct ynode **v;
	size_t cap;

	if (used + slots <= n->cap)
		return;
	cap = n->cap ? n->cap * 2 : 4;
	while (cap < used + slots)
		cap *= 2;
	v = arena_array(a, cap, sizeof(*v));
	if (used)
		memcpy(v, n->v, used * sizeof(*v));
	n->v = v;
	n->cap = cap;
}

void
ynode_push(struct arena *a, struct ynode *seq, struct ynode *item)
{
	reserve(a, seq, seq->n, 1);
	seq->v[seq->n++] = item;
}

void
ynode_map_append(struct arena *a, struct ynode *map, struct ynode *key,
    struct ynode *val)
{
	reserve(a, map, 2 * map->n, 2);
	map->v[2 * map->n] = key;
	map->v[2 * map->n + 1] = val;
	map->n++;
}

void
ynode_map_set(struct arena *a, struct ynode *map, const char *key,
    struct ynode *val)
{
	size_t i;

	for (i = 0; i < map->n; i++)
		if (strcmp(map->v[2 * i]->str, key) == 0) {
			map->v[2 * i + 1] = val;
			return;
		}
	ynode_map_append(a, map, ynode_str(a, key), val);
}

int
ynode_map_del(struct ynode *map, const char *key)
{
	size_t i;

	if (map == NULL || map->kind != Y_MAP)
		return 0;
	for (i = 0; i < map->n; i++)
		if (strcmp(map->v[2 * i]->str, key) == 0) {
			memmove(&map->v[2 * i], &map->v[2 * i + 2],
			    (map->n - i - 1) * 2 * sizeof(*map->v));
			map->n--;
			return 1;
		}
	return 0;
}

struct ynode *
ynode_get_key(const struct ynode *map, const char *key)
{
	size_t i;

	if (map == NULL || map->kind != Y_MAP)
		return NULL;
	for (i = 0; i < map->n; i++)
		if (strcmp(map->v[2 * i]->str, key) == 0)
			return map->v[2 * i];
	return NULL;
}

struct ynode *
ynode_get(const struct ynode *map, const char *key)
{
	size_t i;

	if (map == NULL || map->kind != Y_MAP)
		return NULL;
	for (i = 0; i < map->n; i++)
		if (strcmp(map->v[2 * i]->str, key) == 0)
			return map->v[2 * i + 1];
	return NULL;
}

struct ynode *
ynode_path(const struct ynode *n, const char *path)
{
	char key[256];
	const char *p = path, *dot;

	while (n && *p) {
		size_t l;

		dot = strchr(p, '.');
		l = dot ? (size_t)(dot - p) : strlen(p);
		if (l >= sizeof(key))
			return NULL;
		memcpy(key, p, l);
		key[l] = '\0';
		n = ynode_get(n, key);
		p += l + (dot != NULL);
	}
	return (struct ynode *)n;
}

const char *
ynode_get_str(const struct ynode *map, const char *key)
{
	const struct ynode *v = ynode_get(map, key);

	return v && v->kind == Y_SCALAR ? v->str : NULL;
}

const char *
ynode_get_string(const struct ynode *map, const char *key)
{
	const struct ynode *v = ynode_get(map, key);

	return v && v->kind == Y_SCALAR && v->type == YT_STR ? v->str : NULL;
}

const struct ynode *
ynode_get_map(const struct ynode *map, const char *key)
{
	const struct ynode *v = ynode_get(map, key);

	return v && v->kind == Y_MAP ? v : NULL;
}

const struct ynode *
ynode_get_seq(const struct ynode *map, const char *key)
{
	const struct ynode *v = ynode_get(map, key);

	return v && v->kind == Y_SEQ ? v : NULL;
}

int
ynode_boolean(const struct ynode *n, int *v)
{
	if (n == NULL || n->kind != Y_SCALAR || n->type != YT_BOOL)
		return -1;
	*v = n->str[0] == 't' || n->str[0] == 'T';
	return 0;
}

/* Bytes a packed copy of n needs (see ynode_pack). */
static size_t
pack_size(const struct ynode *n)
{
	size_t sz = sizeof(*n), i, slots;

	if (n->kind == Y_SCALAR)
		return sz + ((n->len + 1 + 15) & ~(size_t)15);
	slots = n->kind == Y_MAP ? 2 * n->n : n->n;
	sz += ((slots * sizeof(*n->v)) + 15) & ~(size_t)15;
	for (i = 0; i < slots; i++)
		sz += pack_size(n->v[i]);
	return sz;
}

static struct ynode *
pack_into(const struct ynode *n, char **p)
{
	struct ynode *c = (struct ynode *)*p;
	size_t i, slots;

	*p += sizeof(*c);
	*c = *n;
	if (n->kind == Y_SCALAR) {
		char *t = *p;

		memcpy(t, n->str, n->len);
		t[n->len] = '\0';
		c->str = t;
		*p += (n->len + 1 + 15) & ~(size_t)15;
		c->v = NULL;
		c->cap = 0;
		return c;
	}
	slots = n->kind == Y_MAP ? 2 * n->n : n->n;
	c->v = slots ? (struct ynode **)*p : NULL;
	c->cap = slots;
	*p += ((slots * sizeof(*n->v)) + 15) & ~(size_t)15;
	for (i = 0; i < slots; i++)
		c->v[i] = pack_into(n->v[i], p);
	return c;
}

struct ynode *
ynode_pack(const struct ynode *n, size_t *bytes)
{
	size_t sz = pack_size(n);
	char *block = xmalloc(sz), *p = block;
	struct ynode *c = pack_into(n, &p);

	if (bytes)
		*bytes = sz;
	return c;
}

void
ynode_pack_free(struct ynode *packed, size_t bytes, int wipe)
{
	if (packed && wipe)
		explicit_bzero(packed, bytes);
	free(packed);
}

void
ynode_wipe(struct ynode *n)
{
	size_t i, slots;

	if (n == NULL)
		return;
	if (n->kind == Y_SCALAR) {
		if (n->str && n->len)
			explicit_bzero((char *)n->str, n->len);
		return;
	}
	slots = n->kind == Y_MAP ? 2 * n->n : n->n;
	for (i = 0; i < slots; i++)
		ynode_wipe(n->v[i]);
}

size_t
ynode_count(const struct ynode *n)
{
	size_t c = 1, i, slots;

	if (n == NULL)
		return 0;
	if (n->kind == Y_SCALAR)
		return 1;
	slots = n->kind == Y_MAP ? 2 * n->n : n->n;
	for (i = 0; i < slots; i++)
		c += ynode_count(n->v[i]);
	return c;
}

struct ynode *
ynode_copy(struct arena *a, const struct ynode *n)
{
	struct ynode *c = arena_alloc(a, sizeof(*c));
	size_t i, slots;

	*c = *n;
	if (n->kind == Y_SCALAR)
		return c;	/* scalar text is immutable: share it */
	slots = n->kind == Y_MAP ? 2 * n->n : n->n;
	c->v = slots ? arena_array(a, slots, sizeof(*c->v)) : NULL;
	c->cap = slots;
	for (i = 0; i < slots; i++)
		c->v[i] = ynode_copy(a, n->v[i]);
	return c;
}

int
ynode_equal(const struct ynode *x, const struct ynode *y)
{
	size_t i;

	if (x->kind != y->kind || x->n != y->n)
		return 0;
	if (x->kind == Y_SCALAR) {
		if (x->type == YT_NULL || y->type == YT_NULL)
			return x->type == y->type;	/* ~, null and "" alike */
		return x->type == y->type && x->len == y->len &&
		    memcmp(x->str, y->str, x->len) == 0;
	}
	if (x->kind == Y_SEQ) {
		for (i = 0; i < x->n; i++)
			if (!ynode_equal(x->v[i], y->v[i]))
				return 0;
		return 1;
	}
	/* Mappings compare as sets of pairs. */
	for (i = 0; i < x->n; i++) {
		const struct ynode *o = ynode_get(y, x->v[2 * i]->str);

		if (o == NULL || !ynode_equal(x->v[2 * i + 1], o))
			return 0;
	}
	return 1;
}

struct ynode *
ynode_merge_patch(struct arena *a, const struct ynode *target,
    const struct ynode *patch)
{
	struct ynode *out;
	size_t i;

	if (patch->kind != Y_MAP)
		return ynode_copy(a, patch);
	if (target == NULL || target->kind != Y_MAP)
		out = ynode_map(a);
	else
		out = ynode_copy(a, target);
	for (i = 0; i < patch->n; i++) {
		const char *k = patch->v[2 * i]->str;
		const struct ynode *pv = patch->v[2 * i + 1];

		if (pv->kind == Y_SCALAR && pv->type == YT_NULL)
			ynode_map_del(out, k);
		else
			ynode_map_set(a, out, k,
			    ynode_merge_patch(a, ynode_get(out, k), pv));
	}
	return out;
}

static int
all_in(const char *s, const char *set)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (strchr(set, *s) == NULL)
			return 0;
	return 1;
}

static int
is_float(const char *s)
{
	const char *p = s;
	int digits = 0;

	if (*p == '+' || *p == '-')
		p++;
	if (strcmp(p, ".inf") == 0 || strcmp(p, ".Inf") == 0 ||
	    strcmp(p, ".INF") == 0)
		return 1;
	if (p == s && (strcmp(p, ".nan") == 0 || strcmp(p, ".NaN") == 0 ||
	    strcmp(p, ".NAN") == 0))
		return 1;
	while (*p >= '0' && *p <= '9') {
		p++;
		digits++;
	}
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			p++;
			digits++;
		}
	}
	if (digits == 0)
		return 0;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

enum ytype
ynode_resolve_plain(const char *s)
{
	const char *p = s;

	if (*s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0)
		return YT_NULL;
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 ||
	    strcmp(s, "TRUE") == 0 || strcmp(s, "false") == 0 ||
	    strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0)
		return YT_BOOL;
	if (strncmp(s, "0x", 2) == 0 && all_in(s + 2, "0123456789abcdefABCDEF"))
		return YT_INT;
	if (strncmp(s, "0o", 2) == 0 && all_in(s + 2, "01234567"))
		return YT_INT;
	if (*p == '+' || *p == '-')
		p++;
	if (all_in(p, "0123456789"))
		return YT_INT;
	if (is_float(s))
		return YT_FLOAT;
	return YT_STR;
}

int
ynode_needs_quotes(const char *s)
{
	static const char *const yaml11[] = {
		"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
		"on", "On", "ON", "off", "Off", "OFF", "=", "<<", NULL,
	};
	size_t i;

	if (ynode_resolve_plain(s) != YT_STR)
		return 1;
	for (i = 0; yaml11[i]; i++)
		if (strcmp(s, yaml11[i]) == 0)
			return 1;
	/*
	 * YAML 1.1 readers also take 1_000, 0b101 and 1:30 (base 60) as
	 * numbers, and go-yaml accepts whatever its number parsers accept.
	 */
	if ((*s >= '0' && *s <= '9') || *s == '+' || *s == '-' || *s == '.') {
		char buf[64], *end;
		size_t n = 0;
		const char *p;

		if (all_in(s, "0123456789:") && strchr(s, ':'))
			return 1;
		for (p = s; *p && n < sizeof(buf) - 1; p++)
			if (*p != '_')
				buf[n++] = *p;
		buf[n] = '\0';
		if (*p == '\0' && n > 0) {
			const char *d = buf + (buf[0] == '+' || buf[0] == '-');

			if (strncmp(d, "0b", 2) == 0 && d[2] &&
			    all_in(d + 2, "01"))
				return 1;
			strtod(buf, &end);
			if (*end == '\0')
				return 1;
			strtoll(buf, &end, 0);
			if (*end == '\0')
				return 1;
		}
	}
	return 0;
}

int
ynode_truthy(const struct ynode *n)
{
	if (n == NULL)
		return 0;
	if (n->kind != Y_SCALAR)
		return n->n > 0;
	switch (n->type) {
	case YT_NULL:
		return 0;
	case YT_BOOL:
		return n->str[0] == 't' || n->str[0] == 'T';
	case YT_INT:
	case YT_FLOAT:
		return ynode_resolve_plain(n->str) != YT_NULL &&
		    strspn(n->str, "+-0.") != n->len;
	case YT_STR:
		return n->len > 0;
	}
	return 0;
}

const char *
ynode_kind_name(const struct ynode *n)
{
	if (n == NULL)
		return "nothing";
	if (n->kind == Y_SEQ)
		return "a list";
	if (n->kind == Y_MAP)
		return "a mapping";
	switch (n->type) {
	case YT_NULL:
		return "null";
	case YT_BOOL:
		return "a boolean";
	case YT_INT:
		return "an integer";
	case YT_FLOAT:
		return "a number";
	case YT_STR:
		break;
	}
	return "a string";
}
