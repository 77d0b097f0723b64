/*
 * JSON output: trees are converted to jansson's and jansson writes them
 * (its string escaping).  Reading is ours (read.c), straight into trees.
 */
#include <jansson.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

/*
 * jansson's memory is wiped when freed: its copies of a response hold
 * whatever the response held (a Secret's values, a plugin's token), and
 * jansson frees them as it goes.
 */
static void
wiping_free(void *p)
{
	if (p) {
		explicit_bzero(p, malloc_usable_size(p));
		free(p);
	}
}

static void *
checked_malloc(size_t n)
{
	return xmalloc(n);
}

static void
json_setup(void)
{
	static int done;

	if (!done) {
		json_set_alloc_funcs(checked_malloc, wiping_free);
		done = 1;
	}
}

/*
 * A YAML integer's value, as kubectl reads YAML: 0x1F hex, 0o17 and 017
 * octal (a leading zero followed by octal digits), else decimal.
 */
static long long
yaml_int(const struct ynode *n)
{
	const char *s = n->str;

	if (strncmp(s, "0x", 2) == 0)
		return strtoll(s + 2, NULL, 16);
	if (strncmp(s, "0o", 2) == 0)
		return strtoll(s + 2, NULL, 8);
	if (s[0] == '0' && s[1] && strspn(s, "01234567") == n->len)
		return strtoll(s, NULL, 8);
	return strtoll(s, NULL, 10);
}

const char *
json_scalar_text(const struct ynode *n, char *buf, size_t size, size_t *len)
{
	const char *t = n->str;

	switch (n->type) {
	case YT_INT:
		snprintf(buf, size, "%lld", yaml_int(n));
		t = buf;
		break;
	case YT_FLOAT: {
		const char *d = n->str + (*n->str == '+' || *n->str == '-');

		if (*d == '.')	/* .inf, .nan: no JSON for them */
			break;
		snprintf(buf, size, "%.17g", strtod(n->str, NULL));
		t = buf;
		break;
	}
	case YT_BOOL:
		t = n->str[0] == 't' || n->str[0] == 'T' ? "true" : "false";
		break;
	case YT_NULL:
	case YT_STR:
		*len = n->len;
		return n->str;
	}
	*len = strlen(t);
	return t;
}

static json_t *
to_json(const struct ynode *n, unsigned depth, struct s7_error *err)
{
	json_t *j;
	size_t i;

	if (depth > JSON_MAX_DEPTH) {
		s7_error(err, "nesting is too deep for JSON");
		return NULL;
	}
	if (n->kind == Y_SEQ) {
		j = json_array();
		for (i = 0; i < n->n; i++) {
			json_t *c = to_json(n->v[i], depth + 1, err);

			if (c == NULL) {
				json_decref(j);
				return NULL;
			}
			json_array_append_new(j, c);
		}
		return j;
	}
	if (n->kind == Y_MAP) {
		j = json_object();
		for (i = 0; i < n->n; i++) {
			const struct ynode *k = n->v[2 * i];
			json_t *c = to_json(n->v[2 * i + 1], depth + 1, err);

			if (c == NULL) {
				json_decref(j);
				return NULL;
			}
			json_object_setn_new_nocheck(j, k->str, k->len, c);
		}
		return j;
	}
	switch (n->type) {
	case YT_NULL:
		return json_null();
	case YT_BOOL:
		return json_boolean(n->str[0] == 't' || n->str[0] == 'T');
	case YT_INT:
		return json_integer(yaml_int(n));
	case YT_FLOAT: {
		const char *s = n->str + (*n->str == '+' || *n->str == '-');

		if (*s == '.' && (s[1] == 'i' || s[1] == 'I' || s[1] == 'n' ||
		    s[1] == 'N')) {
			s7_error(err, "'%s' cannot be written as JSON", n->str);
			return NULL;
		}
		return json_real(strtod(n->str, NULL));
	}
	case YT_STR:
		break;
	}
	return json_stringn_nocheck(n->str, n->len);
}

static int
dump_cb(const char *buffer, size_t size, void *data)
{
	return strbuf_add(data, buffer, size);
}

int
json_emit(struct strbuf *sb, const struct ynode *n, int flags,
    struct s7_error *err)
{
	json_t *j;
	size_t jf = JSON_ENCODE_ANY | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17);
	int r;

	json_setup();
	j = to_json(n, 0, err);
	if (j == NULL)
		return -1;
	if (flags & JSON_PRETTY)
		jf |= JSON_INDENT(2);
	else
		jf |= JSON_COMPACT;
	r = json_dump_callback(j, dump_cb, sb, jf);
	json_decref(j);
	if (r == 0 && (flags & JSON_PRETTY))
		r = strbuf_addch(sb, '\n');
	if (r != 0)
		return s7_error(err, "JSON output is larger than %zu bytes",
		    sb->max);
	return 0;
}
