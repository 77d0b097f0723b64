/*
 * The template expander (the language is described in docs/templates.md).
 *
 * A template is a parsed YAML tree.  Expansion walks it and builds a new
 * tree: values from the context are substituted as nodes, and string
 * interpolation only ever produces one string scalar, so no value can
 * change the structure of the document whatever characters it holds.
 *
 * Expansion may yield "nothing" (*out == NULL), e.g. for a document under
 * a false `$when`: the caller drops it.  Errors carry the template's
 * file:line:col.
 */
#ifndef S7_CATALOG_TEMPLATE_H
#define S7_CATALOG_TEMPLATE_H

#include "../util/error.h"
#include "../yaml/node.h"

#define TMPL_MAX_DEPTH 150
#define TMPL_MAX_NODES 2000000

int tmpl_expand(struct arena *a, const struct ynode *tmpl,
    const struct ynode *ctx, struct ynode **out, struct s7_error *err);

/* Evaluates one expression (the text inside ${...}) against ctx. */
int tmpl_eval(struct arena *a, const char *expr, const struct ynode *ctx,
    const struct ynode **out, struct s7_error *err);

#endif
