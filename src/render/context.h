/*
 * The template context: the site with every default filled in, plus
 * values derived from it (documented in docs/templates.md, "Context").
 */
#ifndef S7_RENDER_CONTEXT_H
#define S7_RENDER_CONTEXT_H

#include "../site/site.h"

struct ynode *context_build(struct arena *a, const struct site *s,
    const char *version);

#endif
