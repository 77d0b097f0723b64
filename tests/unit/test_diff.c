/*
 * Unified diffs: fixed cases against what diff -u prints, and a
 * randomised property: applying the printed hunks to a gives b.
 */
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

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
		/* outside text: escaped, so it cannot reach the terminal */
		{ "k: v\n", "k: \"\033[2J\xe2\x80\xae\"\n",
		  "--- a\n+++ b\n@@ -1 +1 @@\n-k: v\n+k: \"\\x1b[2J\\u{202e}\"\n" },
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

/* Lines changed in a printed diff ('-' and '+' lines). */
static size_t
edits(const char *d)
{
	size_t n = 0;
	const char *p = d;

	while (p && *p) {
		if ((*p == '-' || *p == '+') && strncmp(p, "--- ", 4) &&
		    strncmp(p, "+++ ", 4))
			n++;
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return n;
}

/* The fewest lines deleted plus inserted (N + M - 2 LCS), by table. */
static size_t
least_edits(const char *const *a, size_t n, const char *const *b, size_t m)
{
	size_t *t = calloc((n + 1) * (m + 1), sizeof(*t)), i, j, lcs;

	for (i = n; i-- > 0;)
		for (j = m; j-- > 0;)
			t[i * (m + 1) + j] = strcmp(a[i], b[j]) == 0 ?
			    t[(i + 1) * (m + 1) + j + 1] + 1 :
			    t[(i + 1) * (m + 1) + j] > t[i * (m + 1) + j + 1] ?
			    t[(i + 1) * (m + 1) + j] : t[i * (m + 1) + j + 1];
	lcs = t[0];
	free(t);
	return n + m - 2 * lcs;
}

/*
 * The linear-space search finds a shortest edit script: on random texts
 * its count of changed lines equals the one an O(NM) table gives.
 */
static void
minimal(void)
{
	static const char *const words[] = { "a\n", "b\n", "c\n", "d\n" };
	unsigned seed = 7;
	int round;

	for (round = 0; round < 2000; round++) {
		const char *la[60], *lb[60];
		size_t n = rand_r(&seed) % 60, m = rand_r(&seed) % 60, i;
		int alpha = 1 + (int)(rand_r(&seed) % 4);
		struct strbuf a, b;
		char *d, *got;

		strbuf_init(&a, 65536);
		strbuf_init(&b, 65536);
		for (i = 0; i < n; i++) {
			la[i] = words[rand_r(&seed) % (unsigned)alpha];
			strbuf_addstr(&a, la[i]);
		}
		for (i = 0; i < m; i++) {
			lb[i] = words[rand_r(&seed) % (unsigned)alpha];
			strbuf_addstr(&b, lb[i]);
		}
		d = run(a.buf, b.buf);
		CHECK(edits(d) == least_edits(la, n, lb, m));
		if (edits(d) != least_edits(la, n, lb, m))
			fprintf(stderr, "round %d: %zu edits, least %zu\n", round,
			    edits(d), least_edits(la, n, lb, m));
		if (*d) {
			got = patch(a.buf, d);
			CHECK_STR(got, b.buf);
			free(got);
		}
		free(d);
		strbuf_release(&a);
		strbuf_release(&b);
	}
}

/*
 * Large, very different texts: a correct patch in bounded time and
 * memory.  Two 200,000-line texts with no line in common and two with
 * every other line changed: the textbook traceback would keep D rows of
 * N + M entries (hundreds of GB here).
 */
static void
large(void)
{
	struct strbuf a, b;
	struct rusage ru;
	size_t i;
	int round;

	for (round = 0; round < 3; round++) {
		struct timespec t0, t1;
		char *d, *got;
		double secs;

		strbuf_init(&a, STRBUF_LARGE);
		strbuf_init(&b, STRBUF_LARGE);
		for (i = 0; i < 200000; i++) {
			strbuf_addf(&a, "line %zu of a\n", i);
			if (round == 0)
				strbuf_addf(&b, "row %zu of b\n", i);
			else if (round == 1)
				strbuf_addf(&b, i % 2 ? "line %zu of a\n" :
				    "changed %zu\n", i);
			else
				strbuf_addf(&b, "line %zu of a\n",
				    (i * 7919) % 200000);
		}
		clock_gettime(CLOCK_MONOTONIC, &t0);
		d = run(a.buf, b.buf);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		secs = (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		printf("  diff of 200,000 lines (case %d): %.2fs, %zu lines changed\n",
		    round, secs, edits(d));
		CHECK(secs < 30);
		got = patch(a.buf, d);
		CHECK(strcmp(got, b.buf) == 0);
		if (round == 1)	/* every other line: exactly those */
			CHECK(edits(d) == 200000);
		free(got);
		free(d);
		strbuf_release(&a);
		strbuf_release(&b);
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("  diff: peak RSS %ld MB\n", ru.ru_maxrss / 1024);
	CHECK(ru.ru_maxrss < 400 * 1024);
}

int
main(void)
{
	cases();
	randomised();
	minimal();
	large();
	return unit_done("diff");
}
