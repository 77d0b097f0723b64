#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "findings.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

void
findings_init(struct findings *f, const char *file)
{
	memset(f, 0, sizeof(*f));
	arena_init(&f->arena);
	f->file = file;
}

void
findings_release(struct findings *f)
{
	free(f->v);
	arena_release(&f->arena);
	memset(f, 0, sizeof(*f));
}

struct finding *
findings_add(struct findings *f, enum severity sev, const char *key,
    const struct ynode *at, const char *fmt, ...)
{
	struct finding *fd;
	va_list ap, cp;
	char *msg;
	int n;

	va_start(ap, fmt);
	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	msg = arena_alloc(&f->arena, n > 0 ? (size_t)n + 1 : 1);
	if (n > 0)
		vsnprintf(msg, (size_t)n + 1, fmt, ap);
	va_end(ap);

	ALLOC_GROW(f->v, f->n + 1, f->alloc);
	fd = &f->v[f->n++];
	memset(fd, 0, sizeof(*fd));
	fd->sev = sev;
	fd->key = arena_strdup(&f->arena, key ? key : "");
	fd->file = at && at->file ? at->file : f->file;
	fd->line = at ? at->line : 0;
	fd->col = at ? at->col : 0;
	fd->msg = msg;
	if (sev == SEV_ERROR)
		f->errors++;
	else if (sev == SEV_WARNING)
		f->warnings++;
	else
		f->notes++;
	return fd;
}

void
findings_set_detail(struct findings *f, struct finding *fd, const char *d)
{
	fd->detail = arena_strdup(&f->arena, d);
}

/* Findings without a position (line 0) sort after the others. */
static int
before_or_same(const struct finding *p, const struct finding *x)
{
	unsigned pl = p->line ? p->line : (unsigned)-1;
	unsigned xl = x->line ? x->line : (unsigned)-1;

	return pl < xl || (pl == xl && p->col <= x->col);
}

void
findings_sort(struct findings *f)
{
	struct finding *tmp;
	size_t i, j;

	if (f->n < 2)
		return;
	tmp = xreallocarray(NULL, f->n, sizeof(*tmp));
	memcpy(tmp, f->v, f->n * sizeof(*tmp));
	/* Insertion sort: stable, and the lists are short. */
	for (i = 1; i < f->n; i++) {
		struct finding x = tmp[i];

		for (j = i; j > 0; j--) {
			if (before_or_same(&tmp[j - 1], &x))
				break;
			tmp[j] = tmp[j - 1];
		}
		tmp[j] = x;
	}
	memcpy(f->v, tmp, f->n * sizeof(*tmp));
	free(tmp);
}

const char *
severity_name(enum severity s)
{
	switch (s) {
	case SEV_ERROR:
		return "error";
	case SEV_WARNING:
		return "warning";
	case SEV_NOTE:
		break;
	}
	return "note";
}
