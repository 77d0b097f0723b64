/*
 * JSON text <-> node trees (src/yaml/node.h).  The only module that
 * includes the JSON library (jansson).  JSON objects become mappings in
 * document order; numbers keep their text.
 */
#ifndef S7_JSON_H
#define S7_JSON_H

#include <stddef.h>

#include "../yaml/node.h"
#include "../util/error.h"
#include "../util/strbuf.h"

#define JSON_PRETTY 1	/* two-space indent and a final newline */
#define JSON_MAX_NODES ((size_t)4 * 1000 * 1000)

/*
 * Parses buf into the arena.  Refuses duplicate keys, nesting deeper
 * than 200 levels and more than JSON_MAX_NODES values.  Memory the JSON
 * library used is wiped as it is freed (a response may hold secrets).
 */
int json_parse(struct arena *a, const char *name, const char *buf,
    size_t len, struct ynode **out, struct s7_error *err);
/* Appends n as JSON.  Scalars are converted by their resolved type. */
int json_emit(struct strbuf *sb, const struct ynode *n, int flags,
    struct s7_error *err);

#endif
