/*
 * Expansion is a recursive walk of the template tree.  Expressions are
 * parsed and evaluated in one pass (no AST): they are short and evaluated
 * once per use.  A `skip` flag lets `&&`, `||` and `default()` parse their
 * right-hand side without evaluating it, so `a? && a.b` is safe.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"
#include "../json/json.h"
#include "../util/strbuf.h"
#include "../util/text.h"
#include "../util/xmalloc.h"
#include "../yaml/yaml.h"
#include "../util/banned.h"

struct scope {
	const char *name;
	const struct ynode *val;
	const struct scope *up;
};

struct tctx {
	struct arena *a;
	const struct ynode *root;
	struct s7_error *err;
	size_t nodes;		/* produced so far, against TMPL_MAX_NODES */
};

/* ---- expressions ---- */

struct expr {
	struct tctx *c;
	const struct scope *sc;
	const char *src;	/* the whole expression, for messages */
	const char *p;
	const struct ynode *at;	/* template node, for positions */
	unsigned depth;		/* of nested sub-expressions */
};

#define EXPR_MAX_DEPTH 64

static int
expr_error(struct expr *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
expr_error(struct expr *e, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (e->at)
		return s7_error_at(e->c->err, e->at->file, e->at->line,
		    e->at->col, "in '${%s}': %s", e->src, msg);
	return s7_error_class(e->c->err, S7_EINPUT, "in '${%s}': %s", e->src,
	    msg);
}

static void
ws(struct expr *e)
{
	while (*e->p == ' ' || *e->p == '\t')
		e->p++;
}

static int
ident_start(int ch)
{
	return isalpha(ch) || ch == '_';
}

static int
ident_char(int ch)
{
	return isalnum(ch) || ch == '_' || ch == '-';
}

/* Reads an identifier into buf; returns its length (0: none). */
static size_t
ident(struct expr *e, char *buf, size_t size)
{
	size_t n = 0;

	if (!ident_start((unsigned char)*e->p))
		return 0;
	while (ident_char((unsigned char)*e->p)) {
		if (n + 1 < size)
			buf[n] = *e->p;
		n++;
		e->p++;
	}
	if (n >= size)
		n = size - 1;
	buf[n] = '\0';
	return n;
}

static int expr_or(struct expr *e, int skip, const struct ynode **v);
static int expr_or_inner(struct expr *e, int skip, const struct ynode **v);

static const struct ynode *
lookup_scope(const struct scope *sc, const char *name)
{
	for (; sc; sc = sc->up)
		if (strcmp(sc->name, name) == 0)
			return sc->val;
	return NULL;
}

static int
suggest_key(struct expr *e, const struct ynode *map, const char *key,
    const char *path)
{
	const char **names;
	const char *s;
	size_t i;

	if (map == NULL || map->kind != Y_MAP || map->n == 0)
		return expr_error(e, "'%s' is not defined", path);
	names = arena_array(e->c->a, map->n + 1, sizeof(*names));
	for (i = 0; i < map->n; i++)
		names[i] = map->v[2 * i]->str;
	s = text_suggest(key, names);
	if (s)
		return expr_error(e, "'%s' is not defined; did you mean '%s'?",
		    path, s);
	return expr_error(e, "'%s' is not defined", path);
}

/* path := ident ('.' ident | '[' int ']')* '?'? */
static int
expr_path(struct expr *e, int skip, const struct ynode **v)
{
	char name[128], path[512];
	const struct ynode *cur = NULL, *parent;
	int missing = 0;
	size_t plen;

	ident(e, name, sizeof(name));
	xsnprintf(path, sizeof(path), "%s", name);
	if (!skip) {
		cur = lookup_scope(e->sc, name);
		if (cur == NULL)
			cur = ynode_get(e->c->root, name);
		if (cur == NULL)
			missing = 1;
	}
	parent = e->c->root;
	for (;;) {
		if (*e->p == '.' && ident_start((unsigned char)e->p[1])) {
			e->p++;
			ident(e, name, sizeof(name));
			plen = strlen(path);
			if (plen + strlen(name) + 2 < sizeof(path))
				xsnprintf(path + plen, sizeof(path) - plen, ".%s",
				    name);
			if (skip || missing)
				continue;
			if (cur->kind != Y_MAP) {
				if (*e->p == '?') {
					missing = 1;
					continue;
				}
				return expr_error(e, "'%s': %s has no keys",
				    path, ynode_kind_name(cur));
			}
			parent = cur;
			cur = ynode_get(cur, name);
			if (cur == NULL)
				missing = 1;
		} else if (*e->p == '[') {
			char *end;
			unsigned long idx;

			e->p++;
			idx = strtoul(e->p, &end, 10);
			if (end == e->p || *end != ']')
				return expr_error(e, "expected an index after '['");
			e->p = end + 1;
			plen = strlen(path);
			if (plen + 24 < sizeof(path))
				xsnprintf(path + plen, sizeof(path) - plen,
				    "[%lu]", idx);
			if (skip || missing)
				continue;
			if (cur->kind != Y_SEQ || idx >= cur->n)
				missing = 1;
			else
				cur = cur->v[idx];
		} else {
			break;
		}
		(void)parent;
	}
	if (*e->p == '?') {
		e->p++;
		*v = missing ? NULL : cur;
		return 0;
	}
	if (skip) {
		*v = NULL;
		return 0;
	}
	if (missing) {
		/* Re-walk to find the mapping where the lookup failed. */
		const struct ynode *m = NULL;
		const char *last = strrchr(path, '.');
		char head[512];

		if (last && !strchr(last, '[')) {
			xsnprintf(head, sizeof(head), "%.*s", (int)(last - path),
			    path);
			m = ynode_path(e->c->root, head);
			if (m == NULL) {
				const struct ynode *sv;
				char first[128];
				const char *dot = strchr(head, '.');

				xsnprintf(first, sizeof(first), "%.*s",
				    (int)(dot ? (size_t)(dot - head) :
				    strlen(head)), head);
				sv = lookup_scope(e->sc, first);
				if (sv)
					m = dot ? ynode_path(sv, dot + 1) : sv;
			}
			return suggest_key(e, m, last + 1, path);
		}
		if (!strchr(path, '.') && !strchr(path, '['))
			return suggest_key(e, e->c->root, path, path);
		return expr_error(e, "'%s' is not defined", path);
	}
	*v = cur;
	return 0;
}

static int
expr_string(struct expr *e, const struct ynode **v)
{
	char q = *e->p++;
	struct strbuf sb;

	strbuf_init(&sb, 65536);
	while (*e->p && *e->p != q) {
		if (*e->p == '\\' && (e->p[1] == q || e->p[1] == '\\'))
			e->p++;
		strbuf_addch(&sb, *e->p++);
	}
	if (*e->p != q) {
		strbuf_release(&sb);
		return expr_error(e, "unterminated string");
	}
	e->p++;
	*v = ynode_scalar(e->c->a, YT_STR, sb.buf, sb.len);
	strbuf_release(&sb);
	return 0;
}

static int
scalar_text(struct expr *e, const struct ynode *v, const char *what,
    const char **s)
{
	if (v == NULL)
		return expr_error(e, "%s: the value is absent", what);
	if (v->kind != Y_SCALAR)
		return expr_error(e, "%s: expected a scalar, found %s", what,
		    ynode_kind_name(v));
	*s = v->str;
	return 0;
}

/* Built-in functions: default, join, len, lower. */
static int
expr_call(struct expr *e, const char *fn, int skip, const struct ynode **v)
{
	const struct ynode *args[4] = { NULL };
	int nargs = 0;

	ws(e);
	if (*e->p != ')') {
		for (;;) {
			int sk = skip;

			/* default(a, b): b is only evaluated when a is absent */
			if (strcmp(fn, "default") == 0 && nargs == 1 &&
			    args[0] != NULL)
				sk = 1;
			if (nargs == 4)
				return expr_error(e, "too many arguments to %s()",
				    fn);
			if (expr_or(e, sk, &args[nargs]) < 0)
				return -1;
			nargs++;
			ws(e);
			if (*e->p == ',') {
				e->p++;
				continue;
			}
			break;
		}
	}
	if (*e->p != ')')
		return expr_error(e, "expected ')' after the arguments of %s()",
		    fn);
	e->p++;
	if (strcmp(fn, "default") == 0) {
		if (nargs != 2)
			return expr_error(e, "default() takes 2 arguments");
		*v = args[0] ? args[0] : args[1];
		return 0;
	}
	if (strcmp(fn, "join") == 0) {
		struct strbuf sb;
		const char *sep = NULL, *s = NULL;
		size_t i;

		if (nargs != 2)
			return expr_error(e, "join() takes 2 arguments");
		if (skip) {
			*v = NULL;
			return 0;
		}
		if (args[0] == NULL || args[0]->kind != Y_SEQ)
			return expr_error(e, "join(): the first argument must be a list");
		if (scalar_text(e, args[1], "join()", &sep) < 0)
			return -1;
		strbuf_init(&sb, STRBUF_SMALL);
		for (i = 0; i < args[0]->n; i++) {
			if (scalar_text(e, args[0]->v[i], "join()", &s) < 0) {
				strbuf_release(&sb);
				return -1;
			}
			strbuf_addf(&sb, "%s%s", i ? sep : "", s);
		}
		if (sb.overflow) {
			strbuf_release(&sb);
			return expr_error(e, "join(): result too long");
		}
		*v = ynode_scalar(e->c->a, YT_STR, sb.buf, sb.len);
		strbuf_release(&sb);
		return 0;
	}
	if (strcmp(fn, "len") == 0) {
		if (nargs != 1)
			return expr_error(e, "len() takes 1 argument");
		if (skip) {
			*v = NULL;
			return 0;
		}
		if (args[0] == NULL)
			return expr_error(e, "len(): the value is absent");
		*v = ynode_int(e->c->a, args[0]->kind == Y_SCALAR ?
		    (long long)args[0]->len : (long long)args[0]->n);
		return 0;
	}
	if (strcmp(fn, "lower") == 0) {
		const char *s = NULL;
		char *d;
		size_t i;

		if (nargs != 1)
			return expr_error(e, "lower() takes 1 argument");
		if (skip) {
			*v = NULL;
			return 0;
		}
		if (scalar_text(e, args[0], "lower()", &s) < 0)
			return -1;
		d = arena_strndup(e->c->a, s, args[0]->len);
		for (i = 0; i < args[0]->len; i++)
			d[i] = (char)tolower((unsigned char)d[i]);
		*v = ynode_scalar(e->c->a, YT_STR, d, args[0]->len);
		return 0;
	}
	return expr_error(e, "unknown function '%s'", fn);
}

static int
expr_primary(struct expr *e, int skip, const struct ynode **v)
{
	ws(e);
	if (*e->p == '(') {
		e->p++;
		if (expr_or(e, skip, v) < 0)
			return -1;
		ws(e);
		if (*e->p != ')')
			return expr_error(e, "expected ')'");
		e->p++;
		return 0;
	}
	if (*e->p == '\'' || *e->p == '"')
		return expr_string(e, v);
	if (isdigit((unsigned char)*e->p) ||
	    (*e->p == '-' && isdigit((unsigned char)e->p[1]))) {
		const char *start = e->p;

		e->p++;
		while (isdigit((unsigned char)*e->p))
			e->p++;
		if (e->p - start > 18)
			return expr_error(e, "number too large");
		*v = ynode_scalar(e->c->a, YT_INT, start,
		    (size_t)(e->p - start));
		return 0;
	}
	if (ident_start((unsigned char)*e->p)) {
		const char *save = e->p;
		char name[128];

		ident(e, name, sizeof(name));
		if (*e->p == '(') {
			e->p++;
			return expr_call(e, name, skip, v);
		}
		if (*e->p != '.' && *e->p != '[' && *e->p != '?' &&
		    lookup_scope(e->sc, name) == NULL) {
			if (strcmp(name, "true") == 0 ||
			    strcmp(name, "false") == 0) {
				*v = ynode_bool(e->c->a, name[0] == 't');
				return 0;
			}
			if (strcmp(name, "null") == 0) {
				*v = ynode_null(e->c->a);
				return 0;
			}
		}
		e->p = save;
		return expr_path(e, skip, v);
	}
	if (*e->p == '\0')
		return expr_error(e, "unexpected end of expression");
	return expr_error(e, "unexpected '%c'", *e->p);
}

static int
equal_values(const struct ynode *a, const struct ynode *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (a->kind == Y_SCALAR && b->kind == Y_SCALAR)
		return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
	return ynode_equal(a, b);
}

/* The integer value of an operand of '<' and friends. */
static int
int_value(struct expr *e, const struct ynode *n, const char *op,
    long long *out)
{
	char *end;

	if (n == NULL || n->kind != Y_SCALAR || n->len == 0)
		return expr_error(e, "'%s' compares integers, found %s", op,
		    n ? ynode_kind_name(n) : "an absent value");
	*out = strtoll(n->str, &end, 10);
	if (*end != '\0')
		return expr_error(e, "'%s' compares integers, found '%s'", op,
		    n->str);
	return 0;
}

static int
expr_unary(struct expr *e, int skip, const struct ynode **v)
{
	const struct ynode *l, *r;

	ws(e);
	if (*e->p == '!' && e->p[1] != '=') {
		e->p++;
		if (++e->depth > EXPR_MAX_DEPTH)
			return expr_error(e, "expression nested too deeply");
		if (expr_unary(e, skip, &l) < 0)
			return -1;
		e->depth--;
		*v = ynode_bool(e->c->a, !ynode_truthy(l));
		return 0;
	}
	if (expr_primary(e, skip, &l) < 0)
		return -1;
	ws(e);
	if ((e->p[0] == '=' || e->p[0] == '!') && e->p[1] == '=') {
		int neq = e->p[0] == '!';

		e->p += 2;
		if (expr_primary(e, skip, &r) < 0)
			return -1;
		*v = ynode_bool(e->c->a, equal_values(l, r) != neq);
		return 0;
	}
	if (e->p[0] == '<' || e->p[0] == '>') {
		char op[3] = { e->p[0], e->p[1] == '=' ? '=' : '\0', '\0' };
		long long x, y;

		e->p += op[1] ? 2 : 1;
		if (expr_primary(e, skip, &r) < 0)
			return -1;
		if (skip) {
			*v = NULL;
			return 0;
		}
		if (int_value(e, l, op, &x) < 0 || int_value(e, r, op, &y) < 0)
			return -1;
		*v = ynode_bool(e->c->a, op[0] == '<' ? (op[1] ? x <= y : x < y) :
		    (op[1] ? x >= y : x > y));
		return 0;
	}
	*v = l;
	return 0;
}

static int
expr_and(struct expr *e, int skip, const struct ynode **v)
{
	const struct ynode *l, *r;

	if (expr_unary(e, skip, &l) < 0)
		return -1;
	for (;;) {
		ws(e);
		if (e->p[0] != '&' || e->p[1] != '&')
			break;
		e->p += 2;
		if (expr_unary(e, skip || !ynode_truthy(l), &r) < 0)
			return -1;
		l = ynode_bool(e->c->a, ynode_truthy(l) && ynode_truthy(r));
	}
	*v = l;
	return 0;
}

/* The entry of every (sub-)expression: bounds the nesting. */
static int
expr_or(struct expr *e, int skip, const struct ynode **v)
{
	int ret;

	if (++e->depth > EXPR_MAX_DEPTH)
		return expr_error(e, "expression nested too deeply");
	ret = expr_or_inner(e, skip, v);
	e->depth--;
	return ret;
}

static int
expr_or_inner(struct expr *e, int skip, const struct ynode **v)
{
	const struct ynode *l, *r;

	if (expr_and(e, skip, &l) < 0)
		return -1;
	for (;;) {
		ws(e);
		if (e->p[0] != '|' || e->p[1] != '|')
			break;
		e->p += 2;
		if (expr_and(e, skip || ynode_truthy(l), &r) < 0)
			return -1;
		l = ynode_bool(e->c->a, ynode_truthy(l) || ynode_truthy(r));
	}
	*v = l;
	return 0;
}

static int
eval(struct tctx *c, const struct scope *sc, const char *src,
    const struct ynode *at, const struct ynode **v)
{
	struct expr e;

	e.c = c;
	e.sc = sc;
	e.src = src;
	e.p = src;
	e.at = at;
	e.depth = 0;
	if (expr_or(&e, 0, v) < 0)
		return -1;
	ws(&e);
	if (*e.p != '\0')
		return expr_error(&e, "unexpected '%s'", e.p);
	return 0;
}

int
tmpl_eval(struct arena *a, const char *src, const struct ynode *ctx,
    const struct ynode **out, struct s7_error *err)
{
	struct tctx c = { a, ctx, err, 0 };

	return eval(&c, NULL, src, NULL, out);
}

/* ---- expansion ---- */

static int
tmpl_error(struct tctx *c, const struct ynode *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
tmpl_error(struct tctx *c, const struct ynode *at, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return s7_error_at(c->err, at ? at->file : NULL, at ? at->line : 0,
	    at ? at->col : 0, "%s", msg);
}

/* Finds the end of a ${...} starting at p ("${"), honouring quotes. */
static const char *
close_brace(const char *p)
{
	char q = 0;

	for (p += 2; *p; p++) {
		if (q) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == q)
				q = 0;
		} else if (*p == '\'' || *p == '"') {
			q = *p;
		} else if (*p == '}') {
			return p;
		}
	}
	return NULL;
}

static struct ynode *
positioned(struct ynode *n, const struct ynode *at)
{
	n->file = at->file;
	n->line = at->line;
	n->col = at->col;
	return n;
}

/*
 * Expands a string scalar: a lone, unquoted ${expr} becomes the value
 * itself; any other text with ${...}, or a quoted one, becomes one
 * string.  "$${" is a literal "${".
 */
static int
expand_string(struct tctx *c, const struct scope *sc, const struct ynode *in,
    struct ynode **out)
{
	const char *s = in->str, *p, *close;
	struct strbuf sb;
	char *src;
	const struct ynode *v;

	if (strstr(s, "${") == NULL) {
		*out = ynode_copy(c->a, in);
		return 0;
	}
	/*
	 * A lone ${...} keeps the value's type, unless quoted: quotes mean
	 * text.  Either way an absent value makes the scalar absent.
	 */
	if (s[0] == '$' && s[1] == '{' && (close = close_brace(s)) != NULL &&
	    close[1] == '\0') {
		src = arena_strndup(c->a, s + 2, (size_t)(close - s - 2));
		if (eval(c, sc, src, in, &v) < 0)
			return -1;
		if (v == NULL) {
			*out = NULL;
			return 0;
		}
		if (in->style != YS_QUOTED) {
			*out = positioned(ynode_copy(c->a, v), in);
			return 0;
		}
		if (v->kind != Y_SCALAR)
			return tmpl_error(c, in,
			    "in '${%s}': cannot put %s inside a string", src,
			    ynode_kind_name(v));
		*out = positioned(ynode_scalar(c->a, YT_STR, v->str, v->len), in);
		return 0;
	}
	strbuf_init(&sb, STRBUF_OBJECT);
	for (p = s; *p; ) {
		const char *txt;

		if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
			strbuf_addstr(&sb, "${");
			p += 3;
			continue;
		}
		if (p[0] != '$' || p[1] != '{') {
			strbuf_addch(&sb, *p++);
			continue;
		}
		close = close_brace(p);
		if (close == NULL) {
			strbuf_release(&sb);
			return tmpl_error(c, in, "unterminated '${' in '%s'", s);
		}
		src = arena_strndup(c->a, p + 2, (size_t)(close - p - 2));
		if (eval(c, sc, src, in, &v) < 0) {
			strbuf_release(&sb);
			return -1;
		}
		if (v == NULL || v->kind != Y_SCALAR) {
			strbuf_release(&sb);
			return tmpl_error(c, in,
			    "in '${%s}': cannot put %s inside a string", src,
			    v ? ynode_kind_name(v) : "an absent value");
		}
		txt = v->str;
		strbuf_add(&sb, txt, v->len);
		p = close + 1;
	}
	if (sb.overflow) {
		strbuf_release(&sb);
		return tmpl_error(c, in, "expanded string is too long");
	}
	*out = positioned(ynode_scalar(c->a, YT_STR, sb.buf, sb.len), in);
	(*out)->style = in->style == YS_LITERAL ? YS_LITERAL : YS_ANY;
	strbuf_release(&sb);
	return 0;
}

static int expand(struct tctx *c, const struct scope *sc,
    const struct ynode *in, struct ynode **out, unsigned depth);

/* "$name" is a directive; "$$name" and "${...}" are not. */
static int
is_directive(const struct ynode *key)
{
	return key->str[0] == '$' && key->str[1] != '$' && key->str[1] != '{';
}

static const char *const directives[] = {
	"$if", "$then", "$else", "$when", "$for", "$do", "$key", "$yaml",
	"$json", "$merge", "$patch", "$use", "$with", NULL,
};

static int
check_directives(struct tctx *c, const struct ynode *m, const char *allowed)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		const struct ynode *k = m->v[2 * i];
		const char *sugg;
		char word[32];

		if (!is_directive(k))
			continue;
		if (strlen(k->str) < sizeof(word) - 2) {
			xsnprintf(word, sizeof(word), " %s ", k->str);
			if (strstr(allowed, word))
				continue;
		}
		sugg = text_suggest(k->str, directives);
		if (sugg && strcmp(sugg, k->str) != 0)
			return tmpl_error(c, k,
			    "unknown directive '%s'; did you mean '%s'?", k->str,
			    sugg);
		return tmpl_error(c, k, "'%s' is not allowed here", k->str);
	}
	return 0;
}

/* Parses "NAME in EXPR" of a $for. */
static int
for_header(struct tctx *c, const struct ynode *k, const struct ynode *v,
    const char **name, const char **src)
{
	const char *s, *p;

	if (v->kind != Y_SCALAR)
		return tmpl_error(c, k, "$for expects 'NAME in EXPRESSION'");
	s = v->str;
	p = s;
	while (ident_char((unsigned char)*p))
		p++;
	if (p == s || !ident_start((unsigned char)*s) ||
	    strncmp(p, " in ", 4) != 0)
		return tmpl_error(c, v, "$for expects 'NAME in EXPRESSION', found '%s'",
		    s);
	*name = arena_strndup(c->a, s, (size_t)(p - s));
	*src = p + 4;
	while (**src == ' ')
		(*src)++;
	/* Allow the expression to be written as ${...} too. */
	if ((*src)[0] == '$' && (*src)[1] == '{') {
		const char *cl = close_brace(*src);

		if (cl == NULL || cl[1] != '\0')
			return tmpl_error(c, v, "unterminated '${' in '%s'", s);
		*src = arena_strndup(c->a, *src + 2, (size_t)(cl - *src - 2));
	}
	return 0;
}

/*
 * A $for mapping.  With `seq` the results are appended to it; otherwise
 * *out gets a new sequence (or a mapping when $key is given).
 */
static int
expand_for(struct tctx *c, const struct scope *sc, const struct ynode *m,
    struct ynode *seq, struct ynode **out, unsigned depth)
{
	const struct ynode *hk = ynode_get_key(m, "$for");
	const struct ynode *body = ynode_get(m, "$do");
	const struct ynode *keyt = ynode_get(m, "$key");
	const struct ynode *list;
	struct ynode *res;
	const char *name = NULL, *src = NULL;
	struct scope inner;
	size_t i, n;

	if (check_directives(c, m, " $for $do $key ") < 0)
		return -1;
	if (body == NULL)
		return tmpl_error(c, m, "$for needs $do");
	if (m->n != (keyt ? 3u : 2u))
		return tmpl_error(c, m, "$for takes only $do and $key");
	if (for_header(c, hk, ynode_get(m, "$for"), &name, &src) < 0)
		return -1;
	if (eval(c, sc, src, ynode_get(m, "$for"), &list) < 0)
		return -1;
	if (keyt && seq)
		return tmpl_error(c, m, "$for with $key makes a mapping; it cannot be a list item");
	res = seq ? seq : keyt ? ynode_map(c->a) : ynode_seq(c->a);
	positioned(res, m);
	n = list == NULL ? 0 : list->kind == Y_SCALAR ? 0 :
	    list->kind == Y_MAP ? list->n : list->n;
	if (list && list->kind == Y_SCALAR && list->type != YT_NULL)
		return tmpl_error(c, hk, "$for: '%s' is %s, not a list", src,
		    ynode_kind_name(list));
	for (i = 0; i < n; i++) {
		struct ynode *item, *k = NULL;
		const struct ynode *el;

		if (list->kind == Y_MAP) {
			/* Over a mapping: NAME is {key, value}. */
			struct ynode *kv = ynode_map(c->a);

			ynode_map_set(c->a, kv, "key", list->v[2 * i]);
			ynode_map_set(c->a, kv, "value", list->v[2 * i + 1]);
			el = kv;
		} else {
			el = list->v[i];
		}
		inner.name = name;
		inner.val = el;
		inner.up = sc;
		if (keyt) {
			if (keyt->kind != Y_SCALAR)
				return tmpl_error(c, keyt, "$key must be a string");
			if (expand_string(c, &inner, keyt, &k) < 0)
				return -1;
			if (k == NULL || k->kind != Y_SCALAR)
				return tmpl_error(c, keyt, "$key must expand to a string");
		}
		if (keyt == NULL && body->kind == Y_MAP &&
		    ynode_get_key(body, "$for")) {
			/* A nested $for splices into the same list. */
			if (expand_for(c, &inner, body, res, NULL, depth + 1) < 0)
				return -1;
			continue;
		}
		if (expand(c, &inner, body, &item, depth + 1) < 0)
			return -1;
		if (item == NULL)
			continue;
		if (keyt) {
			if (ynode_get_key(res, k->str))
				return tmpl_error(c, keyt,
				    "$key produced '%s' twice", k->str);
			ynode_map_append(c->a, res, k, item);
		} else {
			ynode_push(c->a, res, item);
		}
	}
	if (out)
		*out = res;
	return 0;
}

static int
expand_map(struct tctx *c, const struct scope *sc, const struct ynode *in,
    struct ynode **out, unsigned depth)
{
	const struct ynode *v;
	struct ynode *m;
	size_t i;

	if ((v = ynode_get(in, "$if")) != NULL) {
		const struct ynode *cond, *branch;

		if (check_directives(c, in, " $if $then $else ") < 0)
			return -1;
		if (in->n != 1u + (ynode_get(in, "$then") != NULL) +
		    (ynode_get(in, "$else") != NULL))
			return tmpl_error(c, in,
			    "$if takes only $then and $else");
		if (ynode_get(in, "$then") == NULL)
			return tmpl_error(c, in, "$if needs $then");
		if (v->kind != Y_SCALAR)
			return tmpl_error(c, v, "$if expects an expression");
		if (eval(c, sc, v->str, v, &cond) < 0)
			return -1;
		branch = ynode_get(in, ynode_truthy(cond) ? "$then" : "$else");
		if (branch == NULL) {
			*out = NULL;
			return 0;
		}
		return expand(c, sc, branch, out, depth + 1);
	}
	if (ynode_get_key(in, "$for"))
		return expand_for(c, sc, in, NULL, out, depth);
	if ((v = ynode_get(in, "$yaml")) != NULL ||
	    (v = ynode_get(in, "$json")) != NULL) {
		int yaml = ynode_get(in, "$yaml") != NULL;
		struct ynode *inner;
		struct strbuf sb;
		int r;

		if (in->n != 1)
			return tmpl_error(c, in, "%s stands alone in its mapping",
			    yaml ? "$yaml" : "$json");
		if (expand(c, sc, v, &inner, depth + 1) < 0)
			return -1;
		if (inner == NULL) {
			*out = NULL;
			return 0;
		}
		strbuf_init(&sb, STRBUF_OBJECT);
		r = yaml ? yaml_emit(&sb, inner, 0, c->err) :
		    json_emit(&sb, inner, JSON_PRETTY, c->err);
		if (r < 0) {
			strbuf_release(&sb);
			return -1;
		}
		*out = positioned(ynode_scalar(c->a, YT_STR, sb.buf, sb.len),
		    in);
		(*out)->style = YS_LITERAL;
		strbuf_release(&sb);
		return 0;
	}
	if ((v = ynode_get(in, "$merge")) != NULL) {
		struct ynode *parts;

		if (in->n != 1)
			return tmpl_error(c, in, "$merge stands alone in its mapping");
		if (v->kind != Y_SEQ)
			return tmpl_error(c, v, "$merge expects a list of mappings");
		if (expand(c, sc, v, &parts, depth + 1) < 0)
			return -1;
		m = positioned(ynode_map(c->a), in);
		for (i = 0; parts && i < parts->n; i++) {
			const struct ynode *p = parts->v[i];
			size_t j;

			if (p->kind != Y_MAP)
				return tmpl_error(c, p,
				    "$merge: item is %s, not a mapping",
				    ynode_kind_name(p));
			for (j = 0; j < p->n; j++)
				ynode_map_set(c->a, m, p->v[2 * j]->str,
				    p->v[2 * j + 1]);
		}
		*out = m;
		return 0;
	}
	/* $patch, $use and $with are kept for render, which acts on them. */
	if (check_directives(c, in, " $when $patch $use $with ") < 0)
		return -1;
	if ((v = ynode_get(in, "$when")) != NULL) {
		const struct ynode *cond;

		if (v->kind != Y_SCALAR)
			return tmpl_error(c, v, "$when expects an expression");
		if (eval(c, sc, v->str, v, &cond) < 0)
			return -1;
		if (!ynode_truthy(cond)) {
			*out = NULL;
			return 0;
		}
	}
	m = positioned(ynode_map(c->a), in);
	for (i = 0; i < in->n; i++) {
		const struct ynode *k = in->v[2 * i];
		struct ynode *nk, *nv;

		if (strcmp(k->str, "$when") == 0)
			continue;
		if (k->str[0] == '$' && k->str[1] == '$') {
			nk = positioned(ynode_str(c->a, k->str + 1), k);
		} else if (k->type == YT_STR) {
			if (expand_string(c, sc, k, &nk) < 0)
				return -1;
			if (nk == NULL)
				continue;
			if (nk->kind != Y_SCALAR)
				return tmpl_error(c, k,
				    "a key must expand to a string, not %s",
				    ynode_kind_name(nk));
		} else {
			nk = ynode_copy(c->a, k);
		}
		if (expand(c, sc, in->v[2 * i + 1], &nv, depth + 1) < 0)
			return -1;
		if (nv == NULL)
			continue;
		if (ynode_get_key(m, nk->str))
			return tmpl_error(c, k, "key '%s' appears twice",
			    nk->str);
		ynode_map_append(c->a, m, nk, nv);
	}
	*out = m;
	return 0;
}

static int
expand(struct tctx *c, const struct scope *sc, const struct ynode *in,
    struct ynode **out, unsigned depth)
{
	size_t i;

	*out = NULL;
	if (depth > TMPL_MAX_DEPTH)
		return tmpl_error(c, in, "template nesting is too deep");
	if (++c->nodes > TMPL_MAX_NODES)
		return tmpl_error(c, in, "template expands to too many nodes");
	if (in->kind == Y_SCALAR) {
		if (in->type == YT_STR)
			return expand_string(c, sc, in, out);
		*out = ynode_copy(c->a, in);
		return 0;
	}
	if (in->kind == Y_MAP)
		return expand_map(c, sc, in, out, depth);
	{
		struct ynode *seq = positioned(ynode_seq(c->a), in);

		for (i = 0; i < in->n; i++) {
			const struct ynode *it = in->v[i];
			struct ynode *item;

			if (it->kind == Y_MAP && ynode_get_key(it, "$for")) {
				if (expand_for(c, sc, it, seq, NULL, depth + 1) < 0)
					return -1;
				continue;
			}
			if (expand(c, sc, it, &item, depth + 1) < 0)
				return -1;
			if (item)
				ynode_push(c->a, seq, item);
		}
		*out = seq;
	}
	return 0;
}

int
tmpl_expand(struct arena *a, const struct ynode *tmpl,
    const struct ynode *ctx, struct ynode **out, struct s7_error *err)
{
	struct tctx c = { a, ctx, err, 0 };

	return expand(&c, NULL, tmpl, out, 0);
}
