/*
 * Bounded number parsing, after OpenBSD strtonum(3): the whole string must
 * be a decimal integer in [min, max].  On failure returns 0 and sets
 * *errstr to "invalid", "too small" or "too large"; on success *errstr is
 * NULL.
 */
#ifndef S7_STRNUM_H
#define S7_STRNUM_H

long long s7_strtonum(const char *s, long long min, long long max,
    const char **errstr);

#endif
