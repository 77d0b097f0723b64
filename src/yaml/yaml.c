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
#include "../util/text.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

struct anchor {
	const char *name;
	struct ynode *node;
	size_t size;		/* nodes in its tree, aliases expanded */
	unsigned height;	/* levels in its tree */
};

/*
 * The keys of one large mapping, hashed: the duplicate-key check must
 * not cost a scan of every earlier key (quadratic in a mapping's size).
 * Mappings with few keys are scanned.
 */
#define KEYSET_FROM 16

struct keyset {
	struct ynode **slot;	/* open addressing; NULL: empty */
	size_t cap, n;
};

struct open {
	struct ynode *node;
	const char *anchor;
	size_t size;		/* nodes so far, aliases expanded */
	unsigned height;
	struct keyset keys;
};

struct parser {
	struct arena *a;
	const char *name;
	struct open *stack;	/* open containers */
	size_t depth, alloc;
	struct anchor *anchors;
	size_t nanchors, aanchors;
	unsigned aliases;
	size_t nodes;		/* in the stream, aliases expanded */
	struct ynode *root;
};

static size_t
key_hash(const char *s, size_t len)
{
	size_t h = 1469598103934665603ULL & (size_t)-1, i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * (1099511628211ULL & (size_t)-1);
	return h;
}

static void
keyset_put(struct keyset *ks, struct ynode *k)
{
	size_t i;

	if (2 * (ks->n + 1) > ks->cap) {
		struct ynode **old = ks->slot;
		size_t ocap = ks->cap, j;

		ks->cap = ocap ? 2 * ocap : 64;
		ks->slot = xcalloc(ks->cap, sizeof(*ks->slot));
		ks->n = 0;
		for (j = 0; j < ocap; j++)
			if (old[j])
				keyset_put(ks, old[j]);
		free(old);
	}
	i = key_hash(k->str, k->len) & (ks->cap - 1);
	while (ks->slot[i])
		i = (i + 1) & (ks->cap - 1);
	ks->slot[i] = k;
	ks->n++;
}

static int
keyset_has(const struct keyset *ks, const char *s, size_t len)
{
	size_t i = key_hash(s, len) & (ks->cap - 1);

	for (; ks->slot[i]; i = (i + 1) & (ks->cap - 1))
		if (ks->slot[i]->len == len &&
		    memcmp(ks->slot[i]->str, s, len) == 0)
			return 1;
	return 0;
}

/* Whether the open mapping o already has the key s. */
static int
has_key(struct open *o, const char *s, size_t len)
{
	const struct ynode *m = o->node;
	size_t i;

	if (o->keys.cap)
		return keyset_has(&o->keys, s, len);
	for (i = 0; i < m->n; i++)
		if (m->v[2 * i]->len == len &&
		    memcmp(m->v[2 * i]->str, s, len) == 0)
			return 1;
	return 0;
}

static void
add_key(struct open *o, struct ynode *k)
{
	size_t i;

	if (o->keys.cap == 0 && o->node->n + 1 >= KEYSET_FROM)
		for (i = 0; i < o->node->n; i++)
			keyset_put(&o->keys, o->node->v[2 * i]);
	if (o->keys.cap)
		keyset_put(&o->keys, k);
}

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
	char shown[200];

	if (tag == NULL || strcmp((const char *)tag, "!") == 0)
		return 0;
	if (tag_type((const char *)tag, type, &k) < 0 || k != want)
		return mark_error(p, m, err, "unsupported tag '%s'",
		    text_clean(shown, sizeof(shown), (const char *)tag));
	return 0;
}

/*
 * Counts size more nodes (a tree of that many, height levels tall) at
 * the current depth against the limits.  Aliases count as the trees
 * they stand for: whoever walks the document walks those.
 */
static int
count(struct parser *p, size_t size, unsigned height, yaml_mark_t m,
    struct s7_error *err)
{
	if (size > YAML_MAX_NODES - p->nodes)
		return mark_error(p, m, err,
		    "the document has more than %u nodes (aliases counted as the nodes they repeat)",
		    (unsigned)YAML_MAX_NODES);
	if (p->depth + height > YAML_MAX_DEPTH)
		return mark_error(p, m, err,
		    "nesting is too deep (more than %u levels%s)", YAML_MAX_DEPTH,
		    height > 1 ? ", through an alias" : "");
	p->nodes += size;
	return 0;
}

/*
 * Adds a node to the open container (or makes it the root).  size and
 * height describe its tree, for the container's own count.
 */
static int
add_node(struct parser *p, struct ynode *n, size_t size, unsigned height,
    yaml_mark_t m, struct s7_error *err)
{
	struct open *o;
	struct ynode *top;

	if (p->depth == 0) {
		p->root = n;
		return 0;
	}
	o = &p->stack[p->depth - 1];
	top = o->node;
	o->size += size;
	if (height + 1 > o->height)
		o->height = height + 1;
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
		/* Keys are looked up as C strings: "k\0a" would be "k". */
		if (strlen(n->str) != n->len)
			return mark_error(p, m, err,
			    "a key contains a NUL character");
		if (has_key(o, n->str, n->len)) {
			char shown[200];

			return mark_error(p, m, err, "duplicate key '%s'",
			    text_escape_buf(shown, sizeof(shown), n->str, n->len,
			    120));
		}
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
		add_key(o, n);
		ynode_map_append(p->a, top, n, NULL);
	} else {
		top->v[2 * top->n - 1] = n;
	}
	top->len++;
	return 0;
}

static void
remember_anchor(struct parser *p, const char *anchor, struct ynode *n,
    size_t size, unsigned height)
{
	if (anchor == NULL)
		return;
	ALLOC_GROW(p->anchors, p->nanchors + 1, p->aanchors);
	p->anchors[p->nanchors].name = arena_strdup(p->a, anchor);
	p->anchors[p->nanchors].node = n;
	p->anchors[p->nanchors].size = size;
	p->anchors[p->nanchors].height = height;
	p->nanchors++;
}

static int
push(struct parser *p, struct ynode *n, const yaml_char_t *anchor,
    yaml_mark_t m, struct s7_error *err)
{
	struct open *o;

	if (p->depth >= YAML_MAX_DEPTH)
		return mark_error(p, m, err, "nesting is too deep (more than %u levels)",
		    YAML_MAX_DEPTH);
	if (count(p, 1, 1, m, err) < 0)
		return -1;
	/* The container's own size goes to its parent when it closes. */
	if (add_node(p, n, 0, 0, m, err) < 0)
		return -1;
	ALLOC_GROW(p->stack, p->depth + 1, p->alloc);
	o = &p->stack[p->depth];
	memset(o, 0, sizeof(*o));
	o->node = n;
	o->anchor = anchor ? arena_strdup(p->a, (const char *)anchor) : NULL;
	o->size = 1;
	o->height = 1;
	p->depth++;
	return 0;
}

static void
pop(struct parser *p)
{
	struct open *o = &p->stack[--p->depth];

	o->node->len = 0;
	free(o->keys.slot);
	o->keys.slot = NULL;
	if (p->depth > 0) {
		struct open *up = &p->stack[p->depth - 1];

		up->size += o->size;
		if (o->height + 1 > up->height)
			up->height = o->height + 1;
	}
	remember_anchor(p, o->anchor, o->node, o->size, o->height);
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

/*
 * The position (1-based line and column, in characters as libyaml
 * counts them) of byte off in buf.
 */
static void
position(const char *buf, size_t off, unsigned *line, unsigned *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\n' || (c == '\r' && (i + 1 >= off ||
		    buf[i + 1] != '\n'))) {
			(*line)++;
			*col = 1;
		} else if ((c & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

/*
 * What libyaml's reader refuses, found first with its position (libyaml
 * reports these at 1:1): bytes that are not UTF-8 and characters YAML
 * does not allow in a stream (NUL and other control characters, which
 * can only be written as escapes inside double quotes).
 */
static int
scan_input(const char *name, const char *buf, size_t len,
    struct s7_error *err)
{
	const unsigned char *s = (const unsigned char *)buf;
	size_t i = 0;

	while (i < len) {
		unsigned long c;
		size_t n = 1, k;
		unsigned line, col;
		const char *what = NULL;

		c = s[i];
		if (c >= 0x80) {
			n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ?
			    3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
			c &= n == 2 ? 0x1f : n == 3 ? 0x0f : 0x07;
			for (k = 1; n && k < n; k++) {
				if (i + k >= len || (s[i + k] & 0xc0) != 0x80) {
					n = 0;
					break;
				}
				c = (c << 6) | (s[i + k] & 0x3f);
			}
			if (n == 0 || (n == 3 && c < 0x800) ||
			    (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
			    (c >= 0xd800 && c <= 0xdfff))
				what = "is not valid UTF-8";
		}
		if (what == NULL && !(c == 0x09 || c == 0x0a || c == 0x0d ||
		    (c >= 0x20 && c <= 0x7e) || c == 0x85 ||
		    (c >= 0xa0 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) ||
		    (c >= 0x10000 && c <= 0x10ffff)))
			what = c == 0 ? "a NUL byte" : "a control character";
		if (what) {
			position(buf, i, &line, &col);
			if (strcmp(what, "is not valid UTF-8") == 0)
				return s7_error_at(err, name, line, col,
				    "byte 0x%02x %s", s[i], what);
			return s7_error_at(err, name, line, col,
			    "%s (U+%04lX) is not allowed in YAML; inside double quotes write it as an escape",
			    what, c);
		}
		i += n;
	}
	return 0;
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
	if (scan_input(name, buf, len, err) < 0)
		return -1;
	if (!yaml_parser_initialize(&parser)) {
		s7_error(err, "cannot initialise the YAML parser");
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (!done) {
		struct ynode *n;
		enum ytype t;

		if (!yaml_parser_parse(&parser, &ev)) {
			unsigned line = (unsigned)parser.problem_mark.line + 1;
			unsigned col = (unsigned)parser.problem_mark.column + 1;

			/* Reader errors carry an offset, not a mark. */
			if (parser.error == YAML_READER_ERROR &&
			    parser.problem_offset <= len)
				position(buf, parser.problem_offset, &line, &col);
			s7_error_at(err, name, line, col, "%s%s%s",
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
					char shown[200];

					mark_error(&p, ev.start_mark, err,
					    "'%s' does not match its tag",
					    text_escape_buf(shown, sizeof(shown),
					    n->str, n->len, 120));
					yaml_event_delete(&ev);
					goto done;
				}
				n->type = t;
			}
			if (count(&p, 1, 0, ev.start_mark, err) < 0 ||
			    add_node(&p, n, 1, 0, ev.start_mark, err) < 0) {
				yaml_event_delete(&ev);
				goto done;
			}
			remember_anchor(&p, (const char *)ev.data.scalar.anchor,
			    n, 1, 0);
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
			struct anchor *target = NULL;
			size_t i;

			if (++p.aliases > YAML_MAX_ALIASES) {
				mark_error(&p, ev.start_mark, err,
				    "too many aliases");
				yaml_event_delete(&ev);
				goto done;
			}
			for (i = p.nanchors; i > 0; i--)
				if (strcmp(p.anchors[i - 1].name, an) == 0) {
					target = &p.anchors[i - 1];
					break;
				}
			if (target == NULL) {
				char shown[200];

				mark_error(&p, ev.start_mark, err,
				    "unknown anchor '%s'", text_clean(shown,
				    sizeof(shown), an));
				yaml_event_delete(&ev);
				goto done;
			}
			/* Aliases are shared, read-only subtrees. */
			if (count(&p, target->size, target->height,
			    ev.start_mark, err) < 0 ||
			    add_node(&p, target->node, target->size,
			    target->height, ev.start_mark, err) < 0) {
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
	while (p.depth > 0)
		free(p.stack[--p.depth].keys.slot);
	free(docs);
	free(p.stack);
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
