/*
 * The engine's shared state and its waiting loop.  Every wait pumps the
 * client's multi handle in TICK_MS steps (so watches keep streaming) and
 * gives up early when the API server has stopped answering.
 */
#include <stdio.h>
#include <string.h>

#include "engine.h"
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
	watchset_init(&e->ws, k);
	e->ws.list_only = list_only;
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
	arena_release(&e->arena);
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
