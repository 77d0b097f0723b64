/*
 * A minimal unit-test harness: CHECK macros count and report failures
 * with file:line, and unit_done() makes the exit status.
 */
#ifndef S7_UNIT_H
#define S7_UNIT_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int unit_checks, unit_failures;

#define CHECK(cond)                                                        \
	do {                                                               \
		unit_checks++;                                             \
		if (!(cond)) {                                             \
			unit_failures++;                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n",       \
			    __FILE__, __LINE__, #cond);                    \
		}                                                          \
	} while (0)

#define CHECK_STR(got, want)                                               \
	do {                                                               \
		const char *g_ = (got), *w_ = (want);                      \
		unit_checks++;                                             \
		if (g_ == NULL || w_ == NULL || strcmp(g_, w_) != 0) {     \
			unit_failures++;                                   \
			fprintf(stderr, "%s:%d: got \"%s\"\n%*swant \"%s\"\n", \
			    __FILE__, __LINE__, g_ ? g_ : "(null)",        \
			    (int)strlen(__FILE__) + 6, "", w_ ? w_ : "(null)"); \
		}                                                          \
	} while (0)

#define CHECK_CONTAINS(hay, needle)                                        \
	do {                                                               \
		const char *h_ = (hay), *n_ = (needle);                    \
		unit_checks++;                                             \
		if (h_ == NULL || strstr(h_, n_) == NULL) {                \
			unit_failures++;                                   \
			fprintf(stderr, "%s:%d: \"%s\"\n   does not contain \"%s\"\n", \
			    __FILE__, __LINE__, h_ ? h_ : "(null)", n_);   \
		}                                                          \
	} while (0)

/*
 * Reads one whole line from fd (a child's first words, its ports, say):
 * they may come in more than one write, and closing the pipe before the
 * last one would kill the child (EPIPE).  Returns its length.
 */
static inline size_t
unit_read_line(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	while (len < size - 1 && memchr(buf, '\n', len) == NULL) {
		n = read(fd, buf + len, size - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return len;
}

static inline int
unit_done(const char *name)
{
	printf("  %s: %d checks, %d failed\n", name, unit_checks,
	    unit_failures);
	return unit_failures ? 1 : 0;
}

#endif
