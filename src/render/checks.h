/*
 * The checks of `sector7 check` that need the catalog: every enabled
 * component's needs are enabled too (the reasons are the descriptors'),
 * and the volumes the render claims fit the disks the nodes declare.
 * Pure, like the site's own checks: r may come from a templates-only
 * render (render_opts.templates_only), which reads no upstream cache.
 */
#ifndef S7_RENDER_CHECKS_H
#define S7_RENDER_CHECKS_H

#include "render.h"
#include "../site/findings.h"

void render_check(const struct rendered *r, const struct site *s,
    struct findings *f);

/* One volume the render claims, for the budget (and for tests). */
struct claim {
	const char *what;	/* "namespace/name" */
	uint64_t bytes;		/* size times copies */
};

/* Fills c[0..max) with the render's claims; returns how many. */
size_t render_claims(const struct rendered *r, const struct site *s,
    struct claim *c, size_t max);

#endif
