/*
 * A claim is a PersistentVolumeClaim, a StatefulSet's claim template
 * (times its replicas), or an object of a kind a descriptor's `claims:`
 * rule describes (a CloudNativePG Cluster: its size times its
 * instances).  Only volumes on the site's storage class (or on the
 * default class, which is the site's) count: they are the ones Longhorn
 * replicates across the nodes' disks.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "checks.h"
#include "../util/strbuf.h"
#include "../util/strnum.h"
#include "../util/banned.h"

#define GiB (1024.0 * 1024 * 1024)
#define CLAIMS_MAX 128

/* The site node for a descriptor `when` that is a plain key path. */
static const struct ynode *
when_at(const struct site *s, const char *when)
{
	char path[128];
	const struct ynode *n;
	char *dot;

	if (when == NULL || strlen(when) >= sizeof(path) ||
	    strspn(when, "abcdefghijklmnopqrstuvwxyz0123456789.-") !=
	    strlen(when))
		return NULL;
	snprintf(path, sizeof(path), "%s", when);
	for (;;) {
		if ((n = site_at(s, path)) != NULL)
			return n;
		if ((dot = strrchr(path, '.')) == NULL)
			return NULL;
		*dot = '\0';
	}
}

static void
check_needs(const struct rendered *r, const struct site *s,
    struct findings *f)
{
	size_t i, j, k;

	for (i = 0; i < r->ncomps; i++) {
		const struct rcomponent *rc = &r->comps[i];
		const struct component *c = rc->c;

		if (!rc->enabled)
			continue;
		for (j = 0; j < c->nneeds; j++)
			for (k = 0; k < r->ncomps; k++) {
				const struct rcomponent *n = &r->comps[k];

				if (strcmp(n->c->name, c->needs[j]) != 0 ||
				    n->enabled)
					continue;
				findings_add(f, SEV_ERROR, c->when ? c->when : "",
				    when_at(s, c->when),
				    "%s needs %s, which this site disables (%s is false)%s%s",
				    c->name, n->c->name, n->c->when ? n->c->when :
				    "its condition", c->needs_why &&
				    c->needs_why[j] ? ": " : "", c->needs_why &&
				    c->needs_why[j] ? c->needs_why[j] : "");
			}
	}
}

static uint64_t
size_of(const struct ynode *v)
{
	uint64_t b;

	if (v == NULL || v->kind != Y_SCALAR ||
	    site_parse_size(v->str, &b) < 0)
		return 0;
	return b;
}

static uint64_t
count_of(const struct ynode *v)
{
	const char *err;
	long long n;

	if (v == NULL || v->kind != Y_SCALAR)
		return 1;
	n = s7_strtonum(v->str, 0, 1000, &err);
	return err ? 1 : (uint64_t)n;
}

/* Whether a claim on class (NULL: the default) lands on the site's. */
static int
our_class(const struct site *s, const struct ynode *class)
{
	const char *want = ynode_get_str(site_get(s, "storage"), "class");

	return class == NULL || class->kind != Y_SCALAR ||
	    (want && strcmp(class->str, want) == 0);
}

static size_t
add(struct claim *c, size_t n, size_t max, const struct rendered *r,
    const char *kind, const char *ns, const char *name, uint64_t bytes)
{
	if (n >= max || bytes == 0)
		return n;
	(void)kind;
	c[n].what = ns ? arena_printf((struct arena *)&r->arena, "%s/%s", ns,
	    name) : name;
	c[n].bytes = bytes;
	return n + 1;
}

/* The claims of one object (or of a kept $patch's body). */
static size_t
object_claims(const struct rendered *r, const struct site *s,
    const char *kind, const char *ns, const char *name,
    const struct ynode *obj, struct claim *c, size_t n, size_t max)
{
	const struct ynode *spec = ynode_get(obj, "spec"), *vct;
	size_t i, j;

	if (strcmp(kind, "PersistentVolumeClaim") == 0) {
		if (our_class(s, ynode_get(spec, "storageClassName")))
			n = add(c, n, max, r, kind, ns, name, size_of(ynode_path(spec,
			    "resources.requests.storage")));
		return n;
	}
	if (strcmp(kind, "StatefulSet") == 0 &&
	    (vct = ynode_get(spec, "volumeClaimTemplates")) != NULL &&
	    vct->kind == Y_SEQ) {
		for (i = 0; i < vct->n; i++) {
			const struct ynode *ts = ynode_get(vct->v[i], "spec");

			if (our_class(s, ynode_get(ts, "storageClassName")))
				n = add(c, n, max, r, kind, ns, name,
				    size_of(ynode_path(ts,
				    "resources.requests.storage")) *
				    count_of(ynode_get(spec, "replicas")));
		}
		return n;
	}
	for (i = 0; i < r->cat->n; i++)
		for (j = 0; j < r->cat->c[i].nclaims; j++) {
			const struct claim_rule *cr = &r->cat->c[i].claims[j];

			if (strcmp(cr->kind, kind) == 0)
				n = add(c, n, max, r, kind, ns, name,
				    size_of(ynode_path(obj, cr->size)) *
				    (cr->copies ? count_of(ynode_path(obj,
				    cr->copies)) : 1));
		}
	return n;
}

/* Whether objects of kind can claim volumes at all. */
static int
claims_kind(const struct rendered *r, const char *kind)
{
	size_t i, j;

	if (strcmp(kind, "PersistentVolumeClaim") == 0 ||
	    strcmp(kind, "StatefulSet") == 0)
		return 1;
	for (i = 0; i < r->cat->n; i++)
		for (j = 0; j < r->cat->c[i].nclaims; j++)
			if (strcmp(r->cat->c[i].claims[j].kind, kind) == 0)
				return 1;
	return 0;
}

size_t
render_claims(const struct rendered *r, const struct site *s,
    struct claim *c, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < r->nobjs; i++) {
		const struct robject *o = &r->objs[i];
		const struct ynode *t = o->obj;
		struct s7_error err;

		if (!r->comps[o->comp].enabled || !claims_kind(r, o->kind))
			continue;
		/* An object of the parsed cache: a tree only for this. */
		if (t == NULL && robject_tree(o, (struct arena *)&r->arena, &t,
		    &err) < 0)
			continue;
		n = object_claims(r, s, o->kind, o->namespace, o->name, t, c, n,
		    max);
	}
	for (i = 0; i < r->npatches; i++) {
		const struct rpatch *p = &r->patches[i];

		n = object_claims(r, s, p->kind, p->namespace, p->name, p->body,
		    c, n, max);
	}
	return n;
}

static void
check_budget(const struct rendered *r, const struct site *s,
    struct findings *f)
{
	struct claim c[CLAIMS_MAX];
	size_t nc, i, declared = 0;
	uint64_t asked = 0, have = 0;
	struct strbuf sb;

	nc = render_claims(r, s, c, CLAIMS_MAX);
	for (i = 0; i < nc; i++)
		asked += c[i].bytes * (uint64_t)s->replicas;
	for (i = 0; i < s->nnodes; i++)
		if (s->nodes[i].disk) {
			declared++;
			have += s->nodes[i].disk;
		}
	if (declared == 0) {
		findings_add(f, SEV_NOTE, "nodes", site_at(s, "nodes"),
		    "no node declares `disk`: the storage budget (%.0f GiB with %lld replicas) is not checked",
		    asked / GiB, s->replicas);
		return;
	}
	if (declared < s->nnodes) {
		findings_add(f, SEV_WARNING, "nodes", site_at(s, "nodes"),
		    "only %zu of %zu nodes declare `disk`: the storage budget is not checked",
		    declared, s->nnodes);
		return;
	}
	strbuf_init(&sb, STRBUF_SMALL);
	for (i = 0; i < nc; i++)
		strbuf_addf(&sb, "%s%s %.0f GiB", i ? ", " : "", c[i].what,
		    c[i].bytes / GiB);
	if (asked > have)
		findings_add(f, SEV_ERROR, "nodes", site_at(s, "nodes"),
		    "the apps ask for %.0f GiB of replicated storage (%s; times %lld replicas) but the nodes declare %.0f GiB",
		    asked / GiB, sb.buf, s->replicas, have / GiB);
	else if (asked > have / 4 * 3)
		findings_add(f, SEV_WARNING, "nodes", site_at(s, "nodes"),
		    "the apps ask for %.0f GiB of %.0f GiB declared (%s; times %lld replicas): Longhorn keeps 25%% free by default, so volumes may not schedule",
		    asked / GiB, have / GiB, sb.buf, s->replicas);
	else
		findings_add(f, SEV_NOTE, "nodes", site_at(s, "nodes"),
		    "the apps ask for %.0f GiB of %.0f GiB declared (%s; times %lld replica%s)",
		    asked / GiB, have / GiB, sb.buf, s->replicas,
		    s->replicas == 1 ? "" : "s");
	strbuf_release(&sb);
}

void
render_check(const struct rendered *r, const struct site *s,
    struct findings *f)
{
	check_needs(r, s, f);
	check_budget(r, s, f);
	findings_sort(f);
}
