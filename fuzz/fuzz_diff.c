/*
 * Fuzz target: the line diff.  The input is two texts split at the
 * first NUL (made printable: other bytes are printed escaped); the
 * unified diff printed, applied to the first, must give the second, and
 * equal texts must give no diff.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/diff.h"
#include "util/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Applies a printed diff to a (see tests/unit/test_diff.c). */
static int
apply(const char *a, const char *d, struct strbuf *out)
{
	const char *ap = a, *p = d;
	size_t aline = 1;

	if ((p = strchr(p, '\n')) == NULL || (p = strchr(p + 1, '\n')) == NULL)
		return -1;
	p++;
	while (*p) {
		char *q;
		size_t as, al = 1;

		if (strncmp(p, "@@ -", 4) != 0)
			return -1;
		as = strtoul(p + 4, &q, 10);
		if (*q == ',')
			al = strtoul(q + 1, &q, 10);
		if (al == 0)
			as++;
		while (aline < as) {
			const char *nl = strchr(ap, '\n');
			size_t n = nl ? (size_t)(nl - ap) + 1 : strlen(ap);

			if (n == 0)
				return -1;
			strbuf_add(out, ap, n);
			ap += n;
			aline++;
		}
		p = strchr(p, '\n') + 1;
		while (*p == ' ' || *p == '-' || *p == '+') {
			const char *nl = strchr(p, '\n');
			size_t n = (size_t)(nl - p);
			int last = strncmp(nl + 1, "\\ No newline", 12) == 0;

			if (*p != '-')
				strbuf_add(out, p + 1, last ? n - 1 : n);
			if (*p != '+') {
				const char *anl = strchr(ap, '\n');

				ap += anl ? (size_t)(anl - ap) + 1 : strlen(ap);
				aline++;
			}
			p = nl + 1;
			if (last)
				p = strchr(p, '\n') + 1;
		}
	}
	strbuf_addstr(out, ap);
	return 0;
}

static void
printable(char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 && c != '\n')
			*s = (char)('a' + c % 26);
		else if (c >= 0x7f)
			*s = (char)('A' + c % 26);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nul = memchr(data, '\0', size);
	char *a, *b;
	struct strbuf d, out;
	int changed;

	if (nul == NULL)
		return 0;
	a = strndup((const char *)data, (size_t)(nul - (const char *)data));
	b = strndup(nul + 1, size - (size_t)(nul - (const char *)data) - 1);
	/* Printable text: lines with control bytes are printed escaped. */
	printable(a);
	printable(b);
	strbuf_init(&d, STRBUF_LARGE);
	strbuf_init(&out, STRBUF_LARGE);
	changed = diff_unified(&d, a, b, "a", "b", (int)(size % 5));
	if (!changed != (strcmp(a, b) == 0))
		abort();
	if (changed && (apply(a, d.buf, &out) < 0 || strcmp(out.buf, b) != 0))
		abort();
	strbuf_release(&d);
	strbuf_release(&out);
	free(a);
	free(b);
	return 0;
}
