/*
 * A bump allocator for data that dies together (a parsed site, a template
 * tree, a rendered stack).  Allocations are never freed one by one;
 * arena_release frees them all.  The arena owns every block it hands out.
 */
#ifndef S7_ARENA_H
#define S7_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *head;
	size_t used;		/* bytes handed out, for statistics */
};

void arena_init(struct arena *a);
void arena_release(struct arena *a);
/* Zeroed, aligned for any type. */
void *arena_alloc(struct arena *a, size_t size);
void *arena_array(struct arena *a, size_t nmemb, size_t size);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_printf(struct arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
