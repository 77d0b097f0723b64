/* Small string helpers shared by the site checks and the catalog. */
#ifndef S7_TEXT_H
#define S7_TEXT_H

#include <stddef.h>

#include "strbuf.h"

/* Levenshtein distance, capped at 255. */
unsigned text_distance(const char *a, const char *b);
/*
 * The candidate closest to word (NULL-terminated list), or NULL when none
 * is close enough to be a plausible typo.
 */
const char *text_suggest(const char *word, const char *const *candidates);
/* RFC 1123 label: 1-63 of [a-z0-9-], no leading or trailing '-'. */
int text_is_dns_label(const char *s);
/* A fully qualified name of such labels, at most 253 characters. */
int text_is_dns_name(const char *s);
int text_has_prefix(const char *s, const char *prefix);
int text_has_suffix(const char *s, const char *suffix);
/* Percent-encodes s for a URL query (RFC 3986 unreserved kept). */
void text_url_escape(struct strbuf *out, const char *s);

/*
 * Outside text (server messages, site values, Secret values shown, a
 * plugin's output) made safe to print: every control character (C0,
 * DEL, C1), every bidirectional-override or invisible format character
 * and every byte that is not valid UTF-8 becomes a visible escape (\n,
 * \r, \t, \xNN, \u{NNNN}); printable text, UTF-8 included, is kept.
 * At most max bytes of s are shown (cut at a character boundary), then
 * "... (N more bytes)".  The output holds no control byte, so escaping
 * it again changes nothing: layers may each escape what they pass on.
 *
 * Every path that prints outside text goes through text_escape (the
 * error printer, findings, the engine's reasons).
 */
#define TEXT_KEEP_NEWLINES 1u	/* '\n' stays a line break */
#define TEXT_SHOW_MAX 500	/* a good max for one value in a message */

void text_escape(struct strbuf *out, const char *s, size_t len, size_t max,
    unsigned flags);
/* The same into buf (always NUL-terminated, cut to fit); returns buf. */
char *text_escape_buf(char *buf, size_t size, const char *s, size_t len,
    size_t max);
/* text_escape_buf of a NUL-terminated string (NULL gives ""). */
char *text_clean(char *buf, size_t size, const char *s);
/* Whether s[0..len) has a control byte (C0 or DEL). */
int text_has_control(const char *s, size_t len);

#endif
