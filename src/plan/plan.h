/*
 * The rollout plan: the gameplan's phases in order, and inside a phase,
 * waves of components whose needs are met by earlier waves.  Components
 * of a wave go out together; the next wave starts when the whole wave is
 * ready.
 */
#ifndef S7_PLAN_H
#define S7_PLAN_H

#include <stddef.h>

#include "../render/render.h"

struct wave {
	int phase;
	size_t *comps;		/* indexes into rendered.comps */
	size_t n;
};

struct plan {
	struct wave *waves;
	size_t n;
	int partial;		/* narrowed by phase or only */
};

/*
 * Plans the enabled components of r; phase (0: all) and only (NULL: all)
 * narrow it.  Returns -1 (usage class) when the filter matches nothing.
 */
int plan_make(struct plan *p, const struct rendered *r, int phase,
    const char *only, struct s7_error *err);
void plan_release(struct plan *p);

#endif
