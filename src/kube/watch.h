/*
 * Watches for readiness: for each (resource, namespace) the apply engine
 * cares about, LIST once, then WATCH from the list's resourceVersion and
 * keep the latest copy of every object.  A 410 Gone (or an ERROR event
 * with code 410) means the resourceVersion expired: LIST again.  A watch
 * the server closes is resumed from the last resourceVersion seen.
 *
 * Restarts back off: a watch that ends (or a list that fails) without
 * having delivered an event waits WATCH_BACKOFF_FIRST_MS, then twice as
 * long each time up to WATCH_BACKOFF_MAX_MS; events arriving (or a watch
 * that stayed open WATCH_HEALTHY_MS) reset the delay.  So a server that
 * closes every watch at once, or answers 410 or 500, costs a request
 * every 30 s, not thousands a minute.  Restarts after failures are at
 * least WATCH_RESTART_GAP_MS apart across the watchset, so a hundred
 * watches of a server that went away cost a few requests a second.
 *
 * Memory follows the objects, not the events: each item holds one
 * object in a block of its own (ynode_pack), freed when a newer copy
 * replaces it or the object is deleted; items are found by a hash of
 * namespace and name.  An object watchset_get returned stays valid until
 * the next watchset_start (or watchset_release) even if a newer copy
 * arrives meanwhile (any request of the client may bring one: a
 * kube_call drives the streams too): replaced copies wait there, at most
 * WATCH_RETIRED_MAX bytes of them.  Every field read from an event or a list is
 * type-checked; what does not fit is ignored.  Watches of Secrets have
 * their objects and buffers wiped when freed.
 *
 * All watches are streams of the client (one HTTP/2 connection, or one
 * connection each over HTTP/1.1).  The watchset owns its watches and the
 * objects they hold.
 */
#ifndef S7_KUBE_WATCH_H
#define S7_KUBE_WATCH_H

#include "client.h"

#define WATCH_BACKOFF_FIRST_MS 1000
#define WATCH_BACKOFF_MAX_MS 30000
#define WATCH_HEALTHY_MS 10000
#define WATCH_RESTART_GAP_MS 400	/* between two restarts after failures */
#define WATCH_RETIRED_MAX ((size_t)64 * 1024 * 1024)
/*
 * LISTs come in pages, so that no answer is held whole: WATCH_PAGE
 * objects, WATCH_PAGE_CRD for CustomResourceDefinitions, which carry
 * their schemas (a megabyte and more each).
 */
#define WATCH_PAGE 100
#define WATCH_PAGE_CRD 2
/* LISTs on the wire at once (their answers are held whole until read). */
#define WATCH_LISTS_AT_ONCE 16

/* A replaced copy, kept until the next watchset_start. */
struct watch_retired {
	struct ynode *obj;
	size_t bytes;
	int wipe;
};

struct watch_item {
	const char *namespace, *name;	/* in obj ("" for no namespace) */
	struct ynode *obj;		/* packed: one heap block */
	size_t bytes;
};

struct watch;

/*
 * Called with each object a list or an event brings, before a copy is
 * kept: the owner reads it whole (to compare it with what it would
 * send, say) and may strip what it will not read again, since the copy
 * is packed from what is left.  Returns non-zero to keep nothing of it.
 */
typedef int (*watch_seen_fn)(void *arg, const struct watch *w,
    struct ynode *obj);

struct watch {
	const struct kube_resource *res;
	const char *namespace;		/* owned; NULL: cluster-scoped */
	struct watch_item *items;
	size_t nitems, aitems;
	size_t *index;			/* hash slots: item + 1, 0 empty */
	size_t nslots;
	int secret;			/* a watch of Secrets: wipe */
	char rv[64];			/* last resourceVersion seen */
	char *cont;			/* the next page of a LIST, or NULL */
	int listed;			/* the LIST has been loaded */
	int held;			/* listed, not watched (watchset_hold) */
	int listing;			/* a LIST of it is on the wire */
	int relists, rewatches;
	struct http_req req;
	int busy;			/* a request is in flight */
	int want_list;
	struct strbuf line;		/* partial watch event */
	struct watchset *ws;
	long long retry_at;
	long backoff_ms;		/* the next restart's delay */
	long long stream_start;		/* when the current watch began */
	unsigned long stream_events;	/* events the current watch brought */
	unsigned long restarts;		/* lists and watches issued */
	char error[1024];		/* last error, for reasons */
};

struct watchset {
	struct kube_client *k;
	int list_only;			/* LIST once, never WATCH */
	watch_seen_fn seen;		/* or NULL: keep objects whole */
	void *seen_arg;
	struct watch **w;
	size_t n, alloc;
	int changed;			/* set by any event */
	unsigned long events, lists;
	size_t listing;			/* LISTs on the wire */
	long long next_restart_ms;	/* the earliest next failed restart */
	unsigned long requests;		/* lists and watches issued */
	size_t objects, bytes;		/* held now */
	struct watch_retired *retired;	/* replaced, freed at watchset_start */
	size_t nretired, aretired, retired_bytes;
};

void watchset_init(struct watchset *ws, struct kube_client *k);
void watchset_release(struct watchset *ws);
/* Adds (or finds) the watch of resource r in namespace ns. */
struct watch *watchset_add(struct watchset *ws, const struct kube_resource *r,
    const char *ns);
/* Starts what is not running yet (LISTs first, then WATCHes). */
void watchset_start(struct watchset *ws);
/* Whether every watch has loaded its first LIST. */
int watchset_listed(const struct watchset *ws);
/* The latest copy of an object, or NULL. */
const struct ynode *watchset_get(struct watchset *ws,
    const struct kube_resource *r, const char *ns, const char *name);
/* Stops every stream. */
void watchset_stop(struct watchset *ws);
/*
 * A watch listed now and watched only once watchset_add asks for it
 * (ahead of need: one round of LISTs for what comes later); and a watch
 * put back to that state, its stream stopped, its objects and
 * resourceVersion kept, so that watching again resumes where it was.
 */
struct watch *watchset_prefetch(struct watchset *ws,
    const struct kube_resource *r, const char *ns);
void watchset_hold(struct watch *w);

/*
 * Feeds a piece of a watch stream to w as if it had come from the
 * server (events are lines of JSON); returns non-zero when the stream
 * should stop.  And loads a page of a LIST answer: a first page (w->cont
 * NULL) replaces every item, a later one adds to them; w->cont gets the
 * list's continue token, if any.  For the tests and the fuzzer.
 */
int watch_feed(struct watch *w, const char *data, size_t len);
int watch_load_list(struct watch *w, const char *buf, size_t len,
    struct s7_error *err);

#endif
