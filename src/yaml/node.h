/*
 * The document tree every part of sector7 works on: the site, templates,
 * the template context, upstream manifests and rendered objects.
 *
 * Nodes live in an arena (src/util/arena.h) and die with it.  A scalar
 * keeps its text and a resolved type; a mapping keeps key/value pairs in
 * order (v[2i] is a key, v[2i+1] its value).  Every node remembers where it
 * came from (file, 1-based line and column; 0 for built nodes), so errors
 * can point at the input.
 */
#ifndef S7_YAML_NODE_H
#define S7_YAML_NODE_H

#include <stddef.h>

#include "../util/arena.h"

enum ykind { Y_SCALAR, Y_SEQ, Y_MAP };

enum ytype { YT_NULL, YT_BOOL, YT_INT, YT_FLOAT, YT_STR };

/* How a scalar would like to be written; the emitter may override. */
enum ystyle { YS_ANY, YS_PLAIN, YS_LITERAL, YS_QUOTED };

struct ynode {
	enum ykind kind;
	enum ytype type;	/* scalars only */
	enum ystyle style;
	const char *file;
	unsigned line, col;
	const char *str;	/* scalars: NUL-terminated text */
	size_t len;
	struct ynode **v;	/* children (see above) */
	size_t n;		/* SEQ: items; MAP: pairs */
	size_t cap;		/* slots allocated in v */
};

/* Builders.  Strings are copied into the arena. */
struct ynode *ynode_scalar(struct arena *a, enum ytype t, const char *s,
    size_t len);
struct ynode *ynode_str(struct arena *a, const char *s);
struct ynode *ynode_strf(struct arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
struct ynode *ynode_int(struct arena *a, long long v);
struct ynode *ynode_bool(struct arena *a, int v);
struct ynode *ynode_null(struct arena *a);
struct ynode *ynode_seq(struct arena *a);
struct ynode *ynode_map(struct arena *a);

void ynode_push(struct arena *a, struct ynode *seq, struct ynode *item);
/* Appends a pair without looking for an existing key. */
void ynode_map_append(struct arena *a, struct ynode *map, struct ynode *key,
    struct ynode *val);
/* Sets key to val, replacing an existing value in place. */
void ynode_map_set(struct arena *a, struct ynode *map, const char *key,
    struct ynode *val);
/* Removes key; returns 1 when it was there. */
int ynode_map_del(struct ynode *map, const char *key);

/* The value for key, or NULL (also when map is not a mapping). */
struct ynode *ynode_get(const struct ynode *map, const char *key);
/* The key node for key, or NULL. */
struct ynode *ynode_get_key(const struct ynode *map, const char *key);
/* Follows a dotted path of mapping keys ("metadata.name"). */
struct ynode *ynode_path(const struct ynode *n, const char *path);
/* The string of a scalar value at key, or NULL. */
const char *ynode_get_str(const struct ynode *map, const char *key);

/*
 * Typed reads of data from outside (a server's answer, a plugin's
 * output): the value at key when it has that type, else NULL.  A
 * string is a scalar of type string, so a number or null where a name
 * belongs is not taken for one.
 */
const char *ynode_get_string(const struct ynode *map, const char *key);
const struct ynode *ynode_get_map(const struct ynode *map, const char *key);
const struct ynode *ynode_get_seq(const struct ynode *map, const char *key);
/*
 * A YAML boolean (true/false in the YAML 1.2 core schema: plain or
 * tagged !!bool; not the string "false", not yes/no): 0 with *v set, or
 * -1 when n is anything else.
 */
int ynode_boolean(const struct ynode *n, int *v);

struct ynode *ynode_copy(struct arena *a, const struct ynode *n);
/*
 * A deep copy of n in one heap block sized to fit, for a tree kept
 * alone and freed alone (a watched object replaced by a newer one).
 * The copy is read-only: its arrays have no spare room.  Free it with
 * ynode_pack_free (wipe: zero the block first, for secrets).
 */
struct ynode *ynode_pack(const struct ynode *n, size_t *bytes);
void ynode_pack_free(struct ynode *packed, size_t bytes, int wipe);
/* Zeroes the text of every scalar of n (secrets before their arena goes). */
void ynode_wipe(struct ynode *n);
/* Nodes in n's tree (shared subtrees counted each time). */
size_t ynode_count(const struct ynode *n);
int ynode_equal(const struct ynode *x, const struct ynode *y);
/*
 * RFC 7386 JSON merge patch: maps merge recursively, a null value deletes
 * the key, anything else replaces.  Returns a new tree; inputs unchanged.
 */
struct ynode *ynode_merge_patch(struct arena *a, const struct ynode *target,
    const struct ynode *patch);

/* Type of a plain (unquoted) scalar under the YAML 1.2 core schema. */
enum ytype ynode_resolve_plain(const char *s);
/*
 * Whether a string would be read back as something other than a string
 * by a YAML 1.2 or YAML 1.1 reader (kubectl's parser is YAML 1.1): such
 * strings are written quoted.
 */
int ynode_needs_quotes(const char *s);

/* Truthiness used by templates: false, null, 0, "", empty are false. */
int ynode_truthy(const struct ynode *n);

const char *ynode_kind_name(const struct ynode *n);

#endif
