/*
 * rollout_apply: the plan's waves in order.  A wave's objects go out in
 * three steps (foundation, built-in kinds, custom resources), each sent
 * at once over the client's connection and answered before the next
 * step; between steps the engine waits for what the next one needs, and
 * after the last for the whole wave to be ready.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "secrets.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

#define REPLACE_TIMEOUT_MS 60000
#define NUDGE_AFTER_MS 10000

static void
applied(struct http_req *r)
{
	struct member *m = r->arg;
	struct s7_error err;

	if (member_replaceable(m)) {
		m->replace = 1;
		return;
	}
	if (r->transport_error || r->status < 200 || r->status >= 300) {
		kube_req_error(r, "apply", &err);
		snprintf(m->error, sizeof(m->error), "%s", err.msg);
		m->failed = 1;
	}
}

/*
 * Deletes m (see member_replaceable) and applies it again once the watch
 * has seen it go.  Its pods go in the background.
 */
static void
replace(struct engine *e, struct member *m)
{
	struct s7_error serr;
	long long until = http_now_ms() + REPLACE_TIMEOUT_MS;
	long status = 0;

	m->replace = 0;
	m->sent = 0;
	if (kube_call(e->k, "DELETE", arena_printf(&e->arena,
	    "%s?propagationPolicy=Background", kube_path(&e->arena, m->res,
	    m->ns, m->ro->name)), NULL, NULL, 0, &e->arena, NULL, &status,
	    "replace", &serr) < 0 && status != 404) {
		snprintf(m->error, sizeof(m->error), "%s", serr.msg);
		m->failed = 1;
		return;
	}
	e->st->mutating++;
	while (member_live(e, m)) {
		if (http_now_ms() > until || engine_lost(e, &serr) < 0) {
			snprintf(m->error, sizeof(m->error),
			    "deleted to be replaced, but still there after %ds",
			    REPLACE_TIMEOUT_MS / 1000);
			m->failed = 1;
			return;
		}
		engine_pump(e, TICK_MS);
	}
	if (member_submit(e, m, 0, applied, &serr) < 0) {
		snprintf(m->error, sizeof(m->error), "%s", serr.msg);
		m->failed = 1;
		return;
	}
	m->sent = 1;
	e->st->mutating++;
	(void)members_wait_sent(e, &m, 1, &serr);	/* lost: m failed */
	if (m->replace) {
		snprintf(m->error, sizeof(m->error),
		    "refused again after it was deleted");
		m->failed = 1;
		return;
	}
	if (!m->failed)
		engine_event(e, RE_REPLACED, m, NULL, NULL);
}

/* Sends what differs; returns -1 if any apply failed. */
static int
apply_step(struct engine *e, struct member **ms, size_t n,
    struct s7_error *err)
{
	size_t i, failed = 0;

	engine_index(e, ms, n);
	/* Kinds ready once they exist need their list, not a stream. */
	for (i = 0; i < n; i++)
		if (kstatus_trivial(ms[i]->ro->api_version, ms[i]->ro->kind))
			watchset_prefetch(&e->ws, ms[i]->res, ms[i]->ns);
		else
			watchset_add(&e->ws, ms[i]->res, ms[i]->ns);
	if (engine_wait_listed(e, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		struct member *m = ms[i];
		const struct ynode *live = member_live(e, m);
		struct comp_progress *c = &e->prog.comps[m->comp];
		struct s7_error serr;

		if (m->fresh) {
			c->unchanged++;
			e->st->unchanged++;
			member_settle(m);	/* it will not be sent */
			continue;
		}
		if (member_submit(e, m, 0, applied, &serr) < 0) {
			snprintf(m->error, sizeof(m->error), "%s", serr.msg);
			m->failed = 1;
			continue;
		}
		m->sent = 1;
		if (e->o->verbose)
			engine_event(e, live ? RE_CHANGED : RE_CREATED, m, NULL,
			    NULL);
		c->changed++;
		e->st->applied++;
		e->st->mutating++;
	}
	if (members_wait_sent(e, ms, n, err) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (ms[i]->replace)
			replace(e, ms[i]);
	for (i = 0; i < n; i++)
		if (ms[i]->failed) {
			failed++;
			e->prog.comps[ms[i]->comp].failed++;
			e->prog.comps[ms[i]->comp].state = CS_FAILED;
			engine_event(e, RE_FAILED, ms[i], NULL, ms[i]->error);
		}
	e->st->failed += failed;
	if (failed && http_client_lost(e->k->http, 0))
		return kube_lost_error(e->k, "apply", err);
	if (failed)
		return s7_error_class(err, S7_ECLUSTER,
		    "%zu object%s could not be applied", failed,
		    failed == 1 ? "" : "s");
	return 0;
}

/* The first CRD among ms whose kind discovery does not list, or NULL. */
static const char *
crd_unserved(struct engine *e, struct member **ms, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < ms[i]->ncrd_served; j++)
			if (kube_find(e->k, ms[i]->crd_served[j],
			    ms[i]->crd_kind) == NULL)
				return ms[i]->ro->name;
	return NULL;
}

/*
 * The API server lists a CRD's kinds in discovery a moment after the CRD
 * is Established: reloads discovery until it lists every served version
 * of the CRDs in ms, or the deadline passes.
 */
static int
await_served(struct engine *e, struct member **ms, size_t n,
    long long deadline, struct s7_error *err)
{
	const char *missing;

	for (;;) {
		struct timespec ts = { 0, 200 * 1000000L };

		if (kube_discover(e->k, 1, err) < 0)
			return -1;
		e->refreshed = 1;
		if ((missing = crd_unserved(e, ms, n)) == NULL)
			return 0;
		if (http_now_ms() >= deadline)
			return s7_error_class(err, S7_ETIMEOUT,
			    "wave %zu: CustomResourceDefinition %s is established "
			    "but its kind is not in discovery after %lds", e->wave,
			    missing, e->o->timeout_s);
		nanosleep(&ts, NULL);
	}
}

/*
 * A CRD whose API server restarted while it was being installed can stay
 * "Installing" for good: Kubernetes only re-checks it on a change.  Such a
 * CRD is touched once (an annotation of its own field manager) to wake it.
 */
static int
nudge(struct engine *e, struct member **ms, size_t n, struct s7_error *err)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		const struct ynode *c = ynode_path(member_live(e, ms[i]),
		    "status.conditions");
		char body[160];

		if (strcmp(ms[i]->ro->kind, "CustomResourceDefinition") != 0)
			continue;
		for (j = 0; c && c->kind == Y_SEQ && j < c->n; j++) {
			const char *t = ynode_get_str(c->v[j], "type");
			const char *st = ynode_get_str(c->v[j], "status");
			const char *rs = ynode_get_str(c->v[j], "reason");

			if (!t || strcmp(t, "Established") || !st ||
			    strcmp(st, "False") || !rs || strcmp(rs, "Installing"))
				continue;
			snprintf(body, sizeof(body),
			    "{\"metadata\":{\"annotations\":{\"sector7.io/nudged\":\"%lld\"}}}",
			    http_now_ms());
			if (kube_call(e->k, "PATCH", arena_printf(&e->arena,
			    "%s?fieldManager=sector7-nudge", kube_path(&e->arena,
			    ms[i]->res, NULL, ms[i]->ro->name)),
			    "application/merge-patch+json", body, strlen(body),
			    &e->arena, NULL, NULL, "nudge", err) < 0)
				return -1;
			e->st->mutating++;
			engine_event(e, RE_NUDGED, ms[i], NULL, NULL);
		}
	}
	return 0;
}

static void
secret_event(void *arg, const struct rollout_event *ev)
{
	struct engine *e = arg;

	if (e->o->event)
		e->o->event(e->o->arg, ev);
}

/* The wave's credentials, once its namespaces exist. */
static int
ensure_secrets(struct engine *e, const struct wave *w, struct s7_error *err)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		if (e->r->comps[w->comps[i]].nsecrets &&
		    secrets_ensure(e->k, e->r, w->comps[i], e->id, secret_event,
		    e, e->st, err) < 0)
			return -1;
	return 0;
}

/* The foundation step: CRDs Established (nudged if stuck) and served. */
static int
await_foundation(struct engine *e, struct member **ms, size_t n,
    long long deadline, struct s7_error *err)
{
	long long soon = http_now_ms() + NUDGE_AFTER_MS;
	int w8;

	w8 = wait_ready(e, ms, n, NULL, 0, soon < deadline ? soon : deadline, 0,
	    err);
	if (w8 == -1 && nudge(e, ms, n, err) < 0)
		return -1;
	if (w8 == -1)
		w8 = wait_ready(e, ms, n, NULL, 0, deadline, 0, err);
	if (w8 == -2)
		return -1;
	if (w8 < 0) {
		explain_timeout(e, ms, n, NULL, 0);
		return s7_error_class(err, S7_ETIMEOUT,
		    "wave %zu: CustomResourceDefinitions not established after %lds",
		    e->wave, e->o->timeout_s);
	}
	return await_served(e, ms, n, deadline, err);
}

/* After the built-in step: webhooks answer before custom resources go in. */
static int
await_webhooks(struct engine *e, const struct wave *w, struct member *all,
    size_t nall, struct gate_state *gs, long long deadline,
    struct s7_error *err)
{
	size_t i, nw = 0;
	int custom = 0, w8;

	for (i = 0; i < nall; i++)
		if (member_step(&all[i]) == STEP_CUSTOM)
			custom = 1;
	for (i = 0; custom && i < w->n; i++)
		nw = gates_collect(e, w->comps[i], i, gs, nw, "endpoints");
	if (nw == 0)
		return 0;
	w8 = wait_ready(e, NULL, 0, gs, nw, deadline, 0, err);
	if (w8 == -2)
		return -1;
	if (w8 < 0) {
		explain_timeout(e, NULL, 0, gs, nw);
		return s7_error_class(err, S7_ETIMEOUT,
		    "wave %zu: webhooks not answering after %lds", e->wave,
		    e->o->timeout_s);
	}
	return 0;
}

static int
run_wave(struct engine *e, const struct wave *w, struct member *all,
    size_t nall, struct s7_error *err)
{
	struct member **ms = NULL;
	struct gate_state *gs = NULL;
	size_t i, ng = 0;
	long long deadline = http_now_ms() + e->o->timeout_s * 1000;
	int step, ret = -1;

	kube_set_deadline(e->k, deadline);	/* every request of the wave */

	e->started = engine_now();
	e->prog.comps = xcalloc(w->n + 1, sizeof(*e->prog.comps));
	e->prog.n = w->n;
	e->prog.wave = ++e->wave;
	e->prog.nwaves = e->nwaves;
	e->prog.phase = w->phase;
	for (i = 0; i < w->n; i++) {
		const struct rcomponent *rc = &e->r->comps[w->comps[i]];

		e->prog.comps[i].name = rc->c->name;
		e->prog.comps[i].phase = rc->c->phase;
		e->prog.comps[i].state = CS_APPLYING;
		e->prog.comps[i].objects = rc->nobj;
		ng += rc->ngates;
	}
	ms = xcalloc(nall + 1, sizeof(*ms));
	gs = xcalloc(ng + 1, sizeof(*gs));
	e->st->objects += nall;
	e->refreshed = 0;
	engine_tick(e, 0);
	for (step = 0; step < NSTEPS; step++) {
		size_t n = 0;

		/* Credentials go in once the namespaces exist, before
		 * anything that reads them. */
		if (step == STEP_BUILTIN && ensure_secrets(e, w, err) < 0)
			goto done;
		for (i = 0; i < nall; i++) {
			if (member_step(&all[i]) != step)
				continue;
			/* Kinds of this wave's CRDs resolve after step 0. */
			if (member_resolve(e, &all[i], err) < 0 ||
			    member_prepare(e, &all[i], err) < 0)
				goto done;
			ms[n++] = &all[i];
		}
		if (n == 0)
			continue;
		if (apply_step(e, ms, n, err) < 0)
			goto done;
		if (step == STEP_FOUNDATION &&
		    await_foundation(e, ms, n, deadline, err) < 0)
			goto done;
		if (step == STEP_BUILTIN &&
		    await_webhooks(e, w, all, nall, gs, deadline, err) < 0)
			goto done;
	}
	/* The whole wave: every member and every gate. */
	for (i = 0; i < e->prog.n; i++)
		if (e->prog.comps[i].state == CS_APPLYING)
			e->prog.comps[i].state = CS_WAITING;
	ng = 0;
	for (i = 0; i < w->n; i++)
		ng = gates_collect(e, w->comps[i], i, gs, ng, NULL);
	for (i = 0; i < nall; i++)
		ms[i] = &all[i];
	if (engine_wait_listed(e, err) < 0)
		goto done;
	switch (wait_ready(e, ms, nall, gs, ng, deadline, 1, err)) {
	case 0:
		break;
	case -2:
		goto done;
	default:
		explain_timeout(e, ms, nall, gs, ng);
		s7_error_class(err, S7_ETIMEOUT,
		    "wave %zu (%s): not ready after %lds", e->wave,
		    phase_name(e->r->cat, w->phase), e->o->timeout_s);
		goto done;
	}
	engine_tick(e, 1);
	ret = 0;
done:
	/* The wave's streams stop; later waves watch again where they left. */
	for (i = 0; i < e->ws.n; i++)
		watchset_hold(e->ws.w[i]);
	for (i = 0; i < nall; i++)
		member_settle(&all[i]);
	if (ret < 0) {
		for (i = 0; i < e->prog.n; i++)
			if (e->prog.comps[i].state != CS_READY)
				e->prog.comps[i].state = CS_FAILED;
		engine_tick(e, 1);
	}
	free(ms);
	free(gs);
	free(e->prog.comps);
	e->prog.comps = NULL;
	e->prog.n = 0;
	return ret;
}

/* The ApplySet parent's namespace, created if missing. */
static int
ensure_namespace(struct engine *e, struct s7_error *err)
{
	const struct kube_resource *r = kube_find(e->k, "v1", "Namespace");
	struct ynode *live;
	const char *body;

	if (r == NULL)
		return s7_error_class(err, S7_ECLUSTER, "Namespaces are not served");
	if (engine_get(e, r, NULL, e->ns, &live, err) < 0)
		return -1;
	if (live)
		return 0;
	body = arena_printf(&e->arena, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
	    "\"metadata\":{\"name\":\"%s\",\"labels\":{"
	    "\"app.kubernetes.io/managed-by\":\"sector7\","
	    "\"pod-security.kubernetes.io/enforce\":\"restricted\"}}}", e->ns);
	e->st->mutating++;
	return kube_call(e->k, "PATCH", arena_printf(&e->arena,
	    "%s?fieldManager=" FIELD_MANAGER, kube_path(&e->arena, r, NULL, e->ns)),
	    "application/apply-patch+yaml", body, strlen(body), &e->arena, NULL,
	    NULL, "namespace", err);
}

int
rollout_apply(struct kube_client *k, struct rendered *r, const struct plan *p,
    const struct rollout_opts *o, struct rollout_stats *st,
    struct s7_error *err)
{
	struct engine e;
	struct set old;
	struct member *all, **pre;
	size_t i, j, x, n = 0, npre = 0, *first;
	int ret = -1;
	double t0 = engine_now();

	engine_init(&e, k, r, o, st, 0);
	e.nwaves = p->n;
	all = xcalloc(r->nobjs + 1, sizeof(*all));
	pre = xcalloc(r->nobjs + 1, sizeof(*pre));
	first = xcalloc(p->n + 1, sizeof(*first));
	for (i = 0; i < p->n; i++) {
		first[i] = n;
		for (j = 0; j < p->waves[i].n; j++) {
			const struct rcomponent *rc = &r->comps[p->waves[i].comps[j]];

			for (x = rc->first; x < rc->first + rc->nobj; x++)
				member_init(&all[n++], &r->objs[x], j);
		}
	}
	first[p->n] = n;
	memset(&old, 0, sizeof(old));
	if (o->prune && p->partial) {
		s7_error_class(err, S7_EUSAGE,
		    "--prune needs the whole stack: it cannot be used with --phase or --only");
		goto done;
	}
	kube_set_deadline(k, http_now_ms() + o->timeout_s * 1000);
	if (kube_discover(k, 0, err) < 0 || ensure_namespace(&e, err) < 0 ||
	    set_open(&e, &old, err) < 0)
		goto done;
	/*
	 * One round of LISTs for every wave: each member whose kind is
	 * served now is prepared and matched with its live object as the
	 * lists come (the others, kinds of CRDs still to come, in their
	 * wave).  Each wave then watches only its own.
	 */
	for (i = 0; i < n; i++) {
		struct member *m = &all[i];

		m->res = kube_find(k, m->ro->api_version, m->ro->kind);
		if (m->res == NULL || (m->res->namespaced && m->ro->namespace == NULL)) {
			m->res = NULL;
			continue;
		}
		m->ns = m->res->namespaced ? m->ro->namespace : NULL;
		if (member_prepare(&e, m, err) < 0)
			goto done;
		pre[npre++] = m;
	}
	engine_index(&e, pre, npre);
	for (i = 0; i < npre; i++)
		watchset_prefetch(&e.ws, pre[i]->res, pre[i]->ns);
	for (i = 0; i < p->n; i++)
		if (run_wave(&e, &p->waves[i], all + first[i],
		    first[i + 1] - first[i], err) < 0)
			goto done;
	kube_set_deadline(k, http_now_ms() + o->timeout_s * 1000);
	if (set_close(&e, &old, err) < 0)
		goto done;
	ret = 0;
done:
	engine_unindex(&e);
	for (i = 0; i < n; i++)
		member_release(&e, &all[i]);
	free(all);
	free(pre);
	free(first);
	engine_release(&e);
	st->seconds = engine_now() - t0;
	return ret;
}
