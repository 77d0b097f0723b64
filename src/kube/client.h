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
	unsigned verbs;		/* KUBE_VERB_* the server offers */
};

#define KUBE_VERB_LIST 0x1u
#define KUBE_VERB_WATCH 0x2u
#define KUBE_VERB_PATCH 0x4u
#define KUBE_VERB_DELETE 0x8u

struct kube_client {
	struct kubeconfig kc;
	struct http_client *http;
	struct arena arena;	/* the resources */
	/*
	 * Each resource lives in the arena and keeps its address when
	 * discovery is refreshed, so callers may hold the pointers.  Two
	 * hash indexes (by resource and by kind, within group and version)
	 * keep merging and lookups linear in the number of resources.
	 */
	struct kube_resource **res;
	size_t nres, ares;
	size_t *by_res, *by_kind;	/* slots hold index + 1; 0: empty */
	size_t nslots;
	int discovered;
	char *cache_dir;	/* discovery cache, or NULL */
	unsigned long discovery_requests;
	unsigned long discovery_skipped;	/* malformed entries left out */
};

/* Silence after which a server that fails every request counts as lost. */
#define KUBE_LOST_MS 15000

struct kube_opts {
	const char *kubeconfig;	/* --kubeconfig */
	const char *context;	/* --context */
	/*
	 * The command's deadline (http_now_ms() clock; 0: none): bounds the
	 * exec credential plugin and every request (kube_set_deadline).
	 */
	long long deadline_ms;
};

/*
 * Opens the client.  Before it reads any credential it makes the process
 * non-dumpable (xsecure_process).  o must be fully initialised (zero
 * what is not used).
 */
int kube_open(struct kube_client **out, const struct kube_opts *o,
    struct s7_error *err);
void kube_close(struct kube_client *k);

/*
 * One deadline per command, on the http_now_ms() clock (0: none): every
 * request, retry and wait of the client stops there.  Code that waits in
 * a loop of its own (readiness, say) reads kube_left_ms or kube_expired
 * and stops too; kube_deadline_min gives the earlier of its own limit and
 * the command's.
 */
void kube_set_deadline(struct kube_client *k, long long at_ms);
long long kube_deadline(const struct kube_client *k);
long kube_left_ms(const struct kube_client *k);
int kube_expired(const struct kube_client *k);
long long kube_deadline_min(const struct kube_client *k, long long at_ms);

/* Loads (or refreshes) discovery; uses the ETag cache. */
int kube_discover(struct kube_client *k, int refresh, struct s7_error *err);
/*
 * Merges one aggregated discovery document (APIGroupDiscoveryList) into
 * k's resources.  Every field is type-checked; an entry with a missing or
 * malformed field is left out (counted in discovery_skipped), not
 * guessed at.  Exposed for the tests and the fuzzer.
 */
int kube_discovery_parse(struct kube_client *k, const char *buf, size_t len,
    const char *what, struct s7_error *err);
/* The resource for apiVersion + kind, or NULL. */
const struct kube_resource *kube_find(struct kube_client *k,
    const char *api_version, const char *kind);
/* Whether a URL or path names the core group's Secrets (or one Secret). */
int kube_path_is_secret(const char *path);

/*
 * The URL path of a resource: /api/v1/namespaces/NS/pods/NAME, etc.
 * namespace and name may be NULL.  In the arena.
 */
const char *kube_path(struct arena *a, const struct kube_resource *r,
    const char *namespace, const char *name);

/*
 * A synchronous request.  On success (2xx) *out is the parsed body (may
 * be NULL for an empty body).  A non-2xx answer is an error whose message
 * is the server's Status message prefixed with `what` (escaped and cut to
 * TEXT_SHOW_MAX), except for Secrets (kube_path_is_secret): their errors
 * name `what` and the status only, and their responses are wiped.
 * *status gets the HTTP status in both cases (0 if none).
 */
/* The error for a server that stopped answering (class S7_ECLUSTER). */
int kube_lost_error(struct kube_client *k, const char *what,
    struct s7_error *err);
int kube_call(struct kube_client *k, const char *method, const char *path,
    const char *content_type, const char *body, size_t body_len,
    struct arena *a, struct ynode **out, long *status, const char *what,
    struct s7_error *err);

/*
 * Formats the error of a finished request: the Status message (escaped
 * and cut), or the transport failure with the server's URL.  A request
 * marked secret (r->secret, or a Secret's URL) never has its answer
 * quoted: the server may echo the values it was sent.  Class S7_ECLUSTER,
 * or S7_ETIMEOUT when the deadline stopped it.
 */
int kube_req_error(const struct http_req *r, const char *what,
    struct s7_error *err);

#endif
