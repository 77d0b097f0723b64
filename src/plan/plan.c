#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

void
plan_release(struct plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->waves[i].comps);
	free(p->waves);
	memset(p, 0, sizeof(*p));
}

static int
wanted(const struct rcomponent *rc, int phase, const char *only)
{
	if (!rc->enabled)
		return 0;
	if (phase && rc->c->phase != phase)
		return 0;
	if (only && strcmp(rc->c->name, only) != 0)
		return 0;
	return 1;
}

int
plan_make(struct plan *p, const struct rendered *r, int phase,
    const char *only, struct s7_error *err)
{
	int *depth = xcalloc(r->ncomps + 1, sizeof(*depth));
	size_t i, j, k, any = 0, alloc = 0;
	int ph, d, maxd;

	memset(p, 0, sizeof(*p));
	p->partial = phase != 0 || only != NULL;
	/*
	 * Depth inside a phase: 1 + the deepest need of the same phase.
	 * The catalog is in dependency order, so one pass suffices.
	 */
	for (i = 0; i < r->ncomps; i++) {
		const struct component *c = r->comps[i].c;

		depth[i] = 1;
		for (j = 0; j < c->nneeds; j++)
			for (k = 0; k < i; k++)
				if (strcmp(r->comps[k].c->name, c->needs[j]) == 0 &&
				    r->comps[k].c->phase == c->phase &&
				    r->comps[k].enabled && depth[k] + 1 > depth[i])
					depth[i] = depth[k] + 1;
		if (wanted(&r->comps[i], phase, only))
			any++;
	}
	if (phase > r->cat->nphases) {
		free(depth);
		return s7_error_class(err, S7_EUSAGE,
		    "there is no phase %d: the catalog's phases are 1 to %d",
		    phase, r->cat->nphases);
	}
	if (any == 0) {
		free(depth);
		return s7_error_class(err, S7_EUSAGE,
		    "nothing to do: no enabled component matches%s%s%s",
		    only ? " --only " : "", only ? only : "",
		    phase ? " and the --phase" : "");
	}
	for (ph = 1; ph <= r->cat->nphases; ph++) {
		maxd = 0;
		for (i = 0; i < r->ncomps; i++)
			if (r->comps[i].c->phase == ph && depth[i] > maxd)
				maxd = depth[i];
		for (d = 1; d <= maxd; d++) {
			struct wave *w = NULL;

			for (i = 0; i < r->ncomps; i++) {
				if (r->comps[i].c->phase != ph || depth[i] != d ||
				    !wanted(&r->comps[i], phase, only))
					continue;
				if (w == NULL) {
					ALLOC_GROW(p->waves, p->n + 1, alloc);
					w = &p->waves[p->n++];
					memset(w, 0, sizeof(*w));
					w->phase = ph;
					w->comps = xcalloc(r->ncomps, sizeof(*w->comps));
				}
				w->comps[w->n++] = i;
			}
		}
	}
	free(depth);
	return 0;
}
