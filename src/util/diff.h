/*
 * Unified diffs of two texts, line by line (Myers' O(ND) algorithm in
 * linear space), as `diff -u` prints them.  Memory is linear in the
 * number of lines and time is bounded: for texts whose difference is very
 * large the script stops being minimal (never wrong).  Lines are printed
 * through text_escape: a control or bidi character cannot reach the
 * terminal.
 */
#ifndef S7_DIFF_H
#define S7_DIFF_H

#include "strbuf.h"

/* Appends the diff of a and b (NUL-terminated) to out; 0 if equal. */
int diff_unified(struct strbuf *out, const char *a, const char *b,
    const char *name_a, const char *name_b, int context);

#endif
