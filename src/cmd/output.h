/*
 * One output path for text and JSON, after iproute2's print_*() calls:
 * a command prints every result through these functions.  In JSON mode
 * the key names the field and the format is ignored; in text mode the
 * format prints the value (printf) and the key is ignored.  A mode of
 * OUT_TEXT or OUT_JSON limits a call to one of them, so a table header
 * or a nested object costs no second code path.
 *
 * Strings printed in text mode are shown with control characters
 * escaped (they may come from a server or a site file) and cut at
 * OUT_VALUE_MAX bytes.  JSON strings are escaped as JSON requires.
 *
 * The output goes to stdout.  out_begin opens the top-level JSON object
 * (or array, with out_begin_array); out_end closes whatever is open.
 */
#ifndef S7_CMD_OUTPUT_H
#define S7_CMD_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

#define OUT_TEXT 1
#define OUT_JSON 2
#define OUT_ANY 3

#define OUT_VALUE_MAX 4096

void out_begin(int json);
void out_begin_array(int json);
void out_end(void);
int out_is_json(void);

/* Nested containers; key NULL inside arrays.  JSON only. */
void out_open_object(const char *key);
void out_close_object(void);
void out_open_array(const char *key);
void out_close_array(void);

void out_string(int mode, const char *key, const char *fmt, const char *v);
void out_int(int mode, const char *key, const char *fmt, long long v);
void out_uint(int mode, const char *key, const char *fmt,
    unsigned long long v);
void out_float(int mode, const char *key, const char *fmt, double v);
void out_bool(int mode, const char *key, const char *fmt, int v);
/* A JSON null (text: fmt printed with no argument). */
void out_null(int mode, const char *key, const char *fmt);

/* Text mode only: printf of trusted text (no escaping). */
void out_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Writes s to fp with control characters (but tab and, when keep_nl,
 * newline) escaped as \xNN and at most max bytes shown (then "...
 * (N bytes)").  For every piece of outside text the command layer prints.
 */
struct strbuf;
void out_escape(struct strbuf *sb, const char *s, size_t len, size_t max,
    int keep_nl);
void out_escaped(FILE *fp, const char *s, size_t len, size_t max, int keep_nl);

#endif
