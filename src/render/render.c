/*
 * Each component renders into a contiguous range of objects: its upstream
 * manifests first (read from the cache and checked against the pinned
 * sha256), then its templates, where a document holding `$patch` is a
 * merge patch onto one of the component's upstream objects rather than
 * a new object.  The range is then sorted by kind rank.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render.h"
#include "context.h"
#include "kinds.h"
#include "images.h"
#include "parsed.h"
#include "../json/json.h"
#include "../catalog/template.h"
#include "../site/dns.h"
#include "../site/hosts.h"
#include "../crypto/crypto.h"
#include "../util/fs.h"
#include "../util/text.h"
#include "../util/xmalloc.h"
#include "../yaml/yaml.h"
#include "../util/banned.h"

#define UPSTREAM_MAX ((size_t)64 * 1024 * 1024)
#define COMPONENT_LABEL "sector7.io/component"

void
rendered_init(struct rendered *r)
{
	memset(r, 0, sizeof(*r));
	arena_init(&r->arena);
}

void
rendered_release(struct rendered *r)
{
	size_t i;

	for (i = 0; i < r->nmaps; i++)
		parsed_close(r->maps[i]);
	free(r->maps);
	free(r->objs);
	free(r->patches);
	arena_release(&r->arena);
	memset(r, 0, sizeof(*r));
}

const char *
render_default_upstream(void)
{
	static char buf[4096];
	const char *e = getenv("SECTOR7_UPSTREAM"), *home, *xdg;

	if (e && *e)
		return e;
	xdg = getenv("XDG_CACHE_HOME");
	if (xdg && *xdg) {
		xsnprintf(buf, sizeof(buf), "%s/sector7/upstream", xdg);
		return buf;
	}
	home = getenv("HOME");
	xsnprintf(buf, sizeof(buf), "%s/.cache/sector7/upstream",
	    home && *home ? home : ".");
	return buf;
}

static int
node_error(struct s7_error *err, const struct ynode *at, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

static int
node_error(struct s7_error *err, const struct ynode *at, const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return s7_error_at(err, at ? at->file : NULL, at ? at->line : 0,
	    at ? at->col : 0, "%s", msg);
}

/* Evaluates a descriptor `when`; errors point at the descriptor. */
static int
eval_when(struct rendered *r, const char *expr, const struct ynode *at,
    int *yes, struct s7_error *err)
{
	const struct ynode *v;

	if (expr == NULL) {
		*yes = 1;
		return 0;
	}
	if (tmpl_eval(&r->arena, expr, r->ctx, &v, err) < 0) {
		if (at) {
			err->line = at->line;
			err->col = at->col;
			snprintf(err->file, sizeof(err->file), "%s",
			    at->file ? at->file : "");
		}
		return -1;
	}
	*yes = ynode_truthy(v);
	return 0;
}

static const char *
scalar_at(const struct ynode *n, const char *path)
{
	const struct ynode *v = ynode_path(n, path);

	return v && v->kind == Y_SCALAR && v->type == YT_STR && v->len ?
	    v->str : NULL;
}

static int
add_object(struct rendered *r, size_t comp, struct ynode *obj,
    enum rsource src, const char *origin, struct s7_error *err)
{
	struct robject *o;
	const char *av, *kind, *name;

	if (obj->kind != Y_MAP)
		return node_error(err, obj,
		    "a Kubernetes object must be a mapping, found %s",
		    ynode_kind_name(obj));
	if ((av = scalar_at(obj, "apiVersion")) == NULL)
		return node_error(err, obj, "object has no apiVersion");
	if ((kind = scalar_at(obj, "kind")) == NULL)
		return node_error(err, obj, "object has no kind");
	if ((name = scalar_at(obj, "metadata.name")) == NULL)
		return node_error(err, obj, "%s has no metadata.name", kind);
	if (strlen(name) > 253 || strpbrk(name, "/ \t\n%") != NULL)
		return node_error(err, ynode_path(obj, "metadata.name"),
		    "'%s' is not a valid object name", name);
	ALLOC_GROW(r->objs, r->nobjs + 1, r->aobjs);
	o = &r->objs[r->nobjs];
	memset(o, 0, sizeof(*o));
	o->comp = comp;
	o->obj = obj;
	o->api_version = av;
	o->kind = kind;
	o->name = name;
	o->namespace = scalar_at(obj, "metadata.namespace");
	o->rank = kind_rank(kind);
	o->src = src;
	o->origin = origin;
	o->seq = r->nobjs;
	r->nobjs++;
	return 0;
}

/* kind List, or FooList, with items and no name of its own. */
static int
is_list(const struct ynode *d)
{
	const char *kind = scalar_at(d, "kind");
	const struct ynode *items = ynode_get(d, "items");

	return kind && text_has_suffix(kind, "List") && items &&
	    items->kind == Y_SEQ && scalar_at(d, "metadata.name") == NULL;
}

/*
 * Checks the cached file's sha256 against the pin, reading it in pieces
 * (it is not kept: the objects come from its parsed form, or from a
 * parse done now).
 */
static int
verify_upstream(const char *path, const struct upstream_src *u,
    const struct render_opts *o, struct s7_error *err)
{
	struct crypto_sha256_ctx *c;
	char sum[SHA256_HEXLEN];
	static char buf[1 << 20];
	size_t total = 0;
	ssize_t n;
	int fd;

	if (!fs_exists(path)) {
		int dflt = strcmp(o->upstream_dir, render_default_upstream()) == 0;

		return s7_error(err, "upstream cache %s lacks %s; run 'sector7 fetch%s%s' (or 'sector7 fetch%s%s --mirror DIR')",
		    o->upstream_dir, u->file, dflt ? "" : " --upstream ",
		    dflt ? "" : o->upstream_dir, dflt ? "" : " --upstream ",
		    dflt ? "" : o->upstream_dir);
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return s7_error(err, "%s: %s", path, strerror(errno));
	c = crypto_sha256_begin();
	while ((n = read(fd, buf, sizeof(buf))) > 0 ||
	    (n < 0 && errno == EINTR)) {
		if (n < 0)
			continue;
		crypto_sha256_add(c, buf, (size_t)n);
		total += (size_t)n;
	}
	crypto_sha256_end(c, sum);
	if (n < 0) {
		s7_error(err, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	if (total > UPSTREAM_MAX)
		return s7_error(err, "upstream manifest '%s' is larger than %zu bytes",
		    path, UPSTREAM_MAX);
	if (strcmp(sum, u->sha256) != 0)
		return s7_error(err, "upstream manifest '%s' has sha256 %s but the catalog pins %s (%s): the file was changed or is another version",
		    path, sum, u->sha256, u->url);
	return 0;
}

/* The objects of a parsed-cache entry, without trees. */
static int
add_parsed(struct rendered *r, size_t comp, const struct upstream_src *u,
    const struct parsed *p, struct s7_error *err)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		const struct parsed_doc *d = &p->docs[i];
		struct robject *o;

		ALLOC_GROW(r->objs, r->nobjs + 1, r->aobjs);
		o = &r->objs[r->nobjs];
		memset(o, 0, sizeof(*o));
		o->comp = comp;
		o->from = p;
		o->doc = d;
		o->api_version = d->api_version;
		o->kind = d->kind;
		o->name = d->name;
		o->namespace = d->namespace;
		o->rank = kind_rank(d->kind);
		o->src = SRC_UPSTREAM;
		o->origin = u->file;
		o->seq = r->nobjs;
		r->nobjs++;
	}
	(void)err;
	return 0;
}

static void label(struct rendered *r, struct robject *o, const char *component);

/* Stores the objects [first, r->nobjs) as the entry of this file. */
static void
keep_parsed(struct rendered *r, size_t first, const struct upstream_src *u,
    const char *component)
{
	struct parsed_in *in = xcalloc(r->nobjs - first + 1, sizeof(*in));
	struct strbuf y, j;
	struct s7_error err;
	size_t i, n = 0;

	strbuf_init(&y, UPSTREAM_MAX);
	strbuf_init(&j, UPSTREAM_MAX);
	for (i = first; i < r->nobjs; i++) {
		struct robject *o = &r->objs[i];
		size_t y0 = y.len, j0 = j.len;

		if (yaml_emit(&y, o->obj, 0, &err) < 0 ||
		    json_emit(&j, o->obj, 0, &err) < 0)
			goto done;
		in[n].kind = o->kind;
		in[n].api_version = o->api_version;
		in[n].name = o->name;
		in[n].namespace = o->namespace;
		in[n].yaml = (const char *)(uintptr_t)y0;
		in[n].yaml_len = y.len - y0;
		in[n].json = (const char *)(uintptr_t)j0;
		in[n].json_len = j.len - j0;
		n++;
	}
	if (y.overflow || j.overflow)
		goto done;
	for (i = 0; i < n; i++) {
		in[i].yaml = y.buf + (uintptr_t)in[i].yaml;
		in[i].json = j.buf + (uintptr_t)in[i].json;
	}
	parsed_write(u->sha256, component, in, n);
done:
	strbuf_release(&y);
	strbuf_release(&j);
	free(in);
}

static int
load_upstream(struct rendered *r, size_t comp, const struct upstream_src *u,
    const struct render_opts *o, struct s7_error *err)
{
	const char *component = r->comps[comp].c->name;
	char *path = arena_printf(&r->arena, "%s/%s", o->upstream_dir, u->file);
	struct strbuf sb;
	struct ydocs docs;
	struct parsed *p = arena_alloc(&r->arena, sizeof(*p));
	size_t i, first = r->nobjs;
	int ret = -1;

	if (verify_upstream(path, u, o, err) < 0)
		return -1;
	if (parsed_open(&r->arena, u->sha256, component, p) == 0) {
		ALLOC_GROW(r->maps, r->nmaps + 1, r->amaps);
		r->maps[r->nmaps++] = p;
		return add_parsed(r, comp, u, p, err);
	}
	strbuf_init(&sb, UPSTREAM_MAX);
	if (fs_read(path, &sb, err) < 0)
		goto done;
	if (yaml_parse(&r->arena, path, sb.buf, sb.len, &docs, err) < 0)
		goto done;
	for (i = 0; i < docs.n; i++) {
		struct ynode *d = docs.doc[i];

		if (d == NULL || (d->kind == Y_SCALAR && d->type == YT_NULL))
			continue;
		/* Shared alias nodes must not be patched in two places. */
		d = ynode_copy(&r->arena, d);
		if (is_list(d)) {
			/* A List (e.g. kube-prometheus's dashboards): its items
			 * are the objects. */
			const struct ynode *items = ynode_get(d, "items");
			size_t j;

			for (j = 0; items && j < items->n; j++)
				if (add_object(r, comp, items->v[j], SRC_UPSTREAM,
				    u->file, err) < 0)
					goto done;
			continue;
		}
		if (add_object(r, comp, d, SRC_UPSTREAM, u->file, err) < 0)
			goto done;
	}
	/* As the parsed cache will give them: with the component's label. */
	for (i = first; i < r->nobjs; i++)
		label(r, &r->objs[i], component);
	keep_parsed(r, first, u, component);
	ret = 0;
done:
	strbuf_release(&sb);
	return ret;
}

int
robject_tree(const struct robject *o, struct arena *a,
    const struct ynode **out, struct s7_error *err)
{
	struct ynode *t;
	struct strbuf sb;
	int ret;

	if (o->obj) {
		*out = o->obj;
		return 0;
	}
	strbuf_init(&sb, UPSTREAM_MAX);
	ret = parsed_read(o->from, o->doc->json_off, o->doc->json_len, &sb,
	    err);
	if (ret == 0)
		ret = json_parse(a, o->origin, sb.buf, sb.len, &t, err);
	strbuf_release(&sb);
	if (ret == 0)
		*out = t;
	return ret;
}

static int
apply_patch(struct rendered *r, size_t first, struct ynode *doc,
    const char *tmpl_path, struct s7_error *err)
{
	const struct ynode *sel = ynode_get(doc, "$patch");
	const char *kind, *name, *ns;
	struct ynode *body;
	size_t i, match = 0, hits = 0;
	int del;

	if (sel == NULL || sel->kind != Y_MAP)
		return node_error(err, doc,
		    "$patch must be a mapping with kind and name");
	for (i = 0; i < sel->n; i++) {
		const char *k = sel->v[2 * i]->str;

		if (strcmp(k, "kind") && strcmp(k, "name") &&
		    strcmp(k, "namespace") && strcmp(k, "delete"))
			return node_error(err, sel->v[2 * i],
			    "unknown key '%s' in $patch", k);
	}
	kind = ynode_get_str(sel, "kind");
	name = ynode_get_str(sel, "name");
	ns = ynode_get_str(sel, "namespace");
	del = ynode_truthy(ynode_get(sel, "delete"));
	if (kind == NULL || name == NULL)
		return node_error(err, sel, "$patch needs kind and name");
	for (i = first; i < r->nobjs; i++) {
		struct robject *o = &r->objs[i];

		if (o->src == SRC_TEMPLATE || strcmp(o->kind, kind) ||
		    strcmp(o->name, name))
			continue;
		if (ns && (o->namespace == NULL || strcmp(o->namespace, ns)))
			continue;
		match = i;
		hits++;
	}
	if (hits == 0)
		return node_error(err, sel,
		    "$patch: no upstream %s '%s'%s%s in this component", kind,
		    name, ns ? " in namespace " : "", ns ? ns : "");
	if (hits > 1)
		return node_error(err, sel,
		    "$patch: %zu upstream objects match %s '%s'; add namespace",
		    hits, kind, name);
	if (del) {
		if (doc->n != 1)
			return node_error(err, doc,
			    "a $patch with delete: true takes no other keys");
		memmove(&r->objs[match], &r->objs[match + 1],
		    (r->nobjs - match - 1) * sizeof(*r->objs));
		r->nobjs--;
		return 0;
	}
	body = ynode_copy(&r->arena, doc);
	ynode_map_del(body, "$patch");
	{
		struct robject *o = &r->objs[match];
		struct ynode *patched;

		if (o->obj == NULL) {	/* from the parsed cache: a tree now */
			const struct ynode *t;

			if (robject_tree(o, &r->arena, &t, err) < 0)
				return -1;
			o->obj = (struct ynode *)t;
			o->from = NULL;
			o->doc = NULL;
		}
		patched = ynode_merge_patch(&r->arena, o->obj, body);
		const char *nk = scalar_at(patched, "kind");
		const char *nn = scalar_at(patched, "metadata.name");
		const char *nns = scalar_at(patched, "metadata.namespace");

		if (nk == NULL || nn == NULL || strcmp(nk, o->kind) ||
		    strcmp(nn, o->name) || (nns == NULL) != (o->namespace == NULL) ||
		    (nns && strcmp(nns, o->namespace)))
			return node_error(err, doc,
			    "$patch must not change the object's kind, name or namespace");
		o->obj = patched;
		o->api_version = scalar_at(patched, "apiVersion");
		o->kind = nk;
		o->name = nn;
		o->namespace = nns;
		o->src = SRC_PATCHED;
		o->origin = arena_printf(&r->arena, "%s, patched by %s",
		    o->origin, tmpl_path);
	}
	return 0;
}

static void
label(struct rendered *r, struct robject *o, const char *component)
{
	struct ynode *meta = o->obj ? ynode_get(o->obj, "metadata") : NULL;
	struct ynode *labels;

	/* From the parsed cache: labelled when it was stored. */
	if (meta == NULL || meta->kind != Y_MAP)
		return;
	labels = ynode_get(meta, "labels");
	if (labels == NULL || labels->kind != Y_MAP) {
		labels = ynode_map(&r->arena);
		ynode_map_set(&r->arena, meta, "labels", labels);
	}
	ynode_map_set(&r->arena, labels, COMPONENT_LABEL,
	    ynode_str(&r->arena, component));
}

static int
cmp_rank(const void *x, const void *y)
{
	const struct robject *a = x, *b = y;

	if (a->rank != b->rank)
		return a->rank - b->rank;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static size_t
group_len(const char *api_version)
{
	const char *slash = strchr(api_version, '/');

	return slash ? (size_t)(slash - api_version) : 0;
}

/* Objects by group, kind, namespace and name. */
static int
cmp_identity(const void *x, const void *y)
{
	const struct robject *a = *(const struct robject *const *)x;
	const struct robject *b = *(const struct robject *const *)y;
	size_t ga = group_len(a->api_version), gb = group_len(b->api_version);
	int c;

	if ((c = memcmp(a->api_version, b->api_version, ga < gb ? ga : gb)) ||
	    (c = (ga > gb) - (ga < gb)) ||
	    (c = strcmp(a->kind, b->kind)) ||
	    (c = strcmp(a->namespace ? a->namespace : "",
	    b->namespace ? b->namespace : "")))
		return c;
	return strcmp(a->name, b->name);
}

/* No object may be rendered twice: sorted by identity, neighbours differ. */
/* The site's images.mirror and images.overrides on every object. */
static int
site_images(struct rendered *r, const struct site *s, struct s7_error *err)
{
	const struct ynode *im = site_get(s, "images");
	const struct ynode *ov = ynode_get(im, "overrides");
	struct image_map m;
	size_t i;

	memset(&m, 0, sizeof(m));
	m.mirror = ynode_get_str(im, "mirror");
	m.preloaded = ynode_truthy(ynode_get(im, "preloaded"));
	if (ov && ov->kind == Y_SEQ && ov->n) {
		m.from = arena_array(&r->arena, ov->n, sizeof(*m.from));
		m.to = arena_array(&r->arena, ov->n, sizeof(*m.to));
		for (i = 0; i < ov->n; i++) {
			m.from[m.n] = ynode_get_str(ov->v[i], "from");
			m.to[m.n] = ynode_get_str(ov->v[i], "to");
			if (m.from[m.n] && m.to[m.n])
				m.n++;
		}
	}
	return render_images(r, &m, err);
}

static int
check_unique(struct rendered *r, struct s7_error *err)
{
	const struct robject **v = xcalloc(r->nobjs + 1, sizeof(*v));
	size_t i;
	int ret = 0;

	for (i = 0; i < r->nobjs; i++)
		v[i] = &r->objs[i];
	qsort(v, r->nobjs, sizeof(*v), cmp_identity);
	for (i = 1; i < r->nobjs && ret == 0; i++) {
		const struct robject *a = v[i - 1], *b = v[i], *t;

		if (cmp_identity(&v[i - 1], &v[i]) != 0)
			continue;
		if (a->seq > b->seq) {	/* the first rendered first */
			t = a;
			a = b;
			b = t;
		}
		ret = node_error(err, b->obj,
		    "%s '%s' is rendered twice (by %s and %s)", b->kind, b->name,
		    r->comps[a->comp].c->name, r->comps[b->comp].c->name);
	}
	free(v);
	return ret;
}

/* The gates whose `when` holds, with their addresses evaluated. */
static int
resolve_gates(struct rendered *r, struct rcomponent *rc, struct s7_error *err)
{
	const struct component *c = rc->c;
	size_t i;

	rc->gates = arena_array(&r->arena, c->ngates + 1, sizeof(*rc->gates));
	for (i = 0; i < c->ngates; i++) {
		const struct gate *g = &c->gates[i];
		struct rgate *rg = &rc->gates[rc->ngates];
		const struct ynode *v;
		int yes;

		if (eval_when(r, g->when, g->at, &yes, err) < 0)
			return -1;
		if (!yes)
			continue;
		rg->type = g->type;
		rg->kind = g->kind;
		rg->name = g->name;
		rg->namespace = g->namespace;
		if (g->address) {
			if (tmpl_eval(&r->arena, g->address, r->ctx, &v, err) < 0)
				return -1;
			if (v == NULL || v->kind != Y_SCALAR)
				return node_error(err, g->at,
				    "the address of a loadbalancer gate must be a scalar");
			rg->address = v->str;
		}
		rc->ngates++;
	}
	return 0;
}

static int
resolve_secrets(struct rendered *r, struct rcomponent *rc,
    struct s7_error *err)
{
	const struct component *c = rc->c;
	size_t i;
	int yes;

	rc->secrets = arena_array(&r->arena, c->nsecrets + 1,
	    sizeof(*rc->secrets));
	for (i = 0; i < c->nsecrets; i++) {
		if (eval_when(r, c->secrets[i].when, c->secrets[i].at, &yes,
		    err) < 0)
			return -1;
		if (yes)
			rc->secrets[rc->nsecrets++] = &c->secrets[i];
	}
	return 0;
}

static int add_document(struct rendered *r, size_t comp, struct ynode *out,
    const char *origin, const struct render_opts *o, int in_lib,
    struct s7_error *err);

/* Keeps a $patch whose upstream object a templates-only render lacks. */
static int
keep_patch(struct rendered *r, size_t comp, struct ynode *doc,
    struct s7_error *err)
{
	const struct ynode *sel = ynode_get(doc, "$patch");
	struct ynode *body;
	struct rpatch *p;

	if (sel == NULL || sel->kind != Y_MAP || !ynode_get_str(sel, "kind") ||
	    !ynode_get_str(sel, "name"))
		return node_error(err, doc, "$patch needs kind and name");
	if (ynode_truthy(ynode_get(sel, "delete")))
		return 0;
	body = ynode_copy(&r->arena, doc);
	ynode_map_del(body, "$patch");
	ALLOC_GROW(r->patches, r->npatches + 1, r->apatches);
	p = &r->patches[r->npatches++];
	p->comp = comp;
	p->kind = ynode_get_str(sel, "kind");
	p->name = ynode_get_str(sel, "name");
	p->namespace = ynode_get_str(sel, "namespace");
	p->body = body;
	return 0;
}

/*
 * Expands a `$use` document: each document of the shared template it
 * names, with the context plus `args` (the document's `$with`).
 */
static int
use_lib(struct rendered *r, size_t comp, struct ynode *doc, const char *from,
    const struct render_opts *o, struct s7_error *err)
{
	const struct ynode *name = ynode_get(doc, "$use");
	const struct ynode *with = ynode_get(doc, "$with");
	const struct tmpl_file *lib;
	struct ynode *ctx;
	size_t i;

	for (i = 0; i < doc->n; i++)
		if (strcmp(doc->v[2 * i]->str, "$use") &&
		    strcmp(doc->v[2 * i]->str, "$with"))
			return node_error(err, doc->v[2 * i],
			    "a $use document takes only $when and $with, not '%s'",
			    doc->v[2 * i]->str);
	if (name == NULL || name->kind != Y_SCALAR || name->type != YT_STR)
		return node_error(err, doc, "$use names a file of catalog/lib/");
	if (with && with->kind != Y_MAP)
		return node_error(err, with, "$with must be a mapping");
	if ((lib = catalog_lib(r->cat, name->str, err)) == NULL) {
		char msg[sizeof(err->msg)];

		if (err->line)		/* an error in the shared template */
			return -1;
		snprintf(msg, sizeof(msg), "%s", err->msg);
		return s7_error_at(err, name->file, name->line, name->col, "%s",
		    msg);
	}
	/* The context as it is, and args: a shallow copy, cheap. */
	ctx = ynode_map(&r->arena);
	for (i = 0; i < r->ctx->n; i++)
		ynode_map_append(&r->arena, ctx, r->ctx->v[2 * i],
		    r->ctx->v[2 * i + 1]);
	ynode_map_set(&r->arena, ctx, "args", with ? (struct ynode *)with :
	    ynode_map(&r->arena));
	for (i = 0; i < lib->ndocs; i++) {
		struct ynode *out;

		if (lib->docs[i] == NULL)
			continue;
		if (tmpl_expand(&r->arena, lib->docs[i], ctx, &out, err) < 0)
			return -1;
		if (out && add_document(r, comp, out, arena_printf(&r->arena,
		    "%s (by %s)", lib->path, from), o, 1, err) < 0)
			return -1;
	}
	return 0;
}

/* An expanded template document: an object, a $patch or a $use. */
static int
add_document(struct rendered *r, size_t comp, struct ynode *out,
    const char *origin, const struct render_opts *o, int in_lib,
    struct s7_error *err)
{
	if (out->kind == Y_MAP && ynode_get_key(out, "$use")) {
		if (in_lib)
			return node_error(err, out,
			    "a shared template cannot $use another");
		return use_lib(r, comp, out, origin, o, err);
	}
	if (out->kind == Y_MAP && ynode_get_key(out, "$patch")) {
		if (o->templates_only)
			return keep_patch(r, comp, out, err);
		return apply_patch(r, r->comps[comp].first, out, origin, err);
	}
	return add_object(r, comp, out, SRC_TEMPLATE, origin, err);
}

/* The facts components add to the context, in catalog order. */
static int
component_context(struct rendered *r, struct s7_error *err)
{
	size_t i;

	for (i = 0; i < r->cat->n; i++) {
		const struct component *c = &r->cat->c[i];
		struct ynode *facts;

		if (c->context == NULL)
			continue;
		if (tmpl_expand(&r->arena, c->context, r->ctx, &facts, err) < 0) {
			s7_error_prefix(err, "component '%s': context", c->name);
			return -1;
		}
		if (facts)
			r->ctx = ynode_merge_patch(&r->arena, r->ctx, facts);
	}
	return 0;
}

static int
render_component(struct rendered *r, size_t ci, const struct render_opts *o,
    struct s7_error *err)
{
	struct rcomponent *rc = &r->comps[ci];
	const struct component *c = rc->c;
	size_t i, j;
	int yes;

	rc->first = r->nobjs;
	for (i = 0; i < c->nupstream && !o->templates_only; i++) {
		if (eval_when(r, c->upstream[i].when, c->upstream[i].at, &yes,
		    err) < 0)
			return -1;
		if (yes && load_upstream(r, ci, &c->upstream[i], o, err) < 0)
			return -1;
	}
	for (i = 0; i < c->ntmpl; i++)
		for (j = 0; j < c->tmpl[i].ndocs; j++) {
			const struct ynode *d = c->tmpl[i].docs[j];
			struct ynode *out;

			if (d == NULL)
				continue;
			if (tmpl_expand(&r->arena, d, r->ctx, &out, err) < 0)
				return -1;
			if (out != NULL && add_document(r, ci, out,
			    c->tmpl[i].path, o, 0, err) < 0)
				return -1;
		}
	rc->nobj = r->nobjs - rc->first;
	for (i = rc->first; i < r->nobjs; i++)
		label(r, &r->objs[i], c->name);
	if (resolve_gates(r, rc, err) < 0 || resolve_secrets(r, rc, err) < 0)
		return -1;
	qsort(r->objs + rc->first, rc->nobj, sizeof(*r->objs), cmp_rank);
	return 0;
}

int
render_stack(struct rendered *r, const struct site *s,
    struct catalog *cat, const struct render_opts *o,
    struct s7_error *err)
{
	size_t i;

	r->cat = cat;
	r->ctx = context_build(&r->arena, s, o->version);
	if (component_context(r, err) < 0)
		return -1;
	r->ncomps = cat->n;
	r->comps = arena_array(&r->arena, cat->n + 1, sizeof(*r->comps));
	for (i = 0; i < cat->n; i++) {
		struct rcomponent *rc = &r->comps[i];
		int yes;

		rc->c = &cat->c[i];
		rc->index = (unsigned)i + 1;
		rc->first = r->nobjs;
		if (eval_when(r, rc->c->when, ynode_get(rc->c->y, "when"), &yes,
		    err) < 0)
			return -1;
		rc->enabled = yes;
		if (yes && render_component(r, i, o, err) < 0) {
			s7_error_prefix(err, "component '%s'", rc->c->name);
			return -1;
		}
	}
	if (check_unique(r, err) < 0 || site_images(r, s, err) < 0)
		return -1;
	return 0;
}

/* Lowercase, and anything outside [a-z0-9.-] becomes '_'. */
static void
sanitize(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		char c = *s;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '-'))
			c = '_';
		strbuf_addch(sb, c);
	}
}

const char *
render_object_path(struct rendered *r, const struct robject *o)
{
	const struct rcomponent *rc = &r->comps[o->comp];
	struct strbuf sb;
	const char *p;

	strbuf_init(&sb, 4096);
	strbuf_addf(&sb, "manifests/%02u-%s/%02d-", rc->index, rc->c->name,
	    o->rank);
	sanitize(&sb, o->kind);
	strbuf_addch(&sb, '-');
	if (o->namespace) {
		sanitize(&sb, o->namespace);
		strbuf_addch(&sb, '-');
	}
	sanitize(&sb, o->name);
	strbuf_addstr(&sb, ".yaml");
	p = arena_strdup(&r->arena, sb.buf);
	strbuf_release(&sb);
	return p;
}

int
render_object_yaml(const struct robject *o, struct strbuf *sb,
    struct s7_error *err)
{
	if (o->obj == NULL)
		return parsed_read(o->from, o->doc->yaml_off, o->doc->yaml_len, sb,
		    err);
	return yaml_emit(sb, o->obj, 0, err);
}

static const char *
source_word(enum rsource s)
{
	return s == SRC_TEMPLATE ? "template" : s == SRC_UPSTREAM ?
	    "upstream" : "upstream+patch";
}

int
render_stream(struct rendered *r, FILE *fp, struct s7_error *err)
{
	struct strbuf sb;
	size_t i;
	int ret = 0;

	/* One object at a time: the stream is never all in memory. */
	strbuf_init(&sb, UPSTREAM_MAX);
	for (i = 0; i < r->nobjs && ret == 0; i++) {
		const struct robject *o = &r->objs[i];

		fprintf(fp, "---\n# %s: %s %s\n", r->comps[o->comp].c->name,
		    source_word(o->src), o->origin);
		strbuf_reset(&sb);
		ret = render_object_yaml(o, &sb, err);
		fwrite(sb.buf, 1, sb.len, fp);
	}
	strbuf_release(&sb);
	return ret;
}

/* ---- the render directory ---- */

struct out_file {
	const char *path;
	char sum[SHA256_HEXLEN];
	const char *source;
};

struct writer {
	struct rendered *r;
	const char *root;	/* the temporary tree */
	char *made;		/* the directory last created */
	struct out_file *files;
	size_t nfiles, afiles;
};

static int
write_one(struct writer *w, const char *rel, const char *data, size_t len,
    mode_t mode, const char *source, struct s7_error *err)
{
	char *path = xasprintf("%s/%s", w->root, rel);
	char *dir = xstrdup(path);
	struct out_file *f;
	int ret = -1;

	*strrchr(dir, '/') = '\0';
	if (w->made == NULL || strcmp(w->made, dir) != 0) {
		if (fs_mkdirs(dir, 0755, err) < 0)
			goto done;
		free(w->made);
		w->made = xstrdup(dir);
	}
	if (fs_exists(path)) {
		s7_error(err, "two rendered files would both be '%s'", rel);
		goto done;
	}
	if (fs_write_atomic(path, data, len, mode, err) < 0)
		goto done;
	ALLOC_GROW(w->files, w->nfiles + 1, w->afiles);
	f = &w->files[w->nfiles++];
	f->path = arena_strdup(&w->r->arena, rel);
	sha256_hex(data, len, f->sum);
	f->source = arena_strdup(&w->r->arena, source);
	ret = 0;
done:
	free(path);
	free(dir);
	return ret;
}

static int
write_text(struct writer *w, const char *rel, struct strbuf *sb, mode_t mode,
    struct s7_error *err)
{
	int r = write_one(w, rel, sb->buf, sb->len, mode, "site", err);

	strbuf_reset(sb);
	return r;
}

static int
write_hosts(struct writer *w, const struct site *s, struct s7_error *err)
{
	struct strbuf sb;
	struct dns_plan dp;
	size_t i;
	int ret = -1;

	strbuf_init(&sb, STRBUF_SMALL);
	for (i = 0; i < s->nnodes; i++) {
		char rel[128];

		hosts_k3s_config(s, &s->nodes[i], &sb);
		xsnprintf(rel, sizeof(rel), "host/k3s/%s.yaml", s->nodes[i].name);
		if (write_text(w, rel, &sb, 0644, err) < 0)
			goto done;
	}
	hosts_prerequisites(s, &sb);
	if (write_text(w, "host/prerequisites.sh", &sb, 0755, err) < 0)
		goto done;
	hosts_firewall(s, &sb);
	if (write_text(w, "firewall/port-forwards.txt", &sb, 0644, err) < 0)
		goto done;
	dns_plan(s, &dp);
	dns_format_internal(s, &dp, &sb);
	if (write_text(w, "dns/unbound-host-overrides.txt", &sb, 0644, err) < 0)
		goto done;
	dns_format_unbound(&dp, &sb);
	if (write_text(w, "dns/unbound.conf", &sb, 0644, err) < 0)
		goto done;
	dns_format_external(&dp, &sb);
	if (write_text(w, "dns/external-zone.txt", &sb, 0644, err) < 0)
		goto done;
	ret = 0;
done:
	strbuf_release(&sb);
	return ret;
}

static int
cmp_file(const void *x, const void *y)
{
	return strcmp(((const struct out_file *)x)->path,
	    ((const struct out_file *)y)->path);
}

static int
write_sources(struct writer *w, const struct site *s, struct s7_error *err)
{
	struct strbuf sb;
	size_t i;
	int ret;

	qsort(w->files, w->nfiles, sizeof(*w->files), cmp_file);
	strbuf_init(&sb, STRBUF_TEXT);
	strbuf_addf(&sb, "# sector7 render of site '%s': sha256, file, where it came from\n",
	    s->name);
	for (i = 0; i < w->nfiles; i++)
		strbuf_addf(&sb, "%s  %s  %s\n", w->files[i].sum,
		    w->files[i].path, w->files[i].source);
	{
		char *path = xasprintf("%s/SOURCES", w->root);

		ret = fs_write_atomic(path, sb.buf, sb.len, 0644, err);
		free(path);
	}
	strbuf_release(&sb);
	return ret;
}

int
render_write_dir(struct rendered *r, const struct site *s, const char *dir,
    size_t *nfiles, struct s7_error *err)
{
	struct writer w;
	struct strbuf sb;
	char *tmp = xasprintf("%s.new-%ld", dir, (long)getpid());
	size_t i;
	int exists, swapped, ret = -1;
	struct s7_error ignore;

	memset(&w, 0, sizeof(w));
	w.r = r;
	w.root = tmp;
	strbuf_init(&sb, STRBUF_OBJECT);
	if (fs_replaceable_dir(dir, "SOURCES", NULL,
	    "earlier render (no SOURCES file)", &exists, err) < 0)
		goto done;
	if (fs_remove_tree(tmp, err) < 0 || fs_mkdirs(tmp, 0755, err) < 0)
		goto done;
	for (i = 0; i < r->nobjs; i++) {
		const struct robject *o = &r->objs[i];
		char *src;

		strbuf_reset(&sb);
		if (render_object_yaml(o, &sb, err) < 0)
			goto fail;
		src = xasprintf("%s %s", source_word(o->src), o->origin);
		if (write_one(&w, render_object_path(r, o), sb.buf, sb.len, 0644,
		    src, err) < 0) {
			free(src);
			goto fail;
		}
		free(src);
	}
	if (write_hosts(&w, s, err) < 0 || write_sources(&w, s, err) < 0)
		goto fail;
	if ((swapped = fs_swap_dir(tmp, dir, exists, err)) < 0)
		goto fail;
	if (swapped > 0)
		goto done;
	*nfiles = w.nfiles + 1;
	ret = 0;
	goto done;
fail:
	fs_remove_tree(tmp, &ignore);
done:
	strbuf_release(&sb);
	free(w.files);
	free(w.made);
	free(tmp);
	return ret;
}
