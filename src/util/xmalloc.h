/*
 * Allocation that cannot fail: on out-of-memory the process prints one
 * line and exits.  No other code checks allocations or calls malloc.
 */
#ifndef S7_XMALLOC_H
#define S7_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Formats into a new heap string; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* snprintf that dies when the result would be truncated. */
int xsnprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Wipes and frees a secret (NULL is fine). */
void xfree_secret(void *p, size_t len);
/*
 * Keeps the process's memory, which holds credentials, out of core
 * dumps and out of reach of other processes of the same user
 * (PR_SET_DUMPABLE 0, RLIMIT_CORE 0).  Called before credentials are
 * read (kube_open); main may call it first thing.  Idempotent.
 */
void xsecure_process(void);

/* Grows *array (of *alloc elements of size sz) to hold at least nr. */
#define ALLOC_GROW(array, nr, alloc)                                     \
	do {                                                             \
		if ((nr) > (alloc)) {                                    \
			size_t alloc_grow_n_ = (alloc) < 8 ? 8 : (alloc); \
			while (alloc_grow_n_ < (nr))                     \
				alloc_grow_n_ *= 2;                      \
			(array) = xreallocarray((array), alloc_grow_n_,  \
			    sizeof(*(array)));                           \
			(alloc) = alloc_grow_n_;                         \
		}                                                        \
	} while (0)

#endif
