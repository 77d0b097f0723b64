/*
 * YAML text <-> node trees.  The only module that includes libyaml.
 *
 * yaml_parse reads every document of a stream into the arena.  It rejects
 * what a configuration reader should not guess about: duplicate keys,
 * non-scalar keys, merge keys, unknown tags, nesting deeper than
 * YAML_MAX_DEPTH, more than YAML_MAX_ALIASES aliases and more than
 * YAML_MAX_NODES nodes in a stream (an alias counts as the nodes it
 * stands for, so a "billion laughs" is refused), and input that is not
 * UTF-8 or holds control characters.  Errors carry file:line:col.
 *
 * yaml_emit writes one node as a YAML document the same way every time:
 * two-space indent, no line folding, strings that would read back as
 * another type quoted.
 */
#ifndef S7_YAML_H
#define S7_YAML_H

#include <stddef.h>

#include "node.h"
#include "../util/error.h"
#include "../util/strbuf.h"

#define YAML_MAX_DEPTH 200
#define YAML_MAX_ALIASES 256
#define YAML_MAX_NODES ((size_t)1000 * 1000)

struct ydocs {
	struct ynode **doc;	/* in the arena */
	size_t n;
};

/* name is used in error positions and stored (not copied) in nodes. */
int yaml_parse(struct arena *a, const char *name, const char *buf,
    size_t len, struct ydocs *out, struct s7_error *err);
/* Exactly one document; an empty stream is an error. */
int yaml_parse_one(struct arena *a, const char *name, const char *buf,
    size_t len, struct ynode **out, struct s7_error *err);

/* Appends the document (with a leading "---" line when start_marker). */
int yaml_emit(struct strbuf *sb, const struct ynode *n, int start_marker,
    struct s7_error *err);

#endif
