/*
 * JSON text <-> node trees (src/yaml/node.h).  Reading is sector7's own
 * (read.c); writing goes through jansson, and this is the only module
 * that includes it.  JSON objects become mappings in document order;
 * integers keep their text, reals are written back with 17 digits.
 */
#ifndef S7_JSON_H
#define S7_JSON_H

#include <stddef.h>

#include "../yaml/node.h"
#include "../util/error.h"
#include "../util/strbuf.h"

#define JSON_PRETTY 1	/* two-space indent and a final newline */
#define JSON_MAX_NODES ((size_t)4 * 1000 * 1000)
#define JSON_MAX_DEPTH 200

/*
 * Parses buf (RFC 8259, UTF-8) into the arena.  Refuses duplicate keys,
 * nesting deeper than JSON_MAX_DEPTH levels and more than JSON_MAX_NODES
 * values, with the line and column of the fault.  Nothing of buf is
 * copied anywhere but into the arena (a response may hold secrets: the
 * caller wipes the tree, ynode_wipe).
 */
int json_parse(struct arena *a, const char *name, const char *buf,
    size_t len, struct ynode **out, struct s7_error *err);
/*
 * The text scalar n has once written as JSON and read back (json_parse):
 * a YAML 0555 is 365, 1.50 is 1.5, True is true.  n's own text for
 * strings and nulls, else in buf (64 bytes hold any); its length in *len.
 */
const char *json_scalar_text(const struct ynode *n, char *buf, size_t size,
    size_t *len);
/*
 * Appends n as JSON.  Scalars are converted by their resolved type.  The
 * JSON library's copies are wiped as they are freed.
 */
int json_emit(struct strbuf *sb, const struct ynode *n, int flags,
    struct s7_error *err);

#endif
