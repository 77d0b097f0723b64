/*
 * verify: the gameplan's validation checklists, automated.  The checks
 * are data: each catalog component lists its own under `checks:` in its
 * descriptor (docs/verify.md), expanded against the rendered context like
 * a template, and skipped when their `when:` is false.  The C code here
 * knows the kinds of check:
 *
 *   api         objects' conditions read through the API server
 *   dns         the internal and the public resolver's answers
 *   https       each app's health path through the ingress address, its
 *               certificate's chain and expiry
 *   sql         databases, roles and extensions, seen by the dump role
 *               from a short-lived pod in the cluster
 *   prometheus  targets up, rules loaded, no alert firing
 *   backup      the last successful dump, Longhorn and Velero backups
 *
 * and, with a window (--since), what happened in it: restarts, alerts
 * that fired, backup runs, and objects of the site changed by hand.
 *
 * Every check becomes one item with a result and its evidence.  Probes
 * of every kind run at once under one deadline.  The report owns its
 * items and their strings (in its arena); verify_report_release frees
 * them.
 */
#ifndef S7_VERIFY_H
#define S7_VERIFY_H

#include <stddef.h>
#include <time.h>

#include "../kube/client.h"
#include "../render/render.h"
#include "../site/site.h"
#include "../util/arena.h"
#include "../util/error.h"

enum vres { V_PASS, V_FAIL, V_SKIP };

#define VERIFY_EVIDENCE_MAX 700
/* The --since section is printed after the phases, as "phase" 6. */
#define VERIFY_SINCE_PHASE 6

struct vitem {
	const char *component;
	int phase;
	const char *kind;		/* api, dns, https, sql, prometheus, backup, since */
	const char *check;		/* the kind's own name for it, or "" */
	const struct ynode *spec;	/* the expanded check */
	const char *subject;		/* what is checked, shown after the mark */
	enum vres res;
	int decided;
	char evidence[VERIFY_EVIDENCE_MAX];
	long ms;
	int slot;			/* the runner's: its probe, or -1 */
};

struct verify_opts {
	int phase;			/* 0: all */
	const char *only;		/* NULL: every component */
	long timeout_ms;		/* one deadline for every probe */
	const char *resolver;		/* internal resolver ADDR[:PORT]; NULL: the gateway */
	const char *public_resolver;	/* NULL: the system resolver */
	const char *resolv_conf;	/* NULL: /etc/resolv.conf */
	const char *ingress;		/* ADDR[:PORT] in place of the ingress address */
	const char *prometheus;		/* Prometheus's base URL, or NULL: the service proxy */
	long long since_s;		/* the window of --since; 0: none */
	time_t now;			/* 0: time(NULL) */
};

struct verify_report {
	struct arena arena;
	struct vitem *items;
	size_t n, alloc;
	size_t passed, failed, skipped;
	double seconds;
	unsigned long api_requests;
};

void verify_report_init(struct verify_report *rep);
void verify_report_release(struct verify_report *rep);

/*
 * The items of the enabled components of r (narrowed by phase and only),
 * in catalog order, each expanded against r->ctx.  An invalid check is
 * an error naming its file:line:col (S7_EINPUT); an --only naming no
 * enabled component is a usage error.
 */
int verify_collect(struct verify_report *rep, const struct rendered *r,
    const struct verify_opts *o, struct s7_error *err);

/* Checks one expanded item's keys for its kind (collect calls it). */
int verify_spec_check(const struct ynode *spec, struct s7_error *err);

/*
 * Runs every item of rep and decides it.  -1 (S7_ECLUSTER) only when the
 * cluster cannot be read at all (discovery fails): then no item ran.
 */
int verify_run(struct verify_report *rep, struct kube_client *k,
    const struct rendered *r, const struct site *s,
    const struct verify_opts *o, struct s7_error *err);

/* Adds an item (the runner's --since items and tests use it). */
struct vitem *verify_add(struct verify_report *rep, const char *component,
    int phase, const char *kind, const char *subject);
/* Decides an item (printf into its evidence). */
void verify_set(struct vitem *it, enum vres res, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Helpers shared by the kinds (and their tests). */
/* RFC 3339 ("2026-05-01T03:00:00Z", offsets and fractions allowed). */
int verify_parse_time(const char *s, time_t *out);
/* "48h", "2d", "90m", "30s" in seconds; -1 when invalid. */
int verify_parse_window(const char *s, long long *seconds);
/* "3 h", "2 days" ... for evidence. */
void verify_format_age(long long seconds, char *buf, size_t size);

#endif
