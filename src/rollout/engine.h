/*
 * Inside the rollout engine: what apply, diff and status share.  The
 * engine keeps one record per rendered object ("member") and drives all
 * HTTP through the client's multi handle: requests are submitted together
 * and collected; watches stream in the background while the engine waits.
 * Not for use outside src/rollout/.
 */
#ifndef S7_ROLLOUT_ENGINE_H
#define S7_ROLLOUT_ENGINE_H

#include "rollout.h"
#include "../crypto/crypto.h"
#include "../kube/applyset.h"
#include "../kube/watch.h"

#define TICK_MS 250
#define LIST_TIMEOUT_MS 120000
#define LOST_AFTER_MS 15000

enum { STEP_FOUNDATION, STEP_BUILTIN, STEP_CUSTOM, NSTEPS };

struct member {
	struct robject *ro;
	size_t comp;			/* index in the wave's progress */
	const struct kube_resource *res;
	const char *ns;
	struct strbuf body;		/* the object as sent, JSON, once sent */
	char hash[SHA256_HEXLEN];
	struct http_req req;
	int sent, failed;
	int current;			/* the live object was up to date */
	int fresh;			/* what the watch last brought is up to date */
	int prepared, indexed;
	int index_seen;			/* compared with a copy kept before it came */
	int settled;			/* up to date or done: not compared again */
	int replace;			/* refused: delete and create again */
	char error[1024];
	/* a CRD: its kind and the group/versions it serves */
	const char *crd_kind;
	const char **crd_served;
	size_t ncrd_served;
};

struct gate_state {
	const struct rgate *g;
	size_t comp;			/* index in the progress records */
	const struct kube_resource *res;
};

/* Whether a StorageClass binds its volumes only for a pod (cached). */
struct class_mode {
	const char *name;
	int first_consumer;
	struct class_mode *next;
};

struct engine {
	struct kube_client *k;
	struct rendered *r;
	const struct rollout_opts *o;
	struct rollout_stats *st;
	struct arena arena;
	char id[APPLYSET_ID_MAX];
	const char *ns;			/* the ApplySet parent's namespace */
	struct watchset ws;
	struct rollout_progress prog;
	size_t wave, nwaves;
	double started;
	int refreshed;		/* discovery reloaded since the last step */
	long long since_ms;	/* when the run started */
	struct class_mode *classes;
	/* The members the watches' objects are matched with (sorted). */
	struct member **index;
	size_t nindex, aindex;
	int drop_fresh;		/* keep no live copy of up-to-date members
				 * or of other objects (diff) */
};

/* engine.c */
void engine_init(struct engine *e, struct kube_client *k, struct rendered *r,
    const struct rollout_opts *o, struct rollout_stats *st, int list_only);
void engine_release(struct engine *e);
void engine_event(struct engine *e, enum rollout_ev type,
    const struct member *m, const char *key, const char *detail);
void engine_tick(struct engine *e, int final);
void engine_pump(struct engine *e, long ms);
int engine_lost(struct engine *e, struct s7_error *err);
int engine_wait_listed(struct engine *e, struct s7_error *err);
/* GETs an object; *out NULL when it does not exist. */
int engine_get(struct engine *e, const struct kube_resource *r,
    const char *ns, const char *name, struct ynode **out,
    struct s7_error *err);
/* The resource of a kind alone (gates name no version). */
const struct kube_resource *engine_find_kind(struct engine *e,
    const char *kind);
double engine_now(void);
/*
 * Adds ms to the members the watches match their objects with: each
 * object a list or an event brings is compared with its member's body
 * as it arrives (member->fresh), then kept without what no reader of
 * the engine looks at again (managedFields, CRD schemas, data).
 */
void engine_index(struct engine *e, struct member **ms, size_t n);
/* Forgets the index (the wave's members are going). */
void engine_unindex(struct engine *e);
/* A fresh watchset with the engine's hook. */
void engine_watchset(struct engine *e, int list_only);

/* member.c */
void member_init(struct member *m, struct robject *ro, size_t comp);
void member_release(struct engine *e, struct member *m);
int member_resolve(struct engine *e, struct member *m, struct s7_error *err);
int member_prepare(struct engine *e, struct member *m, struct s7_error *err);
/* The object as sent (labels, config hash), a tree in a. */
struct ynode *member_desired(struct engine *e, const struct member *m,
    struct arena *a, struct s7_error *err);
/* m, unsent, will not be sent or compared again. */
void member_settle(struct member *m);
int member_up_to_date(struct engine *e, const struct member *m,
    const struct ynode *live);
int member_replaceable(const struct member *m);
int member_step(const struct member *m);
const char *member_name(struct engine *e, const struct member *m);
const struct ynode *member_live(struct engine *e, const struct member *m);
/* Submits m as a server-side apply (a dry run when dry). */
int member_submit(struct engine *e, struct member *m, int dry,
    http_done_fn done, struct s7_error *err);
/* Waits for every sent request of ms to be answered. */
/* Waits for every sent request of ms to be answered; -1 (err set) when
 * the API server is lost, the unanswered ones stopped and failed. */
int members_wait_sent(struct engine *e, struct member **ms, size_t n,
    struct s7_error *err);

/* ready.c */
enum kstatus member_status(struct engine *e, const struct member *m,
    char *why, size_t size);
enum kstatus gate_status(struct engine *e, const struct gate_state *g,
    char *why, size_t size);
/* Adds the gates of rendered component ci (of type, or all) to gs. */
size_t gates_collect(struct engine *e, size_t ci, size_t comp,
    struct gate_state *gs, size_t ng, const char *type);
/*
 * Waits until every member in ms and every gate in gs is ready (0), the
 * deadline passes (-1), or the API server is lost (-2, err set).
 */
int wait_ready(struct engine *e, struct member **ms, size_t n,
    struct gate_state *gs, size_t ng, long long deadline, int final,
    struct s7_error *err);
/* Events for what is not ready, with a pod's story for workloads. */
void explain_timeout(struct engine *e, struct member **ms, size_t n,
    struct gate_state *gs, size_t ng);

/* prune.c: the ApplySet's group-kinds and namespaces, sorted, unique. */
struct set {
	const char **gk, **ns;
	size_t ngk, nns;
	size_t cap;		/* room in gk and ns */
};

/*
 * Reads the parent (refusing one of another tool) and writes it listing
 * the old members' kinds and namespaces and the new ones', so a prune
 * after an interrupted apply still finds both.  *old gets what it listed.
 */
int set_open(struct engine *e, struct set *old, struct s7_error *err);
/*
 * With prune: deletes the members that left the rendered set (never
 * volumes or credentials unless prune_data), then writes the parent
 * with the new set and what was kept.
 */
int set_close(struct engine *e, const struct set *old, struct s7_error *err);

#endif
