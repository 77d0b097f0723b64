/*
 * Unified diffs: fixed cases against what diff -u prints, and a
 * randomised property: applying the printed hunks to a gives b.
 */
#include <stdlib.h>

#include "unit.h"
#include "util/diff.h"
#include "util/strbuf.h"

static char *
run(const char *a, const char *b)
{
	struct strbuf sb;

	strbuf_init(&sb, STRBUF_LARGE);
	diff_unified(&sb, a, b, "a", "b", 3);
	return strbuf_detach(&sb, NULL);
}

static void
cases(void)
{
	static const struct {
		const char *a, *b, *want;
	} t[] = {
		{ "x\n", "x\n", "" },
		{ "", "x\n", "--- a\n+++ b\n@@ -0,0 +1 @@\n+x\n" },
		{ "x\n", "", "--- a\n+++ b\n@@ -1 +0,0 @@\n-x\n" },
		{ "a\nb\nc\n", "a\nB\nc\n",
		  "--- a\n+++ b\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n" },
		{ "1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n",
		  "--- a\n+++ b\n@@ -7,3 +7,4 @@\n 7\n 8\n 9\n+10\n" },
		{ "a\n", "a", "--- a\n+++ b\n@@ -1 +1 @@\n-a\n+a\n\\ No newline at end of file\n" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *got = run(t[i].a, t[i].b);

		CHECK_STR(got, t[i].want);
		free(got);
	}
}

/* Applies a diff (as printed) to a; returns b. */
static char *
patch(const char *a, const char *d)
{
	struct strbuf out;
	const char *ap = a, *p = d;
	size_t aline = 1;

	strbuf_init(&out, STRBUF_LARGE);
	p = strchr(p, '\n') + 1;	/* --- */
	p = strchr(p, '\n') + 1;	/* +++ */
	while (*p) {
		size_t as = 0, al = 1, bs = 0, bl = 1;
		const char *q = p + 4;

		/* "@@ -A[,L] +B[,L] @@" */
		as = strtoul(q, (char **)&q, 10);
		if (*q == ',')
			al = strtoul(q + 1, (char **)&q, 10);
		if (strncmp(q, " +", 2) != 0)
			break;
		(void)bs;
		(void)bl;
		if (al == 0)
			as++;
		/* copy unchanged lines up to the hunk */
		while (aline < as) {
			const char *nl = strchr(ap, '\n');

			strbuf_add(&out, ap, (size_t)(nl - ap) + 1);
			ap = nl + 1;
			aline++;
		}
		p = strchr(p, '\n') + 1;
		while (*p == ' ' || *p == '-' || *p == '+') {
			const char *nl = strchr(p, '\n');

			if (*p != '-')
				strbuf_add(&out, p + 1, (size_t)(nl - p));
			if (*p != '+') {
				ap = strchr(ap, '\n') + 1;
				aline++;
			}
			p = nl + 1;
		}
	}
	strbuf_addstr(&out, ap);
	return strbuf_detach(&out, NULL);
}

static void
randomised(void)
{
	unsigned seed = 42;
	int round;

	for (round = 0; round < 300; round++) {
		struct strbuf a, b;
		int n = (int)(rand_r(&seed) % 40), i;
		char *d, *got;

		strbuf_init(&a, 65536);
		strbuf_init(&b, 65536);
		for (i = 0; i < n; i++) {
			int line = (int)(rand_r(&seed) % 8);
			int r = (int)(rand_r(&seed) % 10);

			strbuf_addf(&a, "l%d\n", line);
			if (r < 7)
				strbuf_addf(&b, "l%d\n", line);
			else if (r == 7)
				strbuf_addf(&b, "l%d\nnew%d\n", line, i);
			else if (r == 8)
				strbuf_addf(&b, "changed%d\n", i);
		}
		d = run(a.buf, b.buf);
		if (strcmp(a.buf, b.buf) == 0) {
			CHECK_STR(d, "");
		} else {
			got = patch(a.buf, d);
			CHECK_STR(got, b.buf);
			free(got);
		}
		free(d);
		strbuf_release(&a);
		strbuf_release(&b);
	}
}

int
main(void)
{
	cases();
	randomised();
	return unit_done("diff");
}
