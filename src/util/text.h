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

#endif
