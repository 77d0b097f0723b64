/*
 * The generic Kubernetes client: one HTTP/2 connection, JSON bodies as
 * node trees, resources found by aggregated discovery.  No generated
 * types: an object is a tree, a kind is (group, version, kind) mapped to
 * its resource by discovery.
 *
 * kube_open loads the kubeconfig, makes the connection's TLS settings and
 * credentials, and owns both; kube_close releases everything.  API errors
 * are returned with the server's own Status message and the object they
 * concern; their class is S7_ECLUSTER.
 */
#ifndef S7_KUBE_CLIENT_H
#define S7_KUBE_CLIENT_H

#include "kubeconfig.h"
#include "../http/http.h"
#include "../yaml/node.h"

struct kube_resource {
	const char *group;	/* "" for the core group */
	const char *version;
	const char *kind;
	const char *resource;	/* plural */
	int namespaced;
	int preferred;		/* the group's preferred version */
};

struct kube_client {
	struct kubeconfig kc;
	struct http_client *http;
	struct arena arena;	/* discovery */
	/*
	 * Each resource lives in the arena and keeps its address when
	 * discovery is refreshed, so callers may hold the pointers.
	 */
	struct kube_resource **res;
	size_t nres, ares;
	int discovered;
	char *cache_dir;	/* discovery cache, or NULL */
	unsigned long discovery_requests;
};

struct kube_opts {
	const char *kubeconfig;	/* --kubeconfig */
	const char *context;	/* --context */
};

int kube_open(struct kube_client **out, const struct kube_opts *o,
    struct s7_error *err);
void kube_close(struct kube_client *k);

/* Loads (or refreshes) discovery; uses the ETag cache. */
int kube_discover(struct kube_client *k, int refresh, struct s7_error *err);
/* The resource for apiVersion + kind, or NULL. */
const struct kube_resource *kube_find(struct kube_client *k,
    const char *api_version, const char *kind);

/*
 * The URL path of a resource: /api/v1/namespaces/NS/pods/NAME, etc.
 * namespace and name may be NULL.  In the arena.
 */
const char *kube_path(struct arena *a, const struct kube_resource *r,
    const char *namespace, const char *name);

/*
 * A synchronous request.  On success (2xx) *out is the parsed body (may
 * be NULL for an empty body).  A non-2xx answer is an error whose message
 * is the server's Status message prefixed with `what`.  *status gets the
 * HTTP status in both cases (0 if none).
 */
int kube_call(struct kube_client *k, const char *method, const char *path,
    const char *content_type, const char *body, size_t body_len,
    struct arena *a, struct ynode **out, long *status, const char *what,
    struct s7_error *err);

/* Formats the error of a finished request (Status message, or transport). */
int kube_req_error(const struct http_req *r, const char *what,
    struct s7_error *err);

#endif
