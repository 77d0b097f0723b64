#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "xmalloc.h"
#include "banned.h"

#define ARENA_BLOCK ((size_t)64 * 1024)
#define ARENA_ALIGN ((size_t)16)

struct arena_block {
	struct arena_block *next;
	size_t size, off;
	max_align_t data[];
};

void
arena_init(struct arena *a)
{
	a->head = NULL;
	a->used = 0;
}

void
arena_release(struct arena *a)
{
	struct arena_block *b = a->head, *next;

	while (b) {
		next = b->next;
		free(b);
		b = next;
	}
	arena_init(a);
}

void *
arena_alloc(struct arena *a, size_t size)
{
	struct arena_block *b = a->head;
	void *p;

	size = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	if (size == 0)
		size = ARENA_ALIGN;
	if (b == NULL || b->size - b->off < size) {
		size_t bs = size > ARENA_BLOCK / 4 ? size : ARENA_BLOCK;

		if (size > SIZE_MAX - sizeof(*b)) {
			fprintf(stderr, "sector7: allocation size overflow\n");
			exit(1);
		}
		b = xmalloc(sizeof(*b) + bs);
		b->size = bs;
		b->off = 0;
		if (bs != ARENA_BLOCK && a->head) {
			/* Big one-off block: keep the current block in front. */
			b->next = a->head->next;
			a->head->next = b;
		} else {
			b->next = a->head;
			a->head = b;
		}
	}
	p = (char *)b->data + b->off;
	b->off += size;
	a->used += size;
	memset(p, 0, size);
	return p;
}

void *
arena_array(struct arena *a, size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size) {
		fprintf(stderr, "sector7: allocation size overflow\n");
		exit(1);
	}
	return arena_alloc(a, nmemb * size);
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *
arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap, cp;
	char *p;
	int n;

	va_start(ap, fmt);
	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		n = 0;
	p = arena_alloc(a, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}
