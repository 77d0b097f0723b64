/*
 * Errors returned by library code.
 *
 * Library functions return 0 on success or a negative value and fill a
 * caller-owned struct s7_error; only the command layer prints it and
 * picks an exit code.  Messages are lowercase without a full stop, the
 * subject in quotes.  Input errors carry file:line:col (line and col are
 * 1-based, 0 when unknown).
 */
#ifndef S7_ERROR_H
#define S7_ERROR_H

#include <stdio.h>

/* Error classes; the command layer maps each to an exit code. */
enum s7_errclass {
	S7_EFAIL = 1,		/* an operation failed */
	S7_EUSAGE = 2,		/* bad command line */
	S7_EINPUT = 3,		/* invalid site or template */
	S7_ECLUSTER = 4,	/* cluster or API error */
	S7_ETIMEOUT = 5,	/* readiness timeout */
	S7_EVERIFY = 6,		/* verification failed */
};

struct s7_error {
	enum s7_errclass class;
	char file[512];
	unsigned line, col;
	char msg[1024];
};

void s7_error_clear(struct s7_error *err);
/* Sets a failure message; returns -1 so callers can `return s7_error(...)`. */
int s7_error(struct s7_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Same with an explicit class. */
int s7_error_class(struct s7_error *err, enum s7_errclass class,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* An input error at file:line:col (class S7_EINPUT). */
int s7_error_at(struct s7_error *err, const char *file, unsigned line,
    unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Prefixes the message with "what: " (keeps position and class). */
void s7_error_prefix(struct s7_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints "sector7: file:line:col: error: msg" or "sector7: error: msg". */
void s7_error_print(const struct s7_error *err, FILE *fp);

#endif
