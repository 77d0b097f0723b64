/*
 * ApplySet membership (src/kube/applyset.h has the convention): the
 * parent Secret lists every group-kind and namespace of its members, and
 * prune lists those, by the part-of label, to find members that left the
 * rendered set.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "../json/json.h"
#include "../util/text.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorts v and drops repeats and skip (may be NULL); the new count. */
static size_t
uniq(const char **v, size_t n, const char *skip)
{
	size_t i, m = 0;

	qsort(v, n, sizeof(*v), cmp_str);
	for (i = 0; i < n; i++)
		if ((m == 0 || strcmp(v[i], v[m - 1]) != 0) &&
		    (skip == NULL || strcmp(v[i], skip) != 0))
			v[m++] = v[i];
	return m;
}

static const char *
join(struct engine *e, const char **v, size_t n)
{
	struct strbuf sb;
	const char *out;
	size_t i;

	strbuf_init(&sb, STRBUF_SMALL);
	for (i = 0; i < n; i++)
		strbuf_addf(&sb, "%s%s", i ? "," : "", v[i]);
	out = arena_strdup(&e->arena, sb.buf);
	strbuf_release(&sb);
	return out;
}

/* The items of a comma list, appended to v (room for max). */
static size_t
split(struct engine *e, const char *list, const char **v, size_t n,
    size_t max)
{
	const char *p = list;

	while (p && *p && n < max) {
		const char *c = strchr(p, ',');
		size_t l = c ? (size_t)(c - p) : strlen(p);

		if (l)
			v[n++] = arena_strndup(&e->arena, p, l);
		p = c ? c + 1 : NULL;
	}
	return n;
}

/* The group-kinds and namespaces of the rendered set, plus extra room. */
static void
rendered_set(struct engine *e, struct set *s, size_t room)
{
	size_t i, max = e->r->nobjs + room + 1;

	s->gk = arena_array(&e->arena, max, sizeof(*s->gk));
	s->ns = arena_array(&e->arena, max, sizeof(*s->ns));
	s->ngk = s->nns = 0;
	s->cap = max;
	for (i = 0; i < e->r->nobjs; i++) {
		const struct robject *o = &e->r->objs[i];
		char gk[256];

		applyset_group_kind(o->api_version, o->kind, gk, sizeof(gk));
		s->gk[s->ngk++] = arena_strdup(&e->arena, gk);
		if (o->namespace)
			s->ns[s->nns++] = o->namespace;
	}
}

/* Writes the parent Secret with the group-kinds and namespaces given. */
static int
write_parent(struct engine *e, const struct set *s, struct s7_error *err)
{
	const struct kube_resource *r = kube_find(e->k, "v1", "Secret");
	struct arena a;
	struct ynode *obj, *meta, *labels, *ann;
	struct strbuf body;
	int ret;

	if (r == NULL)
		return s7_error_class(err, S7_ECLUSTER, "Secrets are not served");
	arena_init(&a);
	obj = ynode_map(&a);
	meta = ynode_map(&a);
	labels = ynode_map(&a);
	ann = ynode_map(&a);
	ynode_map_set(&a, obj, "apiVersion", ynode_str(&a, "v1"));
	ynode_map_set(&a, obj, "kind", ynode_str(&a, "Secret"));
	ynode_map_set(&a, meta, "name", ynode_str(&a, e->ns));
	ynode_map_set(&a, meta, "namespace", ynode_str(&a, e->ns));
	ynode_map_set(&a, labels, APPLYSET_ID_LABEL, ynode_str(&a, e->id));
	ynode_map_set(&a, ann, APPLYSET_TOOLING, ynode_strf(&a, "sector7/v%s",
	    e->o->version));
	ynode_map_set(&a, ann, APPLYSET_GKS, ynode_str(&a, join(e, s->gk,
	    s->ngk)));
	ynode_map_set(&a, ann, APPLYSET_NAMESPACES, ynode_str(&a, join(e, s->ns,
	    s->nns)));
	ynode_map_set(&a, meta, "labels", labels);
	ynode_map_set(&a, meta, "annotations", ann);
	ynode_map_set(&a, obj, "metadata", meta);
	ynode_map_set(&a, obj, "type", ynode_str(&a, "Opaque"));
	strbuf_init(&body, STRBUF_SMALL);
	ret = json_emit(&body, obj, 0, err);
	if (ret == 0) {
		ret = kube_call(e->k, "PATCH", arena_printf(&e->arena,
		    "%s?fieldManager=" FIELD_MANAGER "&force=true",
		    kube_path(&e->arena, r, e->ns, e->ns)),
		    "application/apply-patch+yaml", body.buf, body.len,
		    &e->arena, NULL, NULL, "ApplySet parent", err);
		e->st->mutating++;
	}
	strbuf_release(&body);
	arena_release(&a);
	return ret;
}

int
set_open(struct engine *e, struct set *old, struct s7_error *err)
{
	const struct kube_resource *sr = kube_find(e->k, "v1", "Secret");
	struct ynode *parent = NULL;
	const struct ynode *ann;
	const char *tool;
	struct set both;
	size_t max, i;

	memset(old, 0, sizeof(*old));
	if (sr == NULL)
		return s7_error_class(err, S7_ECLUSTER, "Secrets are not served");
	if (engine_get(e, sr, e->ns, e->ns, &parent, err) < 0)
		return -1;
	ann = ynode_path(parent, "metadata.annotations");
	tool = ynode_get_str(ann, APPLYSET_TOOLING);
	if (tool && strncmp(tool, "sector7/", 8) != 0)
		return s7_error_class(err, S7_ECLUSTER,
		    "the ApplySet %s/%s belongs to '%s', not sector7: refusing to change it",
		    e->ns, e->ns, tool);
	max = 4096;
	old->cap = max;
	old->gk = arena_array(&e->arena, max, sizeof(*old->gk));
	old->ns = arena_array(&e->arena, max, sizeof(*old->ns));
	old->ngk = uniq(old->gk, split(e, ynode_get_str(ann, APPLYSET_GKS),
	    old->gk, 0, max), NULL);
	old->nns = uniq(old->ns, split(e, ynode_get_str(ann,
	    APPLYSET_NAMESPACES), old->ns, 0, max), NULL);
	/* The parent lists the old set and the new, so prune finds both. */
	rendered_set(e, &both, old->ngk + old->nns);
	for (i = 0; i < old->ngk; i++)
		both.gk[both.ngk++] = old->gk[i];
	for (i = 0; i < old->nns; i++)
		both.ns[both.nns++] = old->ns[i];
	both.ngk = uniq(both.gk, both.ngk, NULL);
	both.nns = uniq(both.ns, both.nns, e->ns);
	return write_parent(e, &both, err);
}

/* Whether a live object of resource r is still in the rendered set. */
static int
rendered(struct engine *e, const struct kube_resource *r, const char *ns,
    const char *name)
{
	size_t i;

	for (i = 0; i < e->r->nobjs; i++) {
		const struct robject *o = &e->r->objs[i];

		if (strcmp(o->kind, r->kind) == 0 && strcmp(o->name, name) == 0 &&
		    (!r->namespaced || (o->namespace && ns &&
		    strcmp(o->namespace, ns) == 0)))
			return 1;
	}
	return 0;
}

static void
prune_event(struct engine *e, enum rollout_ev type,
    const struct kube_resource *r, const char *ns, const char *name)
{
	struct rollout_event ev;

	if (e->o->event == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.kind = r->kind;
	ev.namespace = ns;
	ev.name = name;
	e->o->event(e->o->arg, &ev);
}

/* The resource of a group-kind ("Deployment.apps"), or NULL. */
static const struct kube_resource *
resource_of(struct engine *e, const char *gk)
{
	const char *dot = strchr(gk, '.');
	size_t klen = dot ? (size_t)(dot - gk) : strlen(gk), i;

	for (i = 0; i < e->k->nres; i++) {
		const struct kube_resource *c = e->k->res[i];

		if (c->preferred && strlen(c->kind) == klen &&
		    strncmp(c->kind, gk, klen) == 0 &&
		    strcmp(c->group, dot ? dot + 1 : "") == 0)
			return c;
	}
	return NULL;
}

/*
 * Deletes the members of s (listed by the part-of label) that left the
 * rendered set, keeping data; kept members are added to keep.
 */
static int
prune(struct engine *e, const struct set *s, struct set *keep,
    struct s7_error *err)
{
	struct strbuf q;
	size_t gi, ni, j;
	int ret = -1;

	strbuf_init(&q, 4096);
	text_url_escape(&q, APPLYSET_PART_OF);
	strbuf_addstr(&q, "%3D");
	text_url_escape(&q, e->id);
	for (gi = 0; gi < s->ngk; gi++) {
		const struct kube_resource *r = resource_of(e, s->gk[gi]);

		if (r == NULL)
			continue;	/* its CRD is gone: nothing to prune */
		for (ni = 0; ni < (r->namespaced ? s->nns : 1); ni++) {
			const char *ns = r->namespaced ? s->ns[ni] : NULL;
			struct ynode *list;
			const struct ynode *items;
			long status = 0;

			if (kube_call(e->k, "GET", arena_printf(&e->arena,
			    "%s?labelSelector=%s", kube_path(&e->arena, r, ns, NULL),
			    q.buf), NULL, NULL, 0, &e->arena, &list, NULL, "prune",
			    err) < 0)
				goto done;
			items = ynode_get(list, "items");
			for (j = 0; items && items->kind == Y_SEQ && j < items->n;
			    j++) {
				const struct ynode *meta = ynode_get(items->v[j],
				    "metadata");
				const char *name = ynode_get_str(meta, "name");
				const char *ons = ynode_get_str(meta, "namespace");

				if (name == NULL || rendered(e, r, ons, name))
					continue;
				if (!e->o->prune_data &&
				    (strcmp(r->kind, "PersistentVolumeClaim") == 0 ||
				    strcmp(r->kind, "PersistentVolume") == 0 ||
				    (strcmp(r->kind, "Secret") == 0 &&
				    ynode_get(ynode_get(meta, "labels"),
				    CREDENTIAL_LABEL)))) {
					prune_event(e, RE_KEPT, r, ons, name);
					/* Still a member: the parent keeps listing it. */
					if (keep->ngk < keep->cap &&
					    keep->nns < keep->cap) {
						keep->gk[keep->ngk++] = s->gk[gi];
						keep->ns[keep->nns++] = ons ?
						    arena_strdup(&e->arena, ons) :
						    e->ns;
					}
					continue;
				}
				if (kube_call(e->k, "DELETE", arena_printf(&e->arena,
				    "%s?propagationPolicy=Background",
				    kube_path(&e->arena, r, ons, name)), NULL, NULL,
				    0, &e->arena, NULL, &status, "prune", err) < 0) {
					if (status == 404)
						continue;	/* gone already */
					goto done;
				}
				e->st->pruned++;
				e->st->mutating++;
				prune_event(e, RE_PRUNED, r, ons, name);
			}
		}
	}
	ret = 0;
done:
	strbuf_release(&q);
	return ret;
}

int
set_close(struct engine *e, const struct set *old, struct s7_error *err)
{
	struct set both, now;
	size_t i, room;

	if (!e->o->prune)
		return 0;
	/* Everything the parent listed: the old set and the new. */
	rendered_set(e, &both, old->ngk + old->nns + 1);
	for (i = 0; i < old->ngk; i++)
		both.gk[both.ngk++] = old->gk[i];
	for (i = 0; i < old->nns; i++)
		both.ns[both.nns++] = old->ns[i];
	both.ns[both.nns++] = e->ns;
	both.ngk = uniq(both.gk, both.ngk, NULL);
	both.nns = uniq(both.ns, both.nns, NULL);
	/* Room for the kept members (the parent lists at most that many). */
	room = 65536;
	rendered_set(e, &now, room);
	if (prune(e, &both, &now, err) < 0)
		return -1;
	now.ngk = uniq(now.gk, now.ngk, NULL);
	now.nns = uniq(now.ns, now.nns, e->ns);
	/* Pruned: the parent lists the new set and what was kept. */
	return write_parent(e, &now, err);
}
