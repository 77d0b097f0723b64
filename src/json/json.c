/*
 * jansson does the parsing and the string escaping; trees are converted
 * to and from our node type so the rest of the program has one tree.
 */
#include <jansson.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "../util/text.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

#define JSON_MAX_DEPTH 200

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

struct conv {
	struct arena *a;
	const char *name;
	size_t nodes;
	const char *why;	/* what stopped the conversion */
};

static struct ynode *
from_json(struct conv *cv, json_t *j, unsigned depth)
{
	struct arena *a = cv->a;
	struct ynode *n = NULL;
	const char *key;
	json_t *v;
	size_t i;
	char buf[64];

	if (depth > JSON_MAX_DEPTH) {
		cv->why = "JSON nesting is too deep";
		return NULL;
	}
	if (++cv->nodes > JSON_MAX_NODES) {
		cv->why = "the JSON document has too many values";
		return NULL;
	}
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		n = ynode_map(a);
		json_object_foreach(j, key, v) {
			struct ynode *c = from_json(cv, v, depth + 1);

			if (c == NULL)
				return NULL;
			ynode_map_append(a, n, ynode_str(a, key), c);
		}
		break;
	case JSON_ARRAY:
		n = ynode_seq(a);
		json_array_foreach(j, i, v) {
			struct ynode *c = from_json(cv, v, depth + 1);

			if (c == NULL)
				return NULL;
			ynode_push(a, n, c);
		}
		break;
	case JSON_STRING:
		n = ynode_scalar(a, YT_STR, json_string_value(j),
		    json_string_length(j));
		break;
	case JSON_INTEGER:
		xsnprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(j));
		n = ynode_scalar(a, YT_INT, buf, strlen(buf));
		break;
	case JSON_REAL:
		xsnprintf(buf, sizeof(buf), "%.17g", json_real_value(j));
		n = ynode_scalar(a, YT_FLOAT, buf, strlen(buf));
		break;
	case JSON_TRUE:
		n = ynode_bool(a, 1);
		break;
	case JSON_FALSE:
		n = ynode_bool(a, 0);
		break;
	case JSON_NULL:
		n = ynode_null(a);
		break;
	}
	if (n)
		n->file = cv->name;
	return n;
}

int
json_parse(struct arena *a, const char *name, const char *buf, size_t len,
    struct ynode **out, struct s7_error *err)
{
	json_error_t je;
	json_t *j;
	struct conv cv = { a, name, 0, NULL };
	char shown[200];

	json_setup();
	*out = NULL;
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY |
	    JSON_ALLOW_NUL, &je);
	if (j == NULL)
		return s7_error_at(err, name, je.line > 0 ? (unsigned)je.line : 0,
		    je.column > 0 ? (unsigned)je.column : 0, "invalid JSON: %s",
		    text_clean(shown, sizeof(shown), je.text));
	*out = from_json(&cv, j, 0);
	json_decref(j);
	if (*out == NULL)
		return s7_error_at(err, name, 0, 0, "%s (more than %zu values or %d levels)",
		    cv.why, JSON_MAX_NODES, JSON_MAX_DEPTH);
	return 0;
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
	case YT_INT: {
		/*
		 * As kubectl reads YAML: 0x1F hex, 0o17 and 017 octal
		 * (a leading zero followed by octal digits), else decimal.
		 */
		const char *s = n->str;
		long long v;

		if (strncmp(s, "0x", 2) == 0)
			v = strtoll(s + 2, NULL, 16);
		else if (strncmp(s, "0o", 2) == 0)
			v = strtoll(s + 2, NULL, 8);
		else if (s[0] == '0' && s[1] && strspn(s, "01234567") == n->len)
			v = strtoll(s, NULL, 8);
		else
			v = strtoll(s, NULL, 10);
		return json_integer(v);
	}
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
