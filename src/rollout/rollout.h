/*
 * The rollout engine: a rendered stack onto the cluster and back.  Above
 * the Kubernetes client (src/kube/, which knows nothing of sites, render
 * or plans) and below the commands, which build the plan, print and pick
 * exit codes.  Nothing here evaluates templates (render resolved the
 * gates and secrets) and nothing here writes English for people: what
 * happens is reported as events (struct rollout_event) and progress
 * records, and the command words them.
 *
 *   rollout_apply   the plan's waves in order, every object by server-side
 *                   apply with one field manager, objects of a step in
 *                   parallel, then a wait on readiness from watches;
 *                   ApplySet membership and --prune (apply.c, prune.c)
 *   rollout_diff    what apply would change: a server-side dry run of each
 *                   object that is not already up to date (diff.c)
 *   rollout_status  the live state of every component (status.c)
 *   secrets_*       generated credentials (secrets.c, secrets.h)
 *
 * Inside a wave there are three steps: namespaces and CRDs (then wait for
 * the CRDs to be Established and discovery to list their kinds), the other
 * built-in objects (then wait for the components' webhook endpoints), and
 * custom resources; then the whole wave must be ready.
 *
 * An object is only sent when it differs from the live one: its config
 * hash (annotation sector7.io/config-hash) must match and every field we
 * set must hold our value.  So a second apply of an unchanged site sends
 * no mutating request but the ApplySet parent's.
 */
#ifndef S7_ROLLOUT_H
#define S7_ROLLOUT_H

#include <stddef.h>

#include "../kube/client.h"
#include "../kube/kstatus.h"
#include "../plan/plan.h"
#include "../render/render.h"
#include "../util/strbuf.h"

#define FIELD_MANAGER "sector7"
#define CONFIG_HASH "sector7.io/config-hash"
#define CREDENTIAL_LABEL "sector7.io/credential"

/* What happened to an object, a secret, or why something is not ready. */
enum rollout_ev {
	RE_CREATED,		/* sent, did not exist (verbose only) */
	RE_CHANGED,		/* sent, differed (verbose only) */
	RE_REPLACED,		/* a Job deleted and created again */
	RE_WOULD_REPLACE,	/* diff: apply would replace it */
	RE_NUDGED,		/* a CRD stuck "Installing" was touched */
	RE_PRUNED,		/* left the set: deleted */
	RE_KEPT,		/* left the set, but holds data: kept */
	RE_FAILED,		/* the server refused it; detail: why */
	RE_NOT_READY,		/* at a timeout; detail: why */
	RE_POD,			/* a pod of a workload not ready; detail: why */
	RE_NO_PODS,		/* a workload not ready has no pods */
	RE_EVENT,		/* its latest event; key: reason; detail: message */
	RE_SECRET_CREATED,	/* key generated in a new Secret; detail: hash */
	RE_SECRET_ADDED,	/* key added to an existing Secret */
	RE_SECRET_UPDATED,	/* a derived key (hash) made again */
	RE_SECRET_COPIED,	/* a copy made in another namespace */
	RE_SECRET_SYNCED,	/* a copy brought back to its source's values */
};

struct rollout_event {
	enum rollout_ev type;
	const char *component;		/* or NULL */
	const char *kind, *namespace, *name;	/* the object */
	const char *key;		/* secrets: the key; events: the reason */
	const char *from;		/* secrets: the key a hash derives from,
					   or the source "ns/name" of a copy */
	const char *detail;		/* why, a message, or a value's hash */
};

typedef void (*rollout_event_fn)(void *arg, const struct rollout_event *ev);

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

struct rollout_progress {
	size_t wave, nwaves;
	int phase;
	struct comp_progress *comps;	/* of the current wave */
	size_t n;
	int final;			/* the wave just ended */
};

typedef void (*rollout_progress_fn)(void *arg,
    const struct rollout_progress *p);

struct rollout_opts {
	const char *set;		/* the ApplySet's name and namespace */
	int prune, prune_data;
	long timeout_s;			/* per wave */
	int verbose;			/* an event for every object sent */
	const char *version;		/* for the ApplySet's tooling annotation */
	rollout_progress_fn progress;
	rollout_event_fn event;
	void *arg;			/* of both callbacks */
};

struct rollout_stats {
	size_t objects, applied, unchanged, pruned, failed;
	size_t secrets_created, secrets_added, secrets_updated, secrets_kept;
	size_t changed;			/* diff: objects that would change */
	unsigned long requests, mutating;
	unsigned long connections, http2;	/* TCP connections; HTTP/2 answers */
	double seconds;
};

int rollout_apply(struct kube_client *k, struct rendered *r,
    const struct plan *p, const struct rollout_opts *o,
    struct rollout_stats *st, struct s7_error *err);

/*
 * What apply would change: for every object of the plan that is not up
 * to date, a server-side dry run compared with the live object.  Appends
 * a unified diff per changed object to out (Secret values only as
 * hashes); events report what the server refused or apply would replace.
 */
int rollout_diff(struct kube_client *k, struct rendered *r,
    const struct plan *p, const struct rollout_opts *o, struct strbuf *out,
    struct rollout_stats *st, struct s7_error *err);

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
int rollout_status(struct kube_client *k, struct rendered *r,
    struct comp_status *out, struct s7_error *err);

/* Every field of want is in have with the same value (see member.c). */
int rollout_subset(const struct ynode *want, const struct ynode *have);

#endif
