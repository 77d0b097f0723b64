/*
 * The parsed form of a pinned upstream file: its objects (a List's items
 * each on its own), each with its identity, the YAML render writes for it
 * and its compact JSON, as render makes them for one component (whose
 * label they carry).  Parsing and emitting the 7 MB of upstream YAML is
 * most of a render's time, and the result only depends on the file's
 * sha256, the component and the build, so it is kept in a cache of its
 * own (parsed_dir()) the first time a file is used and mapped after that.
 * A missing, unreadable or stale entry only means parsing again.
 *
 * The documents' text is not kept in memory: it is read from the entry
 * when it is needed (parsed_read), so a render holds what it writes at
 * the moment and no more.  A struct parsed owns its open file;
 * parsed_close closes it.
 */
#ifndef S7_RENDER_PARSED_H
#define S7_RENDER_PARSED_H

#include <stddef.h>

#include "../crypto/crypto.h"
#include "../util/arena.h"
#include "../util/error.h"
#include "../util/strbuf.h"

struct parsed_doc {
	const char *kind, *api_version, *name, *namespace;
	size_t yaml_off, yaml_len, json_off, json_len;	/* in the entry */
	const char *yaml_sum;		/* sha256 of the YAML, hex */
};

struct parsed {
	struct parsed_doc *docs;	/* in the arena given to parsed_open */
	size_t n;
	int fd;
	size_t size;			/* of the entry */
};

/* Appends len bytes at off of the entry to sb. */
int parsed_read(const struct parsed *p, size_t off, size_t len,
    struct strbuf *sb, struct s7_error *err);

/* The cache directory ($SECTOR7_PARSED_CACHE, else under XDG or HOME). */
const char *parsed_dir(void);
/* Maps the entry for (sha256, component): 0, or -1 when there is none. */
int parsed_open(struct arena *a, const char *sha256, const char *component,
    struct parsed *p);
void parsed_close(struct parsed *p);

/* What parsed_write stores of one object. */
struct parsed_in {
	const char *kind, *api_version, *name, *namespace;
	const char *yaml, *json;
	size_t yaml_len, json_len;
};

/* Writes the entry (atomically); failures are ignored by callers. */
int parsed_write(const char *sha256, const char *component,
    const struct parsed_in *docs, size_t n);

#endif
