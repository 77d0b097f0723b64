/*
 * Myers' O(ND) algorithm in linear space: the "middle snake" of the two
 * sequences splits the problem in two, each solved the same way, so
 * memory is O(N + M) whatever the distance (saving every row of the
 * search, as the textbook traceback does, cost O(D * (N + M)): 0.9 GB for
 * one large object).  Lines are compared as numbers (equal lines share a
 * number, found by hashing), common heads and tails are taken off first.
 *
 * Time is bounded too: a split that has not met in the middle after
 * DIFF_COST_MIN (or about sqrt(N + M)) edits takes the furthest point
 * reached, and once DIFF_WORK_MAX steps are spent the remaining pieces
 * become "all of a out, all of b in".  The script is then not minimal,
 * but it is always correct.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "text.h"
#include "xmalloc.h"
#include "banned.h"

#define DIFF_COST_MIN 256
#define DIFF_WORK_MAX ((unsigned long long)200 * 1000 * 1000)

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

/* Numbers the lines of a and b: equal lines get equal numbers. */
static void
number(const struct lines *a, const struct lines *b, long *ia, long *ib)
{
	size_t cap = 16, i, next = 0, t;
	struct slot {
		const char *p;
		size_t len;
		uint64_t h;
		long id;
	} *tab;

	while (cap < 2 * (a->n + b->n))
		cap *= 2;
	tab = xcalloc(cap, sizeof(*tab));
	for (t = 0; t < 2; t++) {
		const struct lines *l = t ? b : a;
		long *ids = t ? ib : ia;

		for (i = 0; i < l->n; i++) {
			uint64_t h = 1469598103934665603ULL;
			size_t k, j;

			for (k = 0; k < l->len[i]; k++)
				h = (h ^ (unsigned char)l->p[i][k]) *
				    1099511628211ULL;
			for (j = (size_t)h & (cap - 1); tab[j].p;
			    j = (j + 1) & (cap - 1))
				if (tab[j].h == h && tab[j].len == l->len[i] &&
				    memcmp(tab[j].p, l->p[i], l->len[i]) == 0)
					break;
			if (tab[j].p == NULL) {
				tab[j].p = l->p[i];
				tab[j].len = l->len[i];
				tab[j].h = h;
				tab[j].id = (long)next++;
			}
			ids[i] = tab[j].id;
		}
	}
	free(tab);
}

struct ctx {
	const long *a, *b;	/* line numbers */
	char *del, *ins;	/* per line of a / b: not in the common part */
	long *fwd, *bwd;	/* furthest x per diagonal; index k + off */
	long off;
	long cost_max;
	unsigned long long work;
};

/*
 * Finds a point (*x, *y) on an optimal path from (alo, blo) to (ahi, bhi)
 * with both halves smaller than the whole (the sequences are not empty
 * and differ at both ends).
 */
static void
middle(struct ctx *c, long alo, long ahi, long blo, long bhi, long *x,
    long *y)
{
	long *F = c->fwd + c->off, *B = c->bwd + c->off;
	long dmin = alo - bhi, dmax = ahi - blo;
	long fmid = alo - blo, bmid = ahi - bhi;
	long fmin = fmid, fmax = fmid, bmin = bmid, bmax = bmid;
	int odd = ((ahi - alo) - (bhi - blo)) & 1;
	long ec, d;

	F[fmid] = alo;
	B[bmid] = ahi;
	for (ec = 1;; ec++) {
		long bestx = -1, besty = -1, best;

		/* forward: one more edit on every diagonal in reach */
		if (fmin > dmin)
			F[--fmin - 1] = -1;
		else
			++fmin;
		if (fmax < dmax)
			F[++fmax + 1] = -1;
		else
			--fmax;
		for (d = fmax; d >= fmin; d -= 2) {
			/* from d - 1 one line of a out, from d + 1 one of b in */
			long r = F[d - 1] >= 0 && F[d - 1] < ahi ? F[d - 1] + 1 : -1;
			long dn = F[d + 1] >= 0 && F[d + 1] - d <= bhi ? F[d + 1] : -1;
			long i1 = r > dn ? r : dn, i2, from;

			if (i1 < 0) {
				F[d] = -1;	/* not reachable yet */
				continue;
			}
			i2 = i1 - d;
			from = i1;
			while (i1 < ahi && i2 < bhi && c->a[i1] == c->b[i2]) {
				i1++;
				i2++;
			}
			c->work += 1 + (unsigned long long)(i1 - from);
			F[d] = i1;
			if (odd && bmin <= d && d <= bmax && B[d] <= i1) {
				*x = i1;
				*y = i2;
				return;
			}
		}
		/* backward, from the end */
		if (bmin > dmin)
			B[--bmin - 1] = LONG_MAX;
		else
			++bmin;
		if (bmax < dmax)
			B[++bmax + 1] = LONG_MAX;
		else
			--bmax;
		for (d = bmax; d >= bmin; d -= 2) {
			long l = B[d + 1] != LONG_MAX && B[d + 1] > alo ?
			    B[d + 1] - 1 : LONG_MAX;
			long u = B[d - 1] != LONG_MAX && B[d - 1] - d >= blo ?
			    B[d - 1] : LONG_MAX;
			long i1 = l < u ? l : u, i2, from;

			if (i1 == LONG_MAX) {
				B[d] = LONG_MAX;
				continue;
			}
			i2 = i1 - d;
			from = i1;
			while (i1 > alo && i2 > blo &&
			    c->a[i1 - 1] == c->b[i2 - 1]) {
				i1--;
				i2--;
			}
			c->work += 1 + (unsigned long long)(from - i1);
			B[d] = i1;
			if (!odd && fmin <= d && d <= fmax && i1 <= F[d]) {
				*x = i1;
				*y = i2;
				return;
			}
		}
		if (ec < c->cost_max && c->work < DIFF_WORK_MAX)
			continue;
		/*
		 * Too costly: split where a path got furthest, forward or
		 * backward (counted in lines covered).
		 */
		best = -1;
		for (d = fmax; d >= fmin; d -= 2) {
			long i1 = F[d], i2 = i1 - d;

			if (i1 >= 0 && (i1 - alo) + (i2 - blo) > best) {
				best = (i1 - alo) + (i2 - blo);
				bestx = i1;
				besty = i2;
			}
		}
		for (d = bmax; d >= bmin; d -= 2) {
			long i1 = B[d], i2 = i1 - d;

			if (i1 != LONG_MAX && (ahi - i1) + (bhi - i2) > best) {
				best = (ahi - i1) + (bhi - i2);
				bestx = i1;
				besty = i2;
			}
		}
		if (bestx < alo || bestx > ahi || besty < blo || besty > bhi ||
		    (bestx == alo && besty == blo) ||
		    (bestx == ahi && besty == bhi)) {
			bestx = alo + (ahi - alo + 1) / 2;
			besty = blo + (bhi - blo) / 2;
		}
		*x = bestx;
		*y = besty;
		return;
	}
}

static void
compare(struct ctx *c, long alo, long ahi, long blo, long bhi)
{
	long x, y, i;

	for (;;) {
		while (alo < ahi && blo < bhi && c->a[alo] == c->b[blo]) {
			alo++;
			blo++;
		}
		while (alo < ahi && blo < bhi && c->a[ahi - 1] == c->b[bhi - 1]) {
			ahi--;
			bhi--;
		}
		if (alo == ahi || blo == bhi || c->work >= DIFF_WORK_MAX) {
			for (i = alo; i < ahi; i++)
				c->del[i] = 1;
			for (i = blo; i < bhi; i++)
				c->ins[i] = 1;
			return;
		}
		middle(c, alo, ahi, blo, bhi, &x, &y);
		/* The smaller half by recursion, the larger by the loop. */
		if ((x - alo) + (y - blo) < (ahi - x) + (bhi - y)) {
			compare(c, alo, x, blo, y);
			alo = x;
			blo = y;
		} else {
			compare(c, x, ahi, y, bhi);
			ahi = x;
			bhi = y;
		}
	}
}

/* One op per line of the script: ' ' keep, '-' delete, '+' insert. */
struct op {
	char c;
	size_t i, j;	/* line in a, line in b */
};

static size_t
script(const struct lines *a, const struct lines *b, struct op **ops)
{
	struct ctx c;
	long *ia = xcalloc(a->n + 1, sizeof(*ia));
	long *ib = xcalloc(b->n + 1, sizeof(*ib));
	size_t i = 0, j = 0, n = 0, total = a->n + b->n, cost;

	memset(&c, 0, sizeof(c));
	number(a, b, ia, ib);
	c.a = ia;
	c.b = ib;
	c.del = xcalloc(a->n + 1, 1);
	c.ins = xcalloc(b->n + 1, 1);
	c.off = (long)b->n + 1;
	c.fwd = xcalloc(total + 3, sizeof(*c.fwd));
	c.bwd = xcalloc(total + 3, sizeof(*c.bwd));
	for (cost = 1; cost * cost < total; cost++)
		;
	c.cost_max = cost < DIFF_COST_MIN ? DIFF_COST_MIN : (long)cost;
	compare(&c, 0, (long)a->n, 0, (long)b->n);
	*ops = xcalloc(total + 1, sizeof(**ops));
	/* Walk both: in a change, a's lines go out before b's come in. */
	while (i < a->n || j < b->n) {
		if (i < a->n && c.del[i])
			(*ops)[n++] = (struct op){ '-', i++, 0 };
		else if (j < b->n && c.ins[j])
			(*ops)[n++] = (struct op){ '+', 0, j++ };
		else {
			(*ops)[n++] = (struct op){ ' ', i, j };
			i++;
			j++;
		}
	}
	free(ia);
	free(ib);
	free(c.del);
	free(c.ins);
	free(c.fwd);
	free(c.bwd);
	return n;
}

/*
 * The lines come from outside (a live object's values): control and
 * invisible characters are escaped, so a diff cannot rewrite the
 * terminal or reorder what it shows.
 */
static void
emit_line(struct strbuf *out, char c, const char *p, size_t len)
{
	int nl = len > 0 && p[len - 1] == '\n';

	strbuf_addch(out, c);
	text_escape(out, p, nl ? len - 1 : len, (size_t)-1, 0);
	if (!nl)
		strbuf_addstr(out, "\n\\ No newline at end of file");
	strbuf_addch(out, '\n');
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
	nops = script(&a, &b, &ops);
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
