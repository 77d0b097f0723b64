/*
 * What `check` reports: errors (the site cannot be used), warnings (it can,
 * but a careful operator wants to know) and notes (where sector7 differs
 * from the gameplan, and what the hosts need).  Each names the site key
 * and the file:line:col it concerns.  The list owns all its strings.
 */
#ifndef S7_SITE_FINDINGS_H
#define S7_SITE_FINDINGS_H

#include <stddef.h>

#include "../util/arena.h"
#include "../yaml/node.h"

enum severity { SEV_ERROR, SEV_WARNING, SEV_NOTE };

struct finding {
	enum severity sev;
	const char *key;	/* dotted site key, "" for the whole file */
	const char *file;
	unsigned line, col;
	const char *msg;
	const char *detail;	/* optional multi-line text (e.g. a snippet) */
};

struct findings {
	struct arena arena;
	struct finding *v;
	size_t n, alloc;
	size_t errors, warnings, notes;
	const char *file;	/* default file for findings without a node */
};

void findings_init(struct findings *f, const char *file);
void findings_release(struct findings *f);
/* Adds a finding at node `at` (NULL: the file itself). Returns it. */
struct finding *findings_add(struct findings *f, enum severity sev,
    const char *key, const struct ynode *at, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void findings_set_detail(struct findings *f, struct finding *fd,
    const char *detail);
/* Stable order: by line, then column, then insertion. */
void findings_sort(struct findings *f);
const char *severity_name(enum severity s);

#endif
