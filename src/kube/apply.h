/*
 * apply: the rendered stack onto the cluster, phase by phase and wave by
 * wave (src/plan), every object by server-side apply with one field
 * manager, objects of a step in parallel over the one connection, then a
 * wait on readiness computed from watches.
 *
 * Inside a wave there are three steps: namespaces and CRDs (then wait for
 * the CRDs to be Established and refresh discovery), the other built-in
 * objects (then wait for the components' webhook endpoints), and custom
 * resources; then the whole wave must be ready.
 *
 * An object is only sent when it differs from the live one: its config
 * hash (annotation sector7.io/config-hash) must match and every field we
 * set must hold our value.  So a second apply of an unchanged site sends
 * no mutating request but the ApplySet parent's.
 *
 * Membership follows the ApplySet convention (applyset.h); --prune
 * deletes members that left the rendered set, never PVCs, PVs or
 * credential Secrets unless prune_data is set.
 */
#ifndef S7_KUBE_APPLY_H
#define S7_KUBE_APPLY_H

#include <stdio.h>

#include "client.h"
#include "kstatus.h"
#include "../render/render.h"
#include "../site/site.h"

#define FIELD_MANAGER "sector7"
#define CONFIG_HASH "sector7.io/config-hash"
#define CREDENTIAL_LABEL "sector7.io/credential"

enum comp_state {
	CS_QUEUED, CS_APPLYING, CS_WAITING, CS_READY, CS_FAILED,
};

struct comp_progress {
	const char *name;
	int phase;
	enum comp_state state;
	size_t objects, changed, unchanged, failed;
	char why[300];			/* first thing not ready */
	double seconds;
};

struct apply_progress {
	size_t wave, nwaves;
	struct comp_progress *comps;	/* of the current wave */
	size_t n;
	int final;			/* the wave just ended */
};

typedef void (*apply_progress_fn)(void *arg, const struct apply_progress *p);

struct apply_opts {
	int phase;			/* 0: all */
	const char *only;		/* NULL: all */
	int prune, prune_data;
	long timeout_s;			/* per wave */
	int verbose;			/* report every object sent */
	const char *version;
	apply_progress_fn progress;
	void *progress_arg;
};

struct apply_stats {
	size_t objects, applied, unchanged, pruned, failed;
	unsigned long requests, mutating;
	unsigned long connections, http2;	/* TCP connections; HTTP/2 answers */
	double seconds;
	struct strbuf report;		/* why a wave failed, line by line */
};

void apply_stats_init(struct apply_stats *st);
void apply_stats_release(struct apply_stats *st);

int apply_run(struct kube_client *k, struct rendered *r,
    const struct site *s, const struct apply_opts *o, struct apply_stats *st,
    struct s7_error *err);

struct comp_status {
	const char *name;
	int phase;
	int enabled;			/* used by the site */
	enum kstatus state;		/* KS_NOT_FOUND: nothing exists */
	size_t objects, present;
	char why[300];
};

/*
 * The live state of every component of r: one LIST per kind and
 * namespace, then the readiness rules and gates.  out has r->ncomps
 * entries.
 */
int apply_status(struct kube_client *k, struct rendered *r,
    struct comp_status *out, struct s7_error *err);

/*
 * What apply would change: a server-side dry run of every object of the
 * plan against the live state.  Appends a unified diff per changed object
 * to out (Secret values only as hashes) and counts them in *changed;
 * notes gets a line per object the server refused or apply would replace.
 */
int apply_diff(struct kube_client *k, struct rendered *r,
    const struct apply_opts *o, const struct site *s, struct strbuf *out,
    struct strbuf *notes, size_t *changed, struct s7_error *err);

/* The resource of a kind alone (gates name no version). */
const struct kube_resource *apply_find_kind(struct kube_client *k,
    const char *kind);
/* Every field of want is in have with the same value (see apply.c). */
int apply_subset(const struct ynode *want, const struct ynode *have);

#endif
