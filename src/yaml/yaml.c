/*
 * libyaml's event API in both directions.  The parser builds nodes with a
 * stack of open containers; the emitter walks a tree and feeds events.  We
 * use events rather than libyaml's document API so that every node keeps
 * its position and so that scalar styles are our decision.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "yaml.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

struct anchor {
	const char *name;
	struct ynode *node;
};

struct parser {
	struct arena *a;
	const char *name;
	struct ynode **stack;	/* open containers */
	size_t depth, alloc;
	struct anchor *anchors;
	size_t nanchors, aanchors;
	const char **stack_anchor;	/* anchor of each open container */
	size_t asa;
	unsigned aliases;
	struct ynode *root;
};

static int
tag_type(const char *tag, enum ytype *t, enum ykind *k)
{
	static const struct {
		const char *tag;
		enum ykind kind;
		enum ytype type;
	} tags[] = {
		{ "tag:yaml.org,2002:str", Y_SCALAR, YT_STR },
		{ "tag:yaml.org,2002:int", Y_SCALAR, YT_INT },
		{ "tag:yaml.org,2002:bool", Y_SCALAR, YT_BOOL },
		{ "tag:yaml.org,2002:null", Y_SCALAR, YT_NULL },
		{ "tag:yaml.org,2002:float", Y_SCALAR, YT_FLOAT },
		{ "tag:yaml.org,2002:map", Y_MAP, YT_NULL },
		{ "tag:yaml.org,2002:seq", Y_SEQ, YT_NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (strcmp(tag, tags[i].tag) == 0) {
			*t = tags[i].type;
			*k = tags[i].kind;
			return 0;
		}
	return -1;
}

static int
mark_error(struct parser *p, yaml_mark_t m, struct s7_error *err,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
mark_error(struct parser *p, yaml_mark_t m, struct s7_error *err,
    const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return s7_error_at(err, p->name, (unsigned)m.line + 1,
	    (unsigned)m.column + 1, "%s", msg);
}

static int
check_tag(struct parser *p, const yaml_char_t *tag, enum ykind want,
    enum ytype *type, yaml_mark_t m, struct s7_error *err)
{
	enum ykind k;

	if (tag == NULL || strcmp((const char *)tag, "!") == 0)
		return 0;
	if (tag_type((const char *)tag, type, &k) < 0 || k != want)
		return mark_error(p, m, err, "unsupported tag '%s'",
		    (const char *)tag);
	return 0;
}

/* Adds a finished node to the open container (or makes it the root). */
static int
add_node(struct parser *p, struct ynode *n, yaml_mark_t m,
    struct s7_error *err)
{
	struct ynode *top;

	if (p->depth == 0) {
		p->root = n;
		return 0;
	}
	top = p->stack[p->depth - 1];
	if (top->kind == Y_SEQ) {
		ynode_push(p->a, top, n);
		return 0;
	}
	/* Mapping: keys and values alternate; top->len counts halves. */
	if (top->len % 2 == 0) {
		if (n->kind != Y_SCALAR)
			return mark_error(p, m, err,
			    "mapping keys must be scalars");
		if (n->type == YT_STR && strcmp(n->str, "<<") == 0 &&
		    n->style == YS_PLAIN)
			return mark_error(p, m, err,
			    "merge keys ('<<') are not supported");
		if (ynode_get_key(top, n->str) != NULL)
			return mark_error(p, m, err, "duplicate key '%s'",
			    n->str);
		/*
		 * Keys are strings, as in JSON and in Kubernetes objects: a
		 * key written `1` or `true` is the text "1" or "true".
		 */
		if (n->type != YT_STR) {
			n = ynode_scalar(p->a, YT_STR, n->str, n->len);
			n->file = p->name;
			n->line = (unsigned)m.line + 1;
			n->col = (unsigned)m.column + 1;
		}
		ynode_map_append(p->a, top, n, NULL);
	} else {
		top->v[2 * top->n - 1] = n;
	}
	top->len++;
	return 0;
}

static void
remember_anchor(struct parser *p, const yaml_char_t *anchor, struct ynode *n)
{
	if (anchor == NULL)
		return;
	ALLOC_GROW(p->anchors, p->nanchors + 1, p->aanchors);
	p->anchors[p->nanchors].name = arena_strdup(p->a, (const char *)anchor);
	p->anchors[p->nanchors].node = n;
	p->nanchors++;
}

static int
push(struct parser *p, struct ynode *n, const yaml_char_t *anchor,
    yaml_mark_t m, struct s7_error *err)
{
	if (p->depth >= YAML_MAX_DEPTH)
		return mark_error(p, m, err, "nesting is too deep");
	if (add_node(p, n, m, err) < 0)
		return -1;
	ALLOC_GROW(p->stack, p->depth + 1, p->alloc);
	ALLOC_GROW(p->stack_anchor, p->depth + 1, p->asa);
	p->stack[p->depth] = n;
	p->stack_anchor[p->depth] = anchor ?
	    arena_strdup(p->a, (const char *)anchor) : NULL;
	p->depth++;
	return 0;
}

static int
pop(struct parser *p)
{
	struct ynode *n = p->stack[--p->depth];

	n->len = 0;
	if (p->stack_anchor[p->depth])
		remember_anchor(p, (const yaml_char_t *)p->stack_anchor[p->depth],
		    n);
	return 0;
}

static struct ynode *
scalar_node(struct parser *p, const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	struct ynode *n;
	enum ytype t;

	if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		n = ynode_scalar(p->a, YT_STR, s, len);
		/* Text with a NUL is never a plain number or keyword. */
		t = strlen(n->str) == len ? ynode_resolve_plain(n->str) : YT_STR;
		n->type = t;
		n->style = YS_PLAIN;
	} else {
		n = ynode_scalar(p->a, YT_STR, s, len);
		n->style = ev->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ?
		    YS_LITERAL : YS_QUOTED;
	}
	n->file = p->name;
	n->line = (unsigned)ev->start_mark.line + 1;
	n->col = (unsigned)ev->start_mark.column + 1;
	return n;
}

int
yaml_parse(struct arena *a, const char *name, const char *buf, size_t len,
    struct ydocs *out, struct s7_error *err)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	struct parser p;
	struct ynode **docs = NULL;
	size_t ndocs = 0, adocs = 0;
	int ret = -1, done = 0;

	memset(&p, 0, sizeof(p));
	p.a = a;
	p.name = name;
	out->doc = NULL;
	out->n = 0;
	if (!yaml_parser_initialize(&parser)) {
		s7_error(err, "cannot initialise the YAML parser");
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (!done) {
		struct ynode *n;
		enum ytype t;

		if (!yaml_parser_parse(&parser, &ev)) {
			s7_error_at(err, name,
			    (unsigned)parser.problem_mark.line + 1,
			    (unsigned)parser.problem_mark.column + 1, "%s%s%s",
			    parser.problem ? parser.problem : "syntax error",
			    parser.context ? " " : "",
			    parser.context ? parser.context : "");
			goto done;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			p.root = NULL;
			p.nanchors = 0;
			break;
		case YAML_DOCUMENT_END_EVENT:
			ALLOC_GROW(docs, ndocs + 1, adocs);
			docs[ndocs++] = p.root;
			break;
		case YAML_SCALAR_EVENT:
			n = scalar_node(&p, &ev);
			t = n->type;
			if (check_tag(&p, ev.data.scalar.tag, Y_SCALAR, &t,
			    ev.start_mark, err) < 0) {
				yaml_event_delete(&ev);
				goto done;
			}
			if (t != n->type && ev.data.scalar.tag) {
				if (t != YT_STR &&
				    ynode_resolve_plain(n->str) != t) {
					mark_error(&p, ev.start_mark, err,
					    "'%s' does not match its tag", n->str);
					yaml_event_delete(&ev);
					goto done;
				}
				n->type = t;
			}
			if (add_node(&p, n, ev.start_mark, err) < 0) {
				yaml_event_delete(&ev);
				goto done;
			}
			remember_anchor(&p, ev.data.scalar.anchor, n);
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT: {
			int seq = ev.type == YAML_SEQUENCE_START_EVENT;
			const yaml_char_t *tag = seq ? ev.data.sequence_start.tag :
			    ev.data.mapping_start.tag;
			const yaml_char_t *anc = seq ?
			    ev.data.sequence_start.anchor :
			    ev.data.mapping_start.anchor;

			n = seq ? ynode_seq(a) : ynode_map(a);
			n->file = name;
			n->line = (unsigned)ev.start_mark.line + 1;
			n->col = (unsigned)ev.start_mark.column + 1;
			if (check_tag(&p, tag, n->kind, &t, ev.start_mark,
			    err) < 0 ||
			    push(&p, n, anc, ev.start_mark, err) < 0) {
				yaml_event_delete(&ev);
				goto done;
			}
			break;
		}
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			pop(&p);
			break;
		case YAML_ALIAS_EVENT: {
			const char *an = (const char *)ev.data.alias.anchor;
			struct ynode *target = NULL;
			size_t i;

			if (++p.aliases > YAML_MAX_ALIASES) {
				mark_error(&p, ev.start_mark, err,
				    "too many aliases");
				yaml_event_delete(&ev);
				goto done;
			}
			for (i = p.nanchors; i > 0; i--)
				if (strcmp(p.anchors[i - 1].name, an) == 0) {
					target = p.anchors[i - 1].node;
					break;
				}
			if (target == NULL) {
				mark_error(&p, ev.start_mark, err,
				    "unknown anchor '%s'", an);
				yaml_event_delete(&ev);
				goto done;
			}
			/* Aliases are shared, read-only subtrees. */
			if (add_node(&p, target, ev.start_mark, err) < 0) {
				yaml_event_delete(&ev);
				goto done;
			}
			break;
		}
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	out->doc = arena_array(a, ndocs ? ndocs : 1, sizeof(*out->doc));
	if (ndocs)
		memcpy(out->doc, docs, ndocs * sizeof(*docs));
	out->n = ndocs;
	ret = 0;
done:
	free(docs);
	free(p.stack);
	free(p.stack_anchor);
	free(p.anchors);
	yaml_parser_delete(&parser);
	return ret;
}

int
yaml_parse_one(struct arena *a, const char *name, const char *buf,
    size_t len, struct ynode **out, struct s7_error *err)
{
	struct ydocs d;

	if (yaml_parse(a, name, buf, len, &d, err) < 0)
		return -1;
	if (d.n == 0 || d.doc[0] == NULL)
		return s7_error_at(err, name, 1, 1, "the file is empty");
	if (d.n > 1)
		return s7_error_at(err, name, d.doc[1]->line, 1,
		    "expected one document, found %zu", d.n);
	*out = d.doc[0];
	return 0;
}

/* ---- emitter ---- */

static int
write_handler(void *data, unsigned char *buffer, size_t size)
{
	return strbuf_add(data, buffer, size) == 0;
}

static int
has_newline(const struct ynode *n)
{
	return memchr(n->str, '\n', n->len) != NULL;
}

static int
emit_node(yaml_emitter_t *em, const struct ynode *n, unsigned depth)
{
	yaml_event_t ev;
	size_t i;

	if (depth > YAML_MAX_DEPTH)
		return 0;
	if (n->kind == Y_SCALAR) {
		yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;
		int plain_ok = 1;

		if (n->type == YT_STR) {
			plain_ok = !ynode_needs_quotes(n->str) &&
			    strlen(n->str) == n->len;
			if (has_newline(n))
				style = YAML_LITERAL_SCALAR_STYLE;
			else if (!plain_ok)
				style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
		} else {
			style = YAML_PLAIN_SCALAR_STYLE;
		}
		/* An empty null (a bare "key:") is written "null": an empty
		 * document would not read back as anything. */
		if (n->type == YT_NULL && n->len == 0) {
			if (!yaml_scalar_event_initialize(&ev, NULL, NULL,
			    (yaml_char_t *)"null", 4, 1, 1, style))
				return 0;
			return yaml_emitter_emit(em, &ev);
		}
		if (!yaml_scalar_event_initialize(&ev, NULL, NULL,
		    (yaml_char_t *)n->str, (int)n->len, plain_ok, 1, style))
			return 0;
		return yaml_emitter_emit(em, &ev);
	}
	if (n->kind == Y_SEQ) {
		if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
		    n->n ? YAML_BLOCK_SEQUENCE_STYLE : YAML_FLOW_SEQUENCE_STYLE) ||
		    !yaml_emitter_emit(em, &ev))
			return 0;
		for (i = 0; i < n->n; i++)
			if (!emit_node(em, n->v[i], depth + 1))
				return 0;
		return yaml_sequence_end_event_initialize(&ev) &&
		    yaml_emitter_emit(em, &ev);
	}
	if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
	    n->n ? YAML_BLOCK_MAPPING_STYLE : YAML_FLOW_MAPPING_STYLE) ||
	    !yaml_emitter_emit(em, &ev))
		return 0;
	for (i = 0; i < 2 * n->n; i++)
		if (!emit_node(em, n->v[i], depth + 1))
			return 0;
	return yaml_mapping_end_event_initialize(&ev) &&
	    yaml_emitter_emit(em, &ev);
}

int
yaml_emit(struct strbuf *sb, const struct ynode *n, int start_marker,
    struct s7_error *err)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	int ok;

	if (!yaml_emitter_initialize(&em))
		return s7_error(err, "cannot initialise the YAML emitter");
	yaml_emitter_set_output(&em, write_handler, sb);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	yaml_emitter_set_indent(&em, 2);
	ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
	    yaml_emitter_emit(&em, &ev) &&
	    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL,
	    !start_marker) && yaml_emitter_emit(&em, &ev) &&
	    emit_node(&em, n, 0) &&
	    yaml_document_end_event_initialize(&ev, 1) &&
	    yaml_emitter_emit(&em, &ev) &&
	    yaml_stream_end_event_initialize(&ev) &&
	    yaml_emitter_emit(&em, &ev) && yaml_emitter_flush(&em);
	if (!ok) {
		if (sb->overflow)
			s7_error(err, "YAML output is larger than %zu bytes",
			    sb->max);
		else
			s7_error(err, "cannot write YAML: %s",
			    em.problem ? em.problem : "emitter error");
	}
	yaml_emitter_delete(&em);
	return ok ? 0 : -1;
}
