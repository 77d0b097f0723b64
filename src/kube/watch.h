/*
 * Watches for readiness: for each (resource, namespace) the apply engine
 * cares about, LIST once, then WATCH from the list's resourceVersion and
 * keep the latest copy of every object.  A 410 Gone (or an ERROR event
 * with code 410) means the resourceVersion expired: LIST again.  A watch
 * the server closes is resumed from the last resourceVersion seen.
 *
 * All watches are HTTP/2 streams on the client's one connection.  The
 * watchset owns its watches and the objects they hold.
 */
#ifndef S7_KUBE_WATCH_H
#define S7_KUBE_WATCH_H

#include "client.h"

struct watch_item {
	const char *namespace, *name;
	struct ynode *obj;
};

struct watch {
	const struct kube_resource *res;
	const char *namespace;		/* owned; NULL: cluster-scoped */
	struct arena arena;		/* the objects; replaced on a LIST */
	struct watch_item *items;
	size_t nitems, aitems;
	char rv[64];			/* last resourceVersion seen */
	int listed;			/* the LIST has been loaded */
	int relists, rewatches;
	struct http_req req;
	int busy;			/* a request is in flight */
	int want_list;
	struct strbuf line;		/* partial watch event */
	struct watchset *ws;
	long long retry_at;
	char error[1024];		/* last error, for reasons */
};

struct watchset {
	struct kube_client *k;
	int list_only;			/* LIST once, never WATCH */
	struct watch **w;
	size_t n, alloc;
	int changed;			/* set by any event */
	unsigned long events, lists;
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

#endif
