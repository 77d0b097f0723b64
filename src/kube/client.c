/*
 * Discovery uses the aggregated form (two requests for every group, GA
 * since Kubernetes 1.30), revalidated by ETag against a copy on disk, so
 * a run that changes nothing costs two small 304s.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "../json/json.h"
#include "../crypto/crypto.h"
#include "../util/fs.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

#define DISCOVERY_ACCEPT \
	"application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"

static const char *
cache_dir(void)
{
	static char buf[4096];
	const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

	if (getenv("SECTOR7_NO_CACHE"))
		return NULL;
	if (x && *x)
		snprintf(buf, sizeof(buf), "%s/sector7/discovery", x);
	else if (home && *home)
		snprintf(buf, sizeof(buf), "%s/.cache/sector7/discovery", home);
	else
		return NULL;
	return buf;
}

int
kube_open(struct kube_client **out, const struct kube_opts *o,
    struct s7_error *err)
{
	struct kube_client *k = xcalloc(1, sizeof(*k));
	char *auth = NULL;
	const char *cd;

	kubeconfig_init(&k->kc);
	arena_init(&k->arena);
	if (kubeconfig_load(&k->kc, o->kubeconfig, o->context, err) < 0 ||
	    kubeconfig_auth(&k->kc, &auth, err) < 0)
		goto fail;
	if (http_client_new(&k->http, k->kc.server, &k->kc.tls, err) < 0) {
		err->class = S7_ECLUSTER;
		goto fail;
	}
	if (auth) {
		http_client_set_auth(k->http, auth);
		xfree_secret(auth, strlen(auth));
	}
	if ((cd = cache_dir()) != NULL) {
		char sum[SHA256_HEXLEN];

		sha256_hex(k->kc.server, strlen(k->kc.server), sum);
		k->cache_dir = xasprintf("%s/%.16s", cd, sum);
	}
	*out = k;
	return 0;
fail:
	kube_close(k);
	*out = NULL;
	return -1;
}

void
kube_close(struct kube_client *k)
{
	if (k == NULL)
		return;
	http_client_free(k->http);
	kubeconfig_release(&k->kc);
	arena_release(&k->arena);
	free(k->res);
	free(k->cache_dir);
	free(k);
}

/* "message" of a Status body, or the body's start, or the HTTP reason. */
int
kube_req_error(const struct http_req *r, const char *what,
    struct s7_error *err)
{
	struct arena a;
	struct ynode *st = NULL;
	struct s7_error ignore;
	const char *msg = NULL;

	if (r->transport_error) {
		s7_error_class(err, S7_ECLUSTER, "%s: %s (after %d attempt%s)",
		    what, r->errmsg, r->attempts, r->attempts == 1 ? "" : "s");
		return -1;
	}
	arena_init(&a);
	if (r->body_out.len && json_parse(&a, "response", r->body_out.buf,
	    r->body_out.len, &st, &ignore) == 0)
		msg = ynode_get_str(st, "message");
	if (msg)
		s7_error_class(err, S7_ECLUSTER, "%s: %s (HTTP %ld)", what, msg,
		    r->status);
	else if (r->body_out.len)
		s7_error_class(err, S7_ECLUSTER, "%s: HTTP %ld: %.300s", what,
		    r->status, r->body_out.buf);
	else
		s7_error_class(err, S7_ECLUSTER, "%s: HTTP %ld", what,
		    r->status);
	arena_release(&a);
	return -1;
}

int
kube_call(struct kube_client *k, const char *method, const char *path,
    const char *content_type, const char *body, size_t body_len,
    struct arena *a, struct ynode **out, long *status, const char *what,
    struct s7_error *err)
{
	struct http_req r;
	int ret = -1;

	http_req_init(&r);
	r.method = method;
	http_req_url(k->http, &r, "%s", path);
	r.content_type = content_type;
	r.body = body;
	r.body_len = body_len;
	r.timeout_ms = 60000;
	if (out)
		*out = NULL;
	if (http_do(k->http, &r, err) < 0)
		goto done;
	if (status)
		*status = r.status;
	if (r.transport_error || r.status < 200 || r.status >= 300) {
		kube_req_error(&r, what, err);
		goto done;
	}
	if (out && r.body_out.len &&
	    json_parse(a, path, r.body_out.buf, r.body_out.len, out, err) < 0) {
		err->class = S7_ECLUSTER;
		goto done;
	}
	ret = 0;
done:
	http_req_release(&r);
	return ret;
}

static void
add_resource(struct kube_client *k, const char *group, const char *version,
    const struct ynode *res, int preferred)
{
	const struct ynode *rk = ynode_get(res, "responseKind");
	const char *resource = ynode_get_str(res, "resource");
	const char *kind = ynode_get_str(rk, "kind");
	const char *scope = ynode_get_str(res, "scope");
	struct kube_resource *r;

	size_t i;

	if (resource == NULL || kind == NULL)
		return;
	for (i = 0; i < k->nres; i++) {
		r = k->res[i];
		if (strcmp(r->group, group) == 0 &&
		    strcmp(r->version, version) == 0 &&
		    strcmp(r->resource, resource) == 0) {
			r->namespaced = scope && strcmp(scope, "Namespaced") == 0;
			r->preferred = preferred;
			return;
		}
	}
	r = arena_alloc(&k->arena, sizeof(*r));
	r->group = arena_strdup(&k->arena, group);
	r->version = arena_strdup(&k->arena, version);
	r->kind = arena_strdup(&k->arena, kind);
	r->resource = arena_strdup(&k->arena, resource);
	r->namespaced = scope && strcmp(scope, "Namespaced") == 0;
	r->preferred = preferred;
	ALLOC_GROW(k->res, k->nres + 1, k->ares);
	k->res[k->nres++] = r;
}

static int
parse_discovery(struct kube_client *k, const char *buf, size_t len,
    const char *what, struct s7_error *err)
{
	struct ynode *root, *items;
	size_t i, j, l;

	if (json_parse(&k->arena, what, buf, len, &root, err) < 0) {
		err->class = S7_ECLUSTER;
		return -1;
	}
	if (ynode_get_str(root, "kind") == NULL ||
	    strcmp(ynode_get_str(root, "kind"), "APIGroupDiscoveryList") != 0)
		return s7_error_class(err, S7_ECLUSTER,
		    "%s: the server does not offer aggregated discovery (Kubernetes 1.30 or later is needed)",
		    what);
	items = ynode_get(root, "items");
	for (i = 0; items && i < items->n; i++) {
		const struct ynode *g = items->v[i];
		const char *group = ynode_get_str(ynode_get(g, "metadata"), "name");
		const struct ynode *versions = ynode_get(g, "versions");

		for (j = 0; versions && j < versions->n; j++) {
			const struct ynode *v = versions->v[j];
			const struct ynode *rs = ynode_get(v, "resources");

			for (l = 0; rs && l < rs->n; l++)
				add_resource(k, group ? group : "",
				    ynode_get_str(v, "version"), rs->v[l], j == 0);
		}
	}
	return 0;
}

/* One aggregated discovery document, revalidated against the cache. */
static int
discover_one(struct kube_client *k, const char *path, const char *name,
    int refresh, struct s7_error *err)
{
	struct http_req r;
	struct strbuf cached;
	char *body_path = NULL, *etag_path = NULL;
	int have = 0, ret = -1;

	strbuf_init(&cached, HTTP_BODY_MAX);
	http_req_init(&r);
	r.method = "GET";
	r.accept = DISCOVERY_ACCEPT;
	r.timeout_ms = 60000;
	http_req_url(k->http, &r, "%s", path);
	if (k->cache_dir) {
		struct strbuf e;
		struct s7_error ignore;

		body_path = xasprintf("%s/%s.json", k->cache_dir, name);
		etag_path = xasprintf("%s/%s.etag", k->cache_dir, name);
		strbuf_init(&e, sizeof(r.if_none_match) - 1);
		if (!refresh && fs_read(body_path, &cached, &ignore) == 0 &&
		    fs_read(etag_path, &e, &ignore) == 0 && e.len) {
			have = 1;
			snprintf(r.if_none_match, sizeof(r.if_none_match), "%s",
			    e.buf);
		}
		strbuf_release(&e);
	}
	if (http_do(k->http, &r, err) < 0)
		goto done;
	k->discovery_requests++;
	if (r.status == 304 && have) {
		ret = parse_discovery(k, cached.buf, cached.len, body_path, err);
		goto done;
	}
	if (r.transport_error || r.status != 200) {
		kube_req_error(&r, "discovery", err);
		goto done;
	}
	if (parse_discovery(k, r.body_out.buf, r.body_out.len, path, err) < 0)
		goto done;
	if (k->cache_dir && r.etag[0]) {
		struct s7_error ignore;

		/* A cache that cannot be written only costs bandwidth. */
		if (fs_mkdirs(k->cache_dir, 0700, &ignore) == 0 &&
		    fs_write_atomic(body_path, r.body_out.buf, r.body_out.len,
		    0600, &ignore) == 0)
			fs_write_atomic(etag_path, r.etag, strlen(r.etag), 0600,
			    &ignore);
	}
	ret = 0;
done:
	http_req_release(&r);
	strbuf_release(&cached);
	free(body_path);
	free(etag_path);
	return ret;
}

int
kube_discover(struct kube_client *k, int refresh, struct s7_error *err)
{
	if (k->discovered && !refresh)
		return 0;
	if (discover_one(k, "/api", "api", refresh, err) < 0 ||
	    discover_one(k, "/apis", "apis", refresh, err) < 0)
		return -1;
	k->discovered = 1;
	return 0;
}

const struct kube_resource *
kube_find(struct kube_client *k, const char *api_version, const char *kind)
{
	const char *slash = strchr(api_version, '/');
	size_t glen = slash ? (size_t)(slash - api_version) : 0;
	const char *version = slash ? slash + 1 : api_version;
	size_t i;

	for (i = 0; i < k->nres; i++) {
		const struct kube_resource *r = k->res[i];

		if (strlen(r->group) == glen &&
		    strncmp(r->group, api_version, glen) == 0 &&
		    strcmp(r->version, version) == 0 &&
		    strcmp(r->kind, kind) == 0)
			return r;
	}
	return NULL;
}

const char *
kube_path(struct arena *a, const struct kube_resource *r,
    const char *namespace, const char *name)
{
	struct strbuf sb;
	const char *p;

	strbuf_init(&sb, 4096);
	if (r->group[0])
		strbuf_addf(&sb, "/apis/%s/%s", r->group, r->version);
	else
		strbuf_addf(&sb, "/api/%s", r->version);
	if (r->namespaced && namespace)
		strbuf_addf(&sb, "/namespaces/%s", namespace);
	strbuf_addf(&sb, "/%s", r->resource);
	if (name)
		strbuf_addf(&sb, "/%s", name);
	p = arena_strdup(a, sb.buf);
	strbuf_release(&sb);
	return p;
}
