/*
 * Discovery uses the aggregated form (two requests for every group, GA
 * since Kubernetes 1.30), revalidated by ETag against a copy on disk, so
 * a run that changes nothing costs two small 304s.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "../json/json.h"
#include "../crypto/crypto.h"
#include "../util/fs.h"
#include "../util/text.h"
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

	xsecure_process();
	kubeconfig_init(&k->kc);
	arena_init(&k->arena);
	k->kc.deadline_ms = o->deadline_ms;
	if (kubeconfig_load(&k->kc, o->kubeconfig, o->context, err) < 0 ||
	    kubeconfig_auth(&k->kc, &auth, err) < 0)
		goto fail;
	if (http_client_new(&k->http, k->kc.server, &k->kc.tls, err) < 0) {
		err->class = S7_ECLUSTER;
		goto fail;
	}
	http_client_set_deadline(k->http, o->deadline_ms);
	if (auth) {
		int r = http_client_set_auth(k->http, auth, err);

		xfree_secret(auth, strlen(auth));
		if (r < 0) {
			s7_error_prefix(err, "%s: users[%s]", k->kc.file,
			    k->kc.user);
			err->class = S7_ECLUSTER;
			goto fail;
		}
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
	free(k->by_res);
	free(k->by_kind);
	free(k->cache_dir);
	free(k);
}

void
kube_set_deadline(struct kube_client *k, long long at_ms)
{
	k->kc.deadline_ms = at_ms;
	http_client_set_deadline(k->http, at_ms);
}

long long
kube_deadline(const struct kube_client *k)
{
	return http_client_deadline(k->http);
}

long
kube_left_ms(const struct kube_client *k)
{
	return http_client_left_ms(k->http);
}

int
kube_expired(const struct kube_client *k)
{
	return kube_deadline(k) != 0 && http_client_left_ms(k->http) == 0;
}

long long
kube_deadline_min(const struct kube_client *k, long long at_ms)
{
	long long d = kube_deadline(k);

	if (d == 0)
		return at_ms;
	return at_ms == 0 || d < at_ms ? d : at_ms;
}

int
kube_path_is_secret(const char *p)
{
	const char *q;
	size_t n;

	if (p == NULL)
		return 0;
	/* the path of a URL */
	if ((q = strstr(p, "://")) != NULL) {
		p = strchr(q + 3, '/');
		if (p == NULL)
			return 0;
	}
	if (strncmp(p, "/api/v1/", 8) != 0)
		return 0;
	p += 8;
	if (strncmp(p, "namespaces/", 11) == 0) {
		p += 11;
		n = strcspn(p, "/?");
		if (p[n] != '/')
			return 0;	/* a Namespace itself */
		p += n + 1;
	}
	n = strcspn(p, "/?");
	return n == 7 && strncmp(p, "secrets", 7) == 0;
}

/* A Status's reason: one CamelCase word, or NULL. */
static const char *
status_reason(const struct ynode *st)
{
	const char *r = ynode_get_string(st, "reason");
	size_t i;

	if (r == NULL || *r == '\0' || strlen(r) > 64)
		return NULL;
	for (i = 0; r[i]; i++)
		if (!((r[i] >= 'A' && r[i] <= 'Z') || (r[i] >= 'a' && r[i] <= 'z')))
			return NULL;
	return r;
}

int
kube_req_error(const struct http_req *r, const char *what,
    struct s7_error *err)
{
	struct arena a;
	struct ynode *st = NULL;
	struct s7_error ignore;
	const char *msg = NULL, *reason = NULL;
	const char *server = r->client ? http_client_url(r->client) : "the server";
	char shown[TEXT_SHOW_MAX * 2], sw[512], ew[300];
	int secret = r->secret || kube_path_is_secret(r->url);

	text_clean(sw, sizeof(sw), what);
	if (r->deadline_hit && (r->transport_error || r->status == 0)) {
		s7_error_class(err, S7_ETIMEOUT,
		    "%s: %s: the command's time limit ran out (after %d attempt%s)",
		    sw, server, r->attempts, r->attempts == 1 ? "" : "s");
		return -1;
	}
	if (r->transport_error) {
		text_clean(ew, sizeof(ew), r->errmsg);
		if (r->tls_error)
			s7_error_class(err, S7_ECLUSTER,
			    "%s: %s: %s (a TLS or certificate failure: not retried)",
			    sw, server, ew);
		else
			s7_error_class(err, S7_ECLUSTER,
			    "%s: %s: %s (after %d attempt%s)", sw, server, ew,
			    r->attempts, r->attempts == 1 ? "" : "s");
		return -1;
	}
	arena_init(&a);
	if (r->body_out.len && json_parse(&a, "response", r->body_out.buf,
	    r->body_out.len, &st, &ignore) == 0 && st->kind == Y_MAP) {
		msg = ynode_get_string(st, "message");
		reason = status_reason(st);
	}
	if (secret)
		/* The server may quote what it was sent: the values. */
		s7_error_class(err, S7_ECLUSTER,
		    "%s: HTTP %ld%s%s%s (the server's message is not shown: the request carries secret values)",
		    sw, r->status, reason ? " (" : "", reason ? reason : "",
		    reason ? ")" : "");
	else if (msg)
		s7_error_class(err, S7_ECLUSTER, "%s: %s (HTTP %ld)", sw,
		    text_escape_buf(shown, sizeof(shown), msg, strlen(msg),
		    TEXT_SHOW_MAX), r->status);
	else if (r->body_out.len)
		s7_error_class(err, S7_ECLUSTER, "%s: HTTP %ld: %s", sw,
		    r->status, text_escape_buf(shown, sizeof(shown),
		    r->body_out.buf, r->body_out.len, 300));
	else
		s7_error_class(err, S7_ECLUSTER, "%s: HTTP %ld", sw,
		    r->status);
	if (secret && st)
		ynode_wipe(st);
	arena_release(&a);
	return -1;
}

int
kube_lost_error(struct kube_client *k, const char *what, struct s7_error *err)
{
	struct http_stats st;
	char why[300];

	http_client_stats(k->http, &st);
	return s7_error_class(err, S7_ECLUSTER,
	    "%s: lost the API server %s: %s (no answer for %llds)", what,
	    k->kc.server, text_clean(why, sizeof(why), st.last_failure),
	    (http_now_ms() - st.fail_streak_since_ms) / 1000);
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
	r.secret = kube_path_is_secret(path);
	if (out)
		*out = NULL;
	if (status)
		*status = 0;
	if (http_client_lost(k->http, KUBE_LOST_MS)) {
		/* Each request would wait out its retries: say so at once. */
		kube_lost_error(k, what, err);
		goto done;
	}
	if (http_do(k->http, &r, err) < 0) {
		if (err->class != S7_ETIMEOUT)
			err->class = S7_ECLUSTER;
		goto done;
	}
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

/* ---- discovery ---- */

static size_t
hash3(const char *a, const char *b, const char *c)
{
	const char *parts[3] = { a, b, c };
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < 3; i++) {
		const char *p;

		for (p = parts[i]; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		h = (h ^ 0xff) * 1099511628211ULL;	/* separator */
	}
	return (size_t)h;
}

static void
index_put(struct kube_client *k, size_t idx)
{
	const struct kube_resource *r = k->res[idx];
	size_t mask = k->nslots - 1, i;

	for (i = hash3(r->group, r->version, r->resource) & mask; k->by_res[i];
	    i = (i + 1) & mask)
		;
	k->by_res[i] = idx + 1;
	for (i = hash3(r->group, r->version, r->kind) & mask; k->by_kind[i];
	    i = (i + 1) & mask)
		;
	k->by_kind[i] = idx + 1;
}

static void
index_grow(struct kube_client *k)
{
	size_t i;

	if (2 * (k->nres + 1) <= k->nslots)
		return;
	free(k->by_res);
	free(k->by_kind);
	k->nslots = k->nslots ? 2 * k->nslots : 256;
	while (2 * (k->nres + 1) > k->nslots)
		k->nslots *= 2;
	k->by_res = xcalloc(k->nslots, sizeof(*k->by_res));
	k->by_kind = xcalloc(k->nslots, sizeof(*k->by_kind));
	for (i = 0; i < k->nres; i++)
		index_put(k, i);
}

static struct kube_resource *
find_resource(struct kube_client *k, const char *group, size_t glen,
    const char *version, const char *name, int by_kind)
{
	char g[256];
	size_t mask, i, *slots = by_kind ? k->by_kind : k->by_res;

	if (k->nslots == 0 || glen >= sizeof(g))
		return NULL;
	memcpy(g, group, glen);
	g[glen] = '\0';
	mask = k->nslots - 1;
	for (i = hash3(g, version, name) & mask; slots[i]; i = (i + 1) & mask) {
		struct kube_resource *r = k->res[slots[i] - 1];

		if (strcmp(r->group, g) == 0 && strcmp(r->version, version) == 0 &&
		    strcmp(by_kind ? r->kind : r->resource, name) == 0)
			return r;
	}
	return NULL;
}

/* Names that go into URL paths: only the characters Kubernetes allows. */
static int
name_ok(const char *s, int allow_empty, const char *extra)
{
	if (s == NULL || (*s == '\0' && !allow_empty) || strlen(s) > 253)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    strchr(extra, *s)))
			return 0;
	return 1;
}

static int
kind_ok(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 253)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

/* The verbs we use, from a list of strings (others ignored). */
static unsigned
verbs_of(const struct ynode *v)
{
	static const struct { const char *name; unsigned bit; } known[] = {
		{ "list", KUBE_VERB_LIST }, { "watch", KUBE_VERB_WATCH },
		{ "patch", KUBE_VERB_PATCH }, { "delete", KUBE_VERB_DELETE },
	};
	unsigned bits = 0;
	size_t i, j;

	for (i = 0; v && v->kind == Y_SEQ && i < v->n; i++)
		for (j = 0; j < sizeof(known) / sizeof(known[0]); j++)
			if (v->v[i]->kind == Y_SCALAR && v->v[i]->type == YT_STR &&
			    strcmp(v->v[i]->str, known[j].name) == 0)
				bits |= known[j].bit;
	return bits;
}

static void
add_resource(struct kube_client *k, const char *group, const char *version,
    const struct ynode *res, int preferred)
{
	const char *resource = ynode_get_string(res, "resource");
	const char *kind = ynode_get_string(ynode_get_map(res, "responseKind"),
	    "kind");
	const char *scope = ynode_get_string(res, "scope");
	struct kube_resource *r;

	if (res->kind != Y_MAP || !name_ok(resource, 0, ".-") ||
	    !kind_ok(kind) || scope == NULL ||
	    (strcmp(scope, "Namespaced") != 0 && strcmp(scope, "Cluster") != 0)) {
		k->discovery_skipped++;
		return;
	}
	r = find_resource(k, group, strlen(group), version, resource, 0);
	if (r) {
		r->namespaced = strcmp(scope, "Namespaced") == 0;
		r->preferred = preferred;
		r->verbs = verbs_of(ynode_get(res, "verbs"));
		return;
	}
	r = arena_alloc(&k->arena, sizeof(*r));
	r->group = arena_strdup(&k->arena, group);
	r->version = arena_strdup(&k->arena, version);
	r->kind = arena_strdup(&k->arena, kind);
	r->resource = arena_strdup(&k->arena, resource);
	r->namespaced = strcmp(scope, "Namespaced") == 0;
	r->preferred = preferred;
	r->verbs = verbs_of(ynode_get(res, "verbs"));
	index_grow(k);
	ALLOC_GROW(k->res, k->nres + 1, k->ares);
	k->res[k->nres++] = r;
	index_put(k, k->nres - 1);
}

int
kube_discovery_parse(struct kube_client *k, const char *buf, size_t len,
    const char *what, struct s7_error *err)
{
	struct arena a;
	struct ynode *root;
	const struct ynode *items;
	const char *kind;
	size_t i, j, l;
	int ret = -1;

	/* The document is read in its own arena: refreshes do not pile up. */
	arena_init(&a);
	if (json_parse(&a, what, buf, len, &root, err) < 0) {
		err->class = S7_ECLUSTER;
		goto done;
	}
	kind = ynode_get_string(root, "kind");
	if (kind == NULL || strcmp(kind, "APIGroupDiscoveryList") != 0) {
		s7_error_class(err, S7_ECLUSTER,
		    "%s: the server does not offer aggregated discovery (Kubernetes 1.30 or later is needed)",
		    what);
		goto done;
	}
	items = ynode_get(root, "items");
	if (items && !(items->kind == Y_SEQ || (items->kind == Y_SCALAR &&
	    items->type == YT_NULL))) {
		s7_error_class(err, S7_ECLUSTER,
		    "%s: 'items' is %s, not a list", what, ynode_kind_name(items));
		goto done;
	}
	for (i = 0; items && items->kind == Y_SEQ && i < items->n; i++) {
		const struct ynode *g = items->v[i];
		const struct ynode *meta = ynode_get(g, "metadata");
		const struct ynode *versions = ynode_get_seq(g, "versions");
		/* The core group has no name. */
		const char *group = ynode_get(meta, "name") == NULL ? "" :
		    ynode_get_string(meta, "name");

		if (g->kind != Y_MAP || (meta && meta->kind != Y_MAP) ||
		    !name_ok(group, 1, ".-") || versions == NULL) {
			k->discovery_skipped++;
			continue;
		}
		for (j = 0; j < versions->n; j++) {
			const struct ynode *v = versions->v[j];
			const char *version = ynode_get_string(v, "version");
			const struct ynode *rs = ynode_get_seq(v, "resources");

			if (v->kind != Y_MAP || !name_ok(version, 0, "") ||
			    rs == NULL) {
				k->discovery_skipped++;
				continue;
			}
			for (l = 0; l < rs->n; l++)
				add_resource(k, group, version, rs->v[l], j == 0);
		}
	}
	ret = 0;
done:
	arena_release(&a);
	return ret;
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
		/* A cached ETag that is not one header line is not used. */
		if (!refresh && fs_read(body_path, &cached, &ignore) == 0 &&
		    fs_read(etag_path, &e, &ignore) == 0 && e.len &&
		    !text_has_control(e.buf, e.len)) {
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
		ret = kube_discovery_parse(k, cached.buf, cached.len, body_path,
		    err);
		goto done;
	}
	if (r.transport_error || r.status != 200) {
		kube_req_error(&r, "discovery", err);
		goto done;
	}
	if (kube_discovery_parse(k, r.body_out.buf, r.body_out.len, path,
	    err) < 0)
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

	return find_resource(k, api_version, glen, version, kind, 1);
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
