/*
 * The engine's shared state and its waiting loop.  Every wait pumps the
 * client's multi handle in TICK_MS steps (so watches keep streaming) and
 * gives up early when the API server has stopped answering.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

double
engine_now(void)
{
	return (double)http_now_ms() / 1000.0;
}

void
engine_init(struct engine *e, struct kube_client *k, struct rendered *r,
    const struct rollout_opts *o, struct rollout_stats *st, int list_only)
{
	memset(e, 0, sizeof(*e));
	e->k = k;
	e->r = r;
	e->o = o;
	e->st = st;
	arena_init(&e->arena);
	engine_watchset(e, list_only);
	e->since_ms = http_now_ms();
	if (o && o->set) {
		e->ns = o->set;
		applyset_id(e->ns, e->ns, e->id);
	}
}

void
engine_release(struct engine *e)
{
	struct http_stats hs;

	if (e->st) {
		http_client_stats(e->k->http, &hs);
		e->st->requests = hs.requests;
		e->st->connections = hs.connections;
		e->st->http2 = hs.http2;
	}
	watchset_release(&e->ws);
	free(e->index);
	arena_release(&e->arena);
}

static int
key_cmp(const struct kube_resource *ra, const char *nsa, const char *na,
    const struct kube_resource *rb, const char *nsb, const char *nb)
{
	int c;

	if (ra != rb)
		return (uintptr_t)ra < (uintptr_t)rb ? -1 : 1;
	if ((c = strcmp(nsa ? nsa : "", nsb ? nsb : "")) != 0)
		return c;
	return strcmp(na, nb);
}

static int
member_cmp(const void *a, const void *b)
{
	const struct member *x = *(struct member *const *)a;
	const struct member *y = *(struct member *const *)b;

	return key_cmp(x->res, x->ns, x->ro->name, y->res, y->ns, y->ro->name);
}

static struct member *
indexed(struct engine *e, const struct kube_resource *r, const char *ns,
    const char *name)
{
	size_t lo = 0, hi = e->nindex;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct member *m = e->index[mid];
		int c = key_cmp(r, ns && *ns ? ns : NULL, name, m->res, m->ns,
		    m->ro->name);

		if (c == 0)
			return e->index[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

void
engine_index(struct engine *e, struct member **ms, size_t n)
{
	size_t i, old = e->nindex;

	ALLOC_GROW(e->index, e->nindex + n, e->aindex);
	for (i = 0; i < n; i++)
		if (ms[i]->res && !ms[i]->indexed) {
			ms[i]->indexed = 1;
			e->index[e->nindex++] = ms[i];
		}
	if (e->nindex == old)
		return;
	qsort(e->index, e->nindex, sizeof(*e->index), member_cmp);
	/*
	 * A watch that listed before its member came: the copy kept may be
	 * stripped already, so the member counts as changed (a needless
	 * apply at worst) unless the copy still shows it up to date.
	 */
	for (i = 0; i < n; i++) {
		const struct ynode *live;

		if (ms[i]->index_seen || !ms[i]->indexed)
			continue;
		ms[i]->index_seen = 1;
		live = member_live(e, ms[i]);
		if (live && !ms[i]->settled)
			ms[i]->fresh = member_up_to_date(e, ms[i], live);
	}
}

void
engine_unindex(struct engine *e)
{
	size_t i;

	for (i = 0; i < e->nindex; i++)
		e->index[i]->indexed = 0;
	e->nindex = 0;
}

/*
 * What the engine reads of a live object once it has been compared: its
 * metadata and status, and of its spec what readiness looks at.  Gone
 * are field managers' records, CRD schemas, ConfigMap and Secret data,
 * pod templates, and the spec of custom resources (kstatus reads their
 * conditions; descriptors' readiness rules read status).
 */
static int
builtin_group(const char *g)
{
	static const char *const groups[] = {
		"", "apps", "batch", "policy", "networking.k8s.io",
		"storage.k8s.io", "rbac.authorization.k8s.io",
		"admissionregistration.k8s.io", "apiextensions.k8s.io",
		"discovery.k8s.io", "scheduling.k8s.io", "coordination.k8s.io",
		"node.k8s.io", NULL,
	};
	size_t i;

	for (i = 0; groups[i]; i++)
		if (strcmp(groups[i], g) == 0)
			return 1;
	return 0;
}

static void
strip(const struct watch *w, struct ynode *obj)
{
	const struct kube_resource *r = w->res;
	struct ynode *meta = ynode_get(obj, "metadata");
	struct ynode *spec = ynode_get(obj, "spec");

	if (meta && meta->kind == Y_MAP)
		ynode_map_del(meta, "managedFields");
	if (!builtin_group(r->group)) {
		ynode_map_del(obj, "spec");
		return;
	}
	if (spec && spec->kind == Y_MAP) {
		ynode_map_del(spec, "template");
		ynode_map_del(spec, "jobTemplate");
	}
	if (strcmp(r->group, "apiextensions.k8s.io") == 0 &&
	    strcmp(r->resource, "customresourcedefinitions") == 0) {
		struct ynode *vs = ynode_path(obj, "spec.versions");
		size_t i;

		for (i = 0; vs && vs->kind == Y_SEQ && i < vs->n; i++)
			if (vs->v[i]->kind == Y_MAP)
				ynode_map_del(vs->v[i], "schema");
	} else if (r->group[0] == '\0' && (strcmp(r->resource, "configmaps") == 0 ||
	    strcmp(r->resource, "secrets") == 0)) {
		ynode_map_del(obj, "data");
		ynode_map_del(obj, "binaryData");
		ynode_map_del(obj, "stringData");
	}
}

static int
seen(void *arg, const struct watch *w, struct ynode *obj)
{
	struct engine *e = arg;
	const struct ynode *meta = ynode_get_map(obj, "metadata");
	const char *name = ynode_get_string(meta, "name");
	struct member *m;

	m = name ? indexed(e, w->res, ynode_get_string(meta, "namespace"),
	    name) : NULL;
	if (m && !m->settled)
		m->fresh = member_up_to_date(e, m, obj);
	if (e->drop_fresh) {
		/* diff: only what it will show, whole but for managedFields,
		 * which it never shows */
		struct ynode *md = ynode_get(obj, "metadata");

		if (m && m->fresh)
			member_settle(m);	/* listed once: never again */
		if (m == NULL || m->fresh)
			return 1;
		if (md && md->kind == Y_MAP)
			ynode_map_del(md, "managedFields");
		return 0;
	}
	strip(w, obj);
	return 0;
}

void
engine_watchset(struct engine *e, int list_only)
{
	watchset_init(&e->ws, e->k);
	e->ws.list_only = list_only;
	e->ws.seen = seen;
	e->ws.seen_arg = e;
}

void
engine_event(struct engine *e, enum rollout_ev type, const struct member *m,
    const char *key, const char *detail)
{
	struct rollout_event ev;

	if (e->o == NULL || e->o->event == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	if (m) {
		ev.component = e->r->comps[m->ro->comp].c->name;
		ev.kind = m->ro->kind;
		ev.namespace = m->ns;
		ev.name = m->ro->name;
	}
	ev.key = key;
	ev.detail = detail;
	e->o->event(e->o->arg, &ev);
}

void
engine_tick(struct engine *e, int final)
{
	size_t i;
	double t = engine_now();

	for (i = 0; i < e->prog.n; i++) {
		struct comp_progress *c = &e->prog.comps[i];

		if (c->state != CS_READY && c->state != CS_FAILED)
			c->seconds = t - e->started;
	}
	e->prog.final = final;
	if (e->o && e->o->progress)
		e->o->progress(e->o->arg, &e->prog);
}

/* Pumps HTTP for up to ms, resuming watches that need it. */
void
engine_pump(struct engine *e, long ms)
{
	watchset_start(&e->ws);
	http_run(e->k->http, ms);
}

/*
 * Whether the API server has stopped answering: requests fail and none
 * has been answered for a while.  Waiting longer would only hide it.
 */
int
engine_lost(struct engine *e, struct s7_error *err)
{
	struct http_stats st;
	long long now = http_now_ms();

	http_client_stats(e->k->http, &st);
	if (st.last_failure_ms > st.last_response_ms &&
	    now - st.last_response_ms > LOST_AFTER_MS &&
	    now - e->since_ms > LOST_AFTER_MS)
		return s7_error_class(err, S7_ECLUSTER,
		    "lost the API server %s: %s (no answer for %llds)",
		    e->k->kc.server, st.last_failure,
		    (now - st.last_response_ms) / 1000);
	return 0;
}

int
engine_wait_listed(struct engine *e, struct s7_error *err)
{
	long long until = http_now_ms() + LIST_TIMEOUT_MS;

	watchset_start(&e->ws);
	while (!watchset_listed(&e->ws)) {
		size_t i;

		if (engine_lost(e, err) < 0)
			return -1;
		if (http_now_ms() > until) {
			for (i = 0; i < e->ws.n; i++)
				if (!e->ws.w[i]->listed && e->ws.w[i]->error[0])
					return s7_error_class(err, S7_ECLUSTER,
					    "cannot list %s: %s",
					    e->ws.w[i]->res->resource,
					    e->ws.w[i]->error);
			return s7_error_class(err, S7_ECLUSTER,
			    "the API server did not answer lists in time");
		}
		engine_pump(e, TICK_MS);
	}
	return 0;
}

int
engine_get(struct engine *e, const struct kube_resource *r, const char *ns,
    const char *name, struct ynode **out, struct s7_error *err)
{
	long status = 0;
	const char *path = kube_path(&e->arena, r, ns, name);

	if (kube_call(e->k, "GET", path, NULL, NULL, 0, &e->arena, out, &status,
	    path, err) < 0) {
		if (status == 404) {
			*out = NULL;
			return 0;
		}
		return -1;
	}
	return 0;
}

const struct kube_resource *
engine_find_kind(struct engine *e, const char *kind)
{
	struct kube_client *k = e->k;
	const struct kube_resource *any = NULL;
	size_t i;

	for (i = 0; i < k->nres; i++)
		if (strcmp(k->res[i]->kind, kind) == 0) {
			if (k->res[i]->preferred)
				return k->res[i];
			if (any == NULL)
				any = k->res[i];
		}
	return any;
}
