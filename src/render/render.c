/*
 * Each component renders into a contiguous range of objects: its upstream
 * manifests first (read from the cache and checked against the pinned
 * sha256), then its templates, where a document holding `$patch` is a
 * merge patch onto one of the component's upstream objects rather than
 * a new object.  The range is then sorted by kind rank.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render.h"
#include "context.h"
#include "kinds.h"
#include "../catalog/template.h"
#include "../site/dns.h"
#include "../site/hosts.h"
#include "../util/digest.h"
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
	free(r->objs);
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

static int
load_upstream(struct rendered *r, size_t comp, const struct upstream_src *u,
    const struct render_opts *o, struct s7_error *err)
{
	char *path = arena_printf(&r->arena, "%s/%s", o->upstream_dir, u->file);
	char sum[SHA256_HEXLEN];
	struct strbuf sb;
	struct ydocs docs;
	size_t i;
	int ret = -1;

	strbuf_init(&sb, UPSTREAM_MAX);
	if (!fs_exists(path)) {
		int dflt = strcmp(o->upstream_dir, render_default_upstream()) == 0;

		s7_error(err, "upstream cache %s lacks %s; run 'sector7 fetch%s%s' (or 'sector7 fetch%s%s --mirror DIR')",
		    o->upstream_dir, u->file, dflt ? "" : " --upstream ",
		    dflt ? "" : o->upstream_dir, dflt ? "" : " --upstream ",
		    dflt ? "" : o->upstream_dir);
		goto done;
	}
	if (fs_read(path, &sb, err) < 0)
		goto done;
	sha256_hex(sb.buf, sb.len, sum);
	if (strcmp(sum, u->sha256) != 0) {
		s7_error(err, "upstream manifest '%s' has sha256 %s but the catalog pins %s (%s): the file was changed or is another version",
		    path, sum, u->sha256, u->url);
		goto done;
	}
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
	ret = 0;
done:
	strbuf_release(&sb);
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
		struct ynode *patched = ynode_merge_patch(&r->arena, o->obj, body);
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
	struct ynode *meta = ynode_get(o->obj, "metadata");
	struct ynode *labels;

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

static int
same_object(const struct robject *a, const struct robject *b)
{
	size_t ga = group_len(a->api_version), gb = group_len(b->api_version);

	return ga == gb && memcmp(a->api_version, b->api_version, ga) == 0 &&
	    strcmp(a->kind, b->kind) == 0 && strcmp(a->name, b->name) == 0 &&
	    strcmp(a->namespace ? a->namespace : "",
	    b->namespace ? b->namespace : "") == 0;
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
	for (i = 0; i < c->nupstream; i++) {
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
			if (out == NULL)
				continue;
			if (out->kind == Y_MAP && ynode_get_key(out, "$patch")) {
				if (apply_patch(r, rc->first, out, c->tmpl[i].path,
				    err) < 0)
					return -1;
				continue;
			}
			if (add_object(r, ci, out, SRC_TEMPLATE, c->tmpl[i].path,
			    err) < 0)
				return -1;
		}
	rc->nobj = r->nobjs - rc->first;
	for (i = rc->first; i < r->nobjs; i++)
		label(r, &r->objs[i], c->name);
	qsort(r->objs + rc->first, rc->nobj, sizeof(*r->objs), cmp_rank);
	return 0;
}

int
render_stack(struct rendered *r, const struct site *s,
    const struct catalog *cat, const struct render_opts *o,
    struct s7_error *err)
{
	size_t i, j;

	r->ctx = context_build(&r->arena, s, o->version);
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
	for (i = 0; i < r->nobjs; i++)
		for (j = 0; j < i; j++)
			if (same_object(&r->objs[i], &r->objs[j]))
				return node_error(err, r->objs[i].obj,
				    "%s '%s' is rendered twice (by %s and %s)",
				    r->objs[i].kind, r->objs[i].name,
				    r->comps[r->objs[j].comp].c->name,
				    r->comps[r->objs[i].comp].c->name);
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
	return yaml_emit(sb, o->obj, 0, err);
}

static const char *
source_word(enum rsource s)
{
	return s == SRC_TEMPLATE ? "template" : s == SRC_UPSTREAM ?
	    "upstream" : "upstream+patch";
}

int
render_stream(struct rendered *r, struct strbuf *sb, struct s7_error *err)
{
	size_t i;

	for (i = 0; i < r->nobjs; i++) {
		const struct robject *o = &r->objs[i];

		strbuf_addf(sb, "---\n# %s: %s %s\n",
		    r->comps[o->comp].c->name, source_word(o->src), o->origin);
		if (render_object_yaml(o, sb, err) < 0)
			return -1;
	}
	if (sb->overflow)
		return s7_error(err, "rendered output is larger than %zu bytes",
		    sb->max);
	return 0;
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
	if (fs_mkdirs(dir, 0755, err) < 0)
		goto done;
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
	strbuf_init(&sb, STRBUF_LARGE);
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

/* An existing target must be empty or an earlier render. */
static int
check_target(const char *dir, int *exists, struct s7_error *err)
{
	struct stat st;
	char *marker;
	int ok;

	*exists = 0;
	if (lstat(dir, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return s7_error(err, "cannot use '%s': %s", dir, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return s7_error(err, "'%s' exists and is not a directory", dir);
	*exists = 1;
	if (rmdir(dir) == 0) {
		*exists = 0;
		return 0;
	}
	marker = xasprintf("%s/SOURCES", dir);
	ok = fs_exists(marker);
	free(marker);
	if (!ok)
		return s7_error(err, "refusing to replace '%s': it is not empty and holds no earlier render (no SOURCES file)",
		    dir);
	return 0;
}

int
render_write_dir(struct rendered *r, const struct site *s, const char *dir,
    size_t *nfiles, struct s7_error *err)
{
	struct writer w;
	struct strbuf sb;
	char *tmp = xasprintf("%s.new-%ld", dir, (long)getpid());
	char *old = xasprintf("%s.old-%ld", dir, (long)getpid());
	size_t i;
	int exists, ret = -1;
	struct s7_error ignore;

	memset(&w, 0, sizeof(w));
	w.r = r;
	w.root = tmp;
	strbuf_init(&sb, STRBUF_LARGE);
	if (check_target(dir, &exists, err) < 0)
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
	if (exists && rename(dir, old) < 0) {
		s7_error(err, "cannot move '%s' aside: %s", dir, strerror(errno));
		goto fail;
	}
	if (rename(tmp, dir) < 0) {
		s7_error(err, "cannot rename '%s' to '%s': %s", tmp, dir,
		    strerror(errno));
		if (exists)
			rename(old, dir);
		goto fail;
	}
	if (exists && fs_remove_tree(old, err) < 0)
		goto done;
	*nfiles = w.nfiles + 1;
	ret = 0;
	goto done;
fail:
	fs_remove_tree(tmp, &ignore);
done:
	strbuf_release(&sb);
	free(w.files);
	free(tmp);
	free(old);
	return ret;
}
