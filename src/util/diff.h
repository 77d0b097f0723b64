/*
 * Unified diffs of two texts, line by line (Myers' O(ND) algorithm), as
 * `diff -u` prints them.  For texts whose difference is very large the
 * output falls back to removing all of a and adding all of b.
 */
#ifndef S7_DIFF_H
#define S7_DIFF_H

#include "strbuf.h"

/* Appends the diff of a and b (NUL-terminated) to out; 0 if equal. */
int diff_unified(struct strbuf *out, const char *a, const char *b,
    const char *name_a, const char *name_b, int context);

#endif
