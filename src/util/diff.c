/*
 * Myers' algorithm keeps, for each edit distance d, the furthest point
 * reached on each diagonal; saving those rows lets the edit script be
 * traced back.  Memory is O(D * (N + M)), so D is capped.
 */
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "xmalloc.h"
#include "banned.h"

#define DIFF_MAX_EDITS 4000

struct lines {
	const char **p;
	size_t *len;
	size_t n;
};

static void
split(const char *s, struct lines *l)
{
	size_t alloc = 0, alen = 0;

	memset(l, 0, sizeof(*l));
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) + 1 : strlen(s);

		ALLOC_GROW(l->p, l->n + 1, alloc);
		ALLOC_GROW(l->len, l->n + 1, alen);
		l->p[l->n] = s;
		l->len[l->n] = n;
		l->n++;
		s += n;
	}
}

static int
same(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
	return a->len[i] == b->len[j] && memcmp(a->p[i], b->p[j], a->len[i]) == 0;
}

/* One op per line of the script: ' ' keep, '-' delete, '+' insert. */
struct op {
	char c;
	size_t i, j;	/* line in a, line in b */
};

static size_t
myers(const struct lines *a, const struct lines *b, struct op **ops)
{
	long n = (long)a->n, m = (long)b->n, max = n + m, d, k;
	long off = max + 1;
	long *v = xcalloc((size_t)(2 * max + 3), sizeof(*v));
	long **trace = xcalloc(DIFF_MAX_EDITS + 2, sizeof(*trace));
	long found = -1;
	size_t nops = 0, aops = 0;
	long x, y;

	for (d = 0; d <= max && d <= DIFF_MAX_EDITS; d++) {
		trace[d] = xmalloc((size_t)(2 * max + 3) * sizeof(long));
		memcpy(trace[d], v, (size_t)(2 * max + 3) * sizeof(long));
		for (k = -d; k <= d; k += 2) {
			if (k == -d || (k != d && v[off + k - 1] < v[off + k + 1]))
				x = v[off + k + 1];
			else
				x = v[off + k - 1] + 1;
			y = x - k;
			while (x < n && y < m && same(a, (size_t)x, b, (size_t)y)) {
				x++;
				y++;
			}
			v[off + k] = x;
			if (x >= n && y >= m) {
				found = d;
				break;
			}
		}
		if (found >= 0)
			break;
	}
	*ops = NULL;
	if (found < 0) {
		/* Too different: all of a out, all of b in. */
		for (x = 0; x < n; x++) {
			ALLOC_GROW(*ops, nops + 1, aops);
			(*ops)[nops++] = (struct op){ '-', (size_t)x, 0 };
		}
		for (y = 0; y < m; y++) {
			ALLOC_GROW(*ops, nops + 1, aops);
			(*ops)[nops++] = (struct op){ '+', 0, (size_t)y };
		}
	} else {
		/* Trace back from (n, m), collecting ops in reverse. */
		x = n;
		y = m;
		for (d = found; d >= 0; d--) {
			long *vd = trace[d], pk, px, py;

			k = x - y;
			if (d == 0) {
				pk = 0;
			} else if (k == -d || (k != d && vd[off + k - 1] <
			    vd[off + k + 1])) {
				pk = k + 1;
			} else {
				pk = k - 1;
			}
			px = d == 0 ? 0 : vd[off + pk];
			py = px - pk;
			while (x > px && y > py) {
				ALLOC_GROW(*ops, nops + 1, aops);
				(*ops)[nops++] = (struct op){ ' ', (size_t)x - 1,
				    (size_t)y - 1 };
				x--;
				y--;
			}
			if (d > 0) {
				ALLOC_GROW(*ops, nops + 1, aops);
				if (x == px)
					(*ops)[nops++] = (struct op){ '+', 0,
					    (size_t)y - 1 };
				else
					(*ops)[nops++] = (struct op){ '-',
					    (size_t)x - 1, 0 };
			}
			x = px;
			y = py;
		}
		for (k = 0; k < (long)nops / 2; k++) {
			struct op t = (*ops)[k];

			(*ops)[k] = (*ops)[nops - 1 - (size_t)k];
			(*ops)[nops - 1 - (size_t)k] = t;
		}
	}
	for (d = 0; d <= DIFF_MAX_EDITS + 1; d++)
		free(trace[d]);
	free(trace);
	free(v);
	return nops;
}

static void
emit_line(struct strbuf *out, char c, const char *p, size_t len)
{
	strbuf_addch(out, c);
	strbuf_add(out, p, len);
	if (len == 0 || p[len - 1] != '\n')
		strbuf_addstr(out, "\n\\ No newline at end of file\n");
}

static void
range(struct strbuf *out, size_t before, size_t len)
{
	if (len == 1)
		strbuf_addf(out, "%zu", before + 1);
	else
		strbuf_addf(out, "%zu,%zu", len ? before + 1 : before, len);
}

int
diff_unified(struct strbuf *out, const char *as, const char *bs,
    const char *name_a, const char *name_b, int context)
{
	struct lines a, b;
	struct op *ops;
	size_t nops, i, j, changes = 0, *pa, *pb;
	size_t ctx = context < 0 ? 0 : (size_t)context;

	split(as, &a);
	split(bs, &b);
	nops = myers(&a, &b, &ops);
	/* pa[k], pb[k]: lines of a and b before op k. */
	pa = xcalloc(nops + 1, sizeof(*pa));
	pb = xcalloc(nops + 1, sizeof(*pb));
	for (i = 0; i < nops; i++) {
		pa[i + 1] = pa[i] + (ops[i].c != '+');
		pb[i + 1] = pb[i] + (ops[i].c != '-');
		if (ops[i].c != ' ')
			changes++;
	}
	if (changes)
		strbuf_addf(out, "--- %s\n+++ %s\n", name_a, name_b);
	i = 0;
	while (changes && i < nops) {
		size_t start, end, last, al, bl;

		while (i < nops && ops[i].c == ' ')
			i++;
		if (i == nops)
			break;
		start = i > ctx ? i - ctx : 0;
		/* Join changes closer than two contexts into one hunk. */
		last = i;
		for (j = i; j < nops; j++) {
			if (ops[j].c != ' ')
				last = j;
			else if (j - last > 2 * ctx)
				break;
		}
		end = last + ctx + 1 < nops ? last + ctx + 1 : nops;
		al = pa[end] - pa[start];
		bl = pb[end] - pb[start];
		/*
		 * As diff -u: an empty range names the line before it, and
		 * a range of one line has no length.
		 */
		strbuf_addstr(out, "@@ -");
		range(out, pa[start], al);
		strbuf_addstr(out, " +");
		range(out, pb[start], bl);
		strbuf_addstr(out, " @@\n");
		for (j = start; j < end; j++) {
			if (ops[j].c == '+')
				emit_line(out, '+', b.p[ops[j].j], b.len[ops[j].j]);
			else
				emit_line(out, ops[j].c, a.p[ops[j].i],
				    a.len[ops[j].i]);
		}
		i = end;
	}
	free(pa);
	free(pb);
	free(ops);
	free(a.p);
	free(a.len);
	free(b.p);
	free(b.len);
	return changes ? 1 : 0;
}
