/*
 * A growable string with a mandatory size cap.
 *
 * Invariants: after strbuf_init, buf is never NULL and buf[len] == '\0';
 * len <= max.  An append that would pass max changes nothing, returns -1
 * and sets the sticky flag `overflow`, so a caller can append many pieces
 * and check once.  The struct owns buf; strbuf_release frees it,
 * strbuf_detach hands it to the caller.
 */
#ifndef S7_STRBUF_H
#define S7_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Caps by purpose.  STRBUF_OBJECT holds one Kubernetes object as JSON or
 * YAML: the API server refuses requests over 3 MiB, and the largest
 * upstream object (a CRD with its schemas) is under 1 MiB.  STRBUF_TEXT
 * is for a command's whole text output (a diff of the whole stack, a
 * render's SOURCES).  STRBUF_LARGE is for whole files and responses
 * (lists of a cluster's objects), the largest anything here reads.
 */
#define STRBUF_SMALL ((size_t)64 * 1024)
#define STRBUF_OBJECT ((size_t)8 * 1024 * 1024)
#define STRBUF_TEXT ((size_t)64 * 1024 * 1024)
#define STRBUF_LARGE ((size_t)512 * 1024 * 1024)

struct strbuf {
	char *buf;
	size_t len;
	size_t alloc;
	size_t max;
	int overflow;
};

void strbuf_init(struct strbuf *sb, size_t max);
void strbuf_release(struct strbuf *sb);
/* Wipes the contents before freeing: for buffers that held secrets. */
void strbuf_release_secret(struct strbuf *sb);
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_reset(struct strbuf *sb);
void strbuf_setlen(struct strbuf *sb, size_t len);

int strbuf_add(struct strbuf *sb, const void *data, size_t len);
int strbuf_addstr(struct strbuf *sb, const char *s);
int strbuf_addch(struct strbuf *sb, int c);
int strbuf_addf(struct strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
/* Appends n copies of c. */
int strbuf_addchars(struct strbuf *sb, int c, size_t n);

#endif
