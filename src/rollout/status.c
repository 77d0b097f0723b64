/*
 * rollout_status: the live state of every component, from one LIST per
 * kind and namespace and the same readiness rules apply waits on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

/* One component's state from its members and gates. */
static void
component_status(struct engine *e, size_t ci, struct member *ms,
    struct gate_state *gs, size_t ng, struct comp_status *cs)
{
	const struct rcomponent *rc = &e->r->comps[ci];
	size_t j;

	memset(cs, 0, sizeof(*cs));
	cs->name = rc->c->name;
	cs->phase = rc->c->phase;
	cs->enabled = rc->enabled;
	cs->objects = rc->nobj;
	cs->state = KS_CURRENT;
	if (!rc->enabled)
		return;
	for (j = rc->first; j < rc->first + rc->nobj; j++) {
		struct member *m = &ms[j];
		char why[300];
		enum kstatus s;

		if (m->res == NULL) {
			if (cs->state == KS_CURRENT)
				snprintf(cs->why, sizeof(cs->why),
				    "%.60s (%.60s) is not served", m->ro->kind,
				    m->ro->api_version);
			cs->state = KS_IN_PROGRESS;
			continue;
		}
		if (member_live(e, m) == NULL) {
			if (cs->state == KS_CURRENT)
				snprintf(cs->why, sizeof(cs->why), "%.90s: missing",
				    member_name(e, m));
			cs->state = KS_IN_PROGRESS;
			continue;
		}
		cs->present++;
		s = member_status(e, m, why, sizeof(why));
		if (s == KS_CURRENT)
			continue;
		if (s == KS_FAILED || cs->state == KS_CURRENT) {
			snprintf(cs->why, sizeof(cs->why), "%.90s: %.200s",
			    member_name(e, m), why);
			cs->state = s == KS_FAILED ? KS_FAILED : KS_IN_PROGRESS;
		}
	}
	for (j = 0; j < ng; j++) {
		char why[300];

		if (gs[j].comp != ci)
			continue;
		if (gate_status(e, &gs[j], why, sizeof(why)) != KS_CURRENT &&
		    cs->state == KS_CURRENT) {
			cs->state = KS_IN_PROGRESS;
			snprintf(cs->why, sizeof(cs->why), "%s", why);
		}
	}
	if (cs->present == 0 && rc->nobj &&
	    strstr(cs->why, "is not served") == NULL) {
		cs->state = KS_NOT_FOUND;
		snprintf(cs->why, sizeof(cs->why), "none of its %zu objects exist",
		    rc->nobj);
	}
}

int
rollout_status(struct kube_client *k, struct rendered *r,
    struct comp_status *out, struct s7_error *err)
{
	struct engine e;
	struct member *ms = NULL;
	struct gate_state *gs = NULL;
	size_t i, ng = 0;
	int ret = -1;

	engine_init(&e, k, r, NULL, NULL, 1);
	if (kube_discover(k, 0, err) < 0)
		goto done;
	ms = xcalloc(r->nobjs + 1, sizeof(*ms));
	for (i = 0; i < r->ncomps; i++)
		ng += r->comps[i].ngates;
	gs = xcalloc(ng + 1, sizeof(*gs));
	/* Progress records only hold the reasons wait_ready would give. */
	e.prog.comps = xcalloc(r->ncomps + 1, sizeof(*e.prog.comps));
	e.prog.n = r->ncomps;
	for (i = 0; i < r->nobjs; i++) {
		member_init(&ms[i], &r->objs[i], r->objs[i].comp);
		ms[i].res = kube_find(k, ms[i].ro->api_version, ms[i].ro->kind);
		if (ms[i].res) {
			ms[i].ns = ms[i].res->namespaced ? ms[i].ro->namespace : NULL;
			watchset_add(&e.ws, ms[i].res, ms[i].ns);
		}
	}
	ng = 0;
	for (i = 0; i < r->ncomps; i++)
		if (r->comps[i].enabled)
			ng = gates_collect(&e, i, i, gs, ng, NULL);
	if (engine_wait_listed(&e, err) < 0)
		goto done;
	for (i = 0; i < r->ncomps; i++)
		component_status(&e, i, ms, gs, ng, &out[i]);
	ret = 0;
done:
	for (i = 0; ms && i < r->nobjs; i++)
		member_release(&e, &ms[i]);
	free(ms);
	free(gs);
	free(e.prog.comps);
	engine_release(&e);
	return ret;
}
