/*
 * Readiness: of a member (the kstatus rules, src/kube/kstatus.h) and of a
 * component's gates (what kstatus does not see: an established CRD, a
 * Service's load balancer address, a webhook's endpoints...), and the
 * wait for both, with the story of what is still not ready when time
 * runs out.
 */
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "../util/text.h"
#include "../util/banned.h"

#define SLICES_MAX 64

static int
first_consumer(struct engine *e, const char *class)
{
	const struct kube_resource *r;
	struct class_mode *c;
	struct ynode *sc = NULL;
	struct s7_error err;
	const char *mode;

	for (c = e->classes; c; c = c->next)
		if (strcmp(c->name, class) == 0)
			return c->first_consumer;
	r = kube_find(e->k, "storage.k8s.io/v1", "StorageClass");
	if (r == NULL || engine_get(e, r, NULL, class, &sc, &err) < 0)
		return 0;	/* asked again next time */
	mode = ynode_get_str(sc, "volumeBindingMode");
	c = arena_alloc(&e->arena, sizeof(*c));
	c->name = arena_strdup(&e->arena, class);
	c->first_consumer = mode && strcmp(mode, "WaitForFirstConsumer") == 0;
	c->next = e->classes;
	e->classes = c;
	return c->first_consumer;
}

/*
 * A kind whose readiness a descriptor states (`readiness:`): ready when
 * the field is true, failed when false, in progress while absent.
 * Returns -1 when no rule covers the kind.
 */
static int
rule_status(struct engine *e, const struct member *m, const struct ynode *live,
    char *why, size_t size)
{
	const struct catalog *cat = e->r->cat;
	const char *av = m->ro->api_version, *slash = strchr(av, '/');
	size_t glen = slash ? (size_t)(slash - av) : 0, i, j;

	for (i = 0; cat && i < cat->n; i++)
		for (j = 0; j < cat->c[i].nreadiness; j++) {
			const struct ready_rule *rr = &cat->c[i].readiness[j];
			const char *word = strrchr(rr->field, '.');
			const struct ynode *v;

			if (strcmp(rr->kind, m->ro->kind) != 0 ||
			    strlen(rr->group) != glen ||
			    strncmp(rr->group, av, glen) != 0)
				continue;
			word = word ? word + 1 : rr->field;
			if (live == NULL) {
				snprintf(why, size, "not found");
				return KS_NOT_FOUND;
			}
			v = ynode_path(live, rr->field);
			if (v == NULL || v->kind != Y_SCALAR ||
			    v->type != YT_BOOL) {
				snprintf(why, size, "not yet %s", word);
				return KS_IN_PROGRESS;
			}
			if (ynode_truthy(v)) {
				snprintf(why, size, "%s", word);
				return KS_CURRENT;
			}
			v = rr->message ? ynode_path(live, rr->message) : NULL;
			snprintf(why, size, "not %s%s%s", word,
			    v && v->kind == Y_SCALAR ? ": " : "",
			    v && v->kind == Y_SCALAR ? v->str : "");
			return KS_FAILED;
		}
	return -1;
}

/*
 * Readiness of one member.  A claim of a class that binds on first use
 * (WaitForFirstConsumer) stays Pending until a pod that uses it is
 * scheduled; one only a CronJob uses would hold apply until the job's
 * first run, so it counts as ready until a pod picks a node for it.
 */
enum kstatus
member_status(struct engine *e, const struct member *m, char *why,
    size_t size)
{
	const struct ynode *live;
	enum kstatus st;
	const char *class;
	int rs;

	if (kstatus_trivial(m->ro->api_version, m->ro->kind)) {
		snprintf(why, size, "exists");
		return KS_CURRENT;
	}
	live = member_live(e, m);
	if ((rs = rule_status(e, m, live, why, size)) >= 0)
		return (enum kstatus)rs;
	st = kstatus_eval(live, why, size);
	if (st == KS_IN_PROGRESS && live &&
	    strcmp(m->ro->kind, "PersistentVolumeClaim") == 0 &&
	    (class = ynode_get_str(ynode_get(live, "spec"),
	    "storageClassName")) != NULL &&
	    ynode_get(ynode_get(ynode_get(live, "metadata"), "annotations"),
	    "volume.kubernetes.io/selected-node") == NULL &&
	    first_consumer(e, class)) {
		snprintf(why, size, "waits for its first consumer (%s)", class);
		return KS_CURRENT;
	}
	return st;
}

/* Prefixes why with the object a gate looks at. */
static void
name_gate(const struct rgate *g, char *why, size_t size)
{
	char tmp[256];

	snprintf(tmp, sizeof(tmp), "%s", why);
	if (strcmp(g->type, "endpoints") == 0)
		snprintf(why, size, "Service %s/%s: %s", g->namespace, g->name,
		    tmp);
	else
		snprintf(why, size, "%s %s%s%s: %s", g->kind,
		    g->namespace ? g->namespace : "", g->namespace ? "/" : "",
		    g->name, tmp);
}

static enum kstatus
endpoints_status(struct engine *e, const struct rgate *g, char *why,
    size_t size)
{
	const struct kube_resource *er = engine_find_kind(e, "EndpointSlice");
	const struct ynode *sl[SLICES_MAX];
	size_t i, j, n = 0;

	if (er == NULL) {
		snprintf(why, size, "EndpointSlices are not served");
		return KS_IN_PROGRESS;
	}
	for (i = 0; i < e->ws.n; i++) {
		struct watch *w = e->ws.w[i];

		if (w->res != er || w->namespace == NULL ||
		    strcmp(w->namespace, g->namespace) != 0)
			continue;
		for (j = 0; j < w->nitems && n < SLICES_MAX; j++) {
			const char *svc = ynode_get_str(ynode_path(
			    w->items[j].obj, "metadata.labels"),
			    "kubernetes.io/service-name");

			if (svc && strcmp(svc, g->name) == 0)
				sl[n++] = w->items[j].obj;
		}
	}
	return kstatus_endpoints(sl, n, why, size);
}

enum kstatus
gate_status(struct engine *e, const struct gate_state *gs, char *why,
    size_t size)
{
	const struct rgate *g = gs->g;
	const struct ynode *obj, *ing;
	const char *got;
	enum kstatus s;

	if (gs->res == NULL) {
		snprintf(why, size, "%s is not served by the cluster", g->kind);
		return KS_IN_PROGRESS;
	}
	if (strcmp(g->type, "endpoints") == 0)
		s = endpoints_status(e, g, why, size);
	else {
		obj = watchset_get(&e->ws, gs->res, g->namespace, g->name);
		s = kstatus_eval(obj, why, size);
		if (s == KS_CURRENT && g->address) {
			/* The site's address, not whatever the Service asks
			 * for now: a change must have reached it. */
			ing = ynode_path(obj, "status.loadBalancer.ingress");
			got = ing && ing->kind == Y_SEQ && ing->n ?
			    ynode_get_str(ing->v[0], "ip") : NULL;
			if (got == NULL || strcmp(got, g->address) != 0) {
				s = KS_IN_PROGRESS;
				snprintf(why, size,
				    "load balancer address %s, but %s was asked for",
				    got ? got : "none", g->address);
			}
		}
	}
	if (s != KS_CURRENT)
		name_gate(g, why, size);
	return s;
}

size_t
gates_collect(struct engine *e, size_t ci, size_t comp, struct gate_state *gs,
    size_t ng, const char *type)
{
	const struct rcomponent *rc = &e->r->comps[ci];
	const struct kube_resource *er = engine_find_kind(e, "EndpointSlice");
	size_t i;

	for (i = 0; i < rc->ngates; i++) {
		const struct rgate *g = &rc->gates[i];

		if (type && strcmp(g->type, type) != 0)
			continue;
		gs[ng].g = g;
		gs[ng].comp = comp;
		if (strcmp(g->type, "endpoints") == 0) {
			gs[ng].res = engine_find_kind(e, "Service");
			if (er)
				watchset_add(&e->ws, er, g->namespace);
		} else {
			gs[ng].res = engine_find_kind(e, g->kind);
			if (gs[ng].res)
				watchset_add(&e->ws, gs[ng].res, g->namespace);
		}
		ng++;
	}
	return ng;
}

int
wait_ready(struct engine *e, struct member **ms, size_t n,
    struct gate_state *gs, size_t ng, long long deadline, int final,
    struct s7_error *err)
{
	size_t i;

	for (;;) {
		int all = 1;

		for (i = 0; i < e->prog.n; i++)
			e->prog.comps[i].why[0] = '\0';
		for (i = 0; i < n; i++) {
			char why[300];
			struct comp_progress *c = &e->prog.comps[ms[i]->comp];

			if (member_status(e, ms[i], why, sizeof(why)) != KS_CURRENT) {
				all = 0;
				if (c->why[0] == '\0')
					snprintf(c->why, sizeof(c->why), "%.90s: %.200s",
					    member_name(e, ms[i]), why);
			}
		}
		for (i = 0; i < ng; i++) {
			char why[300];
			struct comp_progress *c = &e->prog.comps[gs[i].comp];

			if (gate_status(e, &gs[i], why, sizeof(why)) != KS_CURRENT) {
				all = 0;
				if (c->why[0] == '\0')
					snprintf(c->why, sizeof(c->why), "%s", why);
			}
		}
		if (final)
			for (i = 0; i < e->prog.n; i++) {
				struct comp_progress *c = &e->prog.comps[i];

				if (c->why[0] == '\0' && c->state == CS_WAITING) {
					c->state = CS_READY;
					c->seconds = engine_now() - e->started;
				}
			}
		if (all)
			return 0;
		if (http_now_ms() > deadline)
			return -1;
		if (engine_lost(e, err) < 0)
			return -2;
		e->ws.changed = 0;
		engine_pump(e, TICK_MS);
		engine_tick(e, 0);
	}
}

/* A pod's story, for a workload that is not ready. */
static void
diagnose(struct engine *e, const struct member *m)
{
	const struct ynode *live = member_live(e, m);
	const struct ynode *sel = ynode_path(live, "spec.selector.matchLabels");
	const struct kube_resource *pr = engine_find_kind(e, "Pod");
	const struct kube_resource *er = engine_find_kind(e, "Event");
	struct strbuf q, path;
	struct arena a;
	struct ynode *pods = NULL, *evs = NULL;
	struct s7_error err;
	const char *pod = NULL;
	size_t i;

	if (pr == NULL || m->ns == NULL)
		return;
	arena_init(&a);
	strbuf_init(&q, 8192);
	strbuf_init(&path, 8192);
	for (i = 0; sel && sel->kind == Y_MAP && i < sel->n; i++) {
		if (i)
			strbuf_addstr(&q, "%2C");
		text_url_escape(&q, arena_printf(&a, "%s=%s",
		    sel->v[2 * i]->str, sel->v[2 * i + 1]->str));
	}
	if (sel && q.len) {
		strbuf_addf(&path, "%s?labelSelector=%s",
		    kube_path(&a, pr, m->ns, NULL), q.buf);
		if (kube_call(e->k, "GET", path.buf, NULL, NULL, 0, &a, &pods,
		    NULL, "pods", &err) == 0) {
			const struct ynode *items = ynode_get(pods, "items");

			for (i = 0; items && items->kind == Y_SEQ &&
			    i < items->n; i++) {
				char why[300];

				if (kstatus_eval(items->v[i], why, sizeof(why)) ==
				    KS_CURRENT)
					continue;
				pod = ynode_get_str(ynode_get(items->v[i],
				    "metadata"), "name");
				engine_event(e, RE_POD, m, pod ? pod : "?", why);
				break;
			}
			if (items && items->n == 0)
				engine_event(e, RE_NO_PODS, m, NULL, NULL);
		}
	}
	if (er) {
		strbuf_reset(&q);
		strbuf_reset(&path);
		text_url_escape(&q, pod ? pod : m->ro->name);
		strbuf_addf(&path, "%s?fieldSelector=involvedObject.name%%3D%s",
		    kube_path(&a, er, m->ns, NULL), q.buf);
		if (kube_call(e->k, "GET", path.buf, NULL, NULL, 0, &a, &evs,
		    NULL, "events", &err) == 0) {
			const struct ynode *items = ynode_get(evs, "items");

			if (items && items->kind == Y_SEQ && items->n) {
				const struct ynode *ev = items->v[items->n - 1];

				engine_event(e, RE_EVENT, m,
				    ynode_get_str(ev, "reason"),
				    ynode_get_str(ev, "message"));
			}
		}
	}
	strbuf_release(&q);
	strbuf_release(&path);
	arena_release(&a);
}

void
explain_timeout(struct engine *e, struct member **ms, size_t n,
    struct gate_state *gs, size_t ng)
{
	struct rollout_event ev;
	size_t i;

	for (i = 0; i < n; i++) {
		char why[300];

		if (member_status(e, ms[i], why, sizeof(why)) == KS_CURRENT)
			continue;
		engine_event(e, RE_NOT_READY, ms[i], NULL, why);
		diagnose(e, ms[i]);
	}
	for (i = 0; i < ng; i++) {
		char why[300];

		if (gate_status(e, &gs[i], why, sizeof(why)) == KS_CURRENT ||
		    e->o == NULL || e->o->event == NULL)
			continue;
		memset(&ev, 0, sizeof(ev));
		ev.type = RE_NOT_READY;
		ev.component = e->prog.comps[gs[i].comp].name;
		ev.detail = why;
		e->o->event(e->o->arg, &ev);
	}
}
