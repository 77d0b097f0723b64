/*
 * The runner: every item's reads and probes at once, under one deadline.
 *
 *   - API reads (GETs and LISTs) are requests on the kube client's one
 *     HTTP/2 connection, all in flight together, each path asked once
 *     however many items read it;
 *   - the DNS queries and the HTTPS probes each run on a thread of their
 *     own (their own sockets and curl multi handle), started once the
 *     CA they need has been read;
 *   - the SQL pods are created first, since they take longest, and
 *     polled until they end.
 *
 * Then each item is judged from what came back.  Nothing here prints.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "internal.h"
#include "../http/http.h"
#include "../http/probe.h"
#include "../json/json.h"
#include "../kube/applyset.h"
#include "../kube/kstatus.h"
#include "../net/dns.h"
#include "../util/base64.h"
#include "../util/ipv4.h"
#include "../util/strbuf.h"
#include "../util/text.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

#define TICK_MS 20
#define META_ACCEPT "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"

struct kget {
	struct http_req req;
	char *path;
	int done;
	int parsed;
	int secret;			/* the body holds credentials: wipe it */
	struct ynode *json;
	char error[600];
};

struct sqlpod {
	struct vitem *item;
	char name[128];
	const char *namespace;
	int created;
	char error[600];
	struct ynode *last;		/* the pod as last read */
	struct arena arena;
};

struct run {
	struct kube_client *k;
	const struct rendered *r;
	const struct site *s;
	const struct verify_opts *o;
	struct verify_report *rep;
	struct arena a;
	struct kget **g;
	size_t ng, ag;
	time_t now;
	long long start, deadline;
	char ca_error[600];
	struct strbuf ca;		/* PEM of the cluster's CA, when asked */
	/* DNS */
	struct dns_query *dq;
	size_t ndq;
	int public_skip;
	char public_why[300];
	char internal_srv[64], public_srv[64];
	/* HTTPS */
	struct probe *pr;
	struct probe **prp;
	size_t npr;
	/* SQL */
	struct sqlpod *sp;
	size_t nsp;
};

static long long
remaining(const struct run *x)
{
	long long r = x->deadline - http_now_ms();

	return r > 0 ? r : 0;
}

static const char *
sstr(const struct ynode *spec, const char *key)
{
	const char *v = ynode_get_str(spec, key);

	return v ? v : "";
}

/* Submits a GET of path (once: a second ask finds the first). */
static struct kget *
kget(struct run *x, const char *path, const char *accept, int secret)
{
	struct kget *g;
	struct s7_error err;
	size_t i;

	for (i = 0; i < x->ng; i++)
		if (strcmp(x->g[i]->path, path) == 0)
			return x->g[i];
	g = xcalloc(1, sizeof(*g));
	http_req_init(&g->req);
	g->path = xstrdup(path);
	g->secret = secret;
	g->req.method = "GET";
	g->req.accept = accept;
	g->req.timeout_ms = remaining(x) > 1000 ? remaining(x) : 1000;
	g->req.max_attempts = 3;
	http_req_url(x->k->http, &g->req, "%s", path);
	ALLOC_GROW(x->g, x->ng + 1, x->ag);
	x->g[x->ng++] = g;
	if (http_submit(x->k->http, &g->req, &err) < 0) {
		snprintf(g->error, sizeof(g->error), "%.590s", err.msg);
		g->done = 1;
	}
	return g;
}

static int
all_done(const struct run *x)
{
	size_t i;

	for (i = 0; i < x->ng; i++)
		if (!x->g[i]->done && !x->g[i]->req.done)
			return 0;
	return 1;
}

/* Drives the API requests until all are answered or the deadline. */
static void
kwait(struct run *x)
{
	size_t i;

	while (!all_done(x) && remaining(x) > 0)
		http_run(x->k->http, TICK_MS);
	for (i = 0; i < x->ng; i++) {
		struct kget *g = x->g[i];

		if (g->done)
			continue;
		if (!g->req.done) {
			http_cancel(x->k->http, &g->req);
			snprintf(g->error, sizeof(g->error),
			    "GET %s: no answer within the deadline", g->path);
		}
		g->done = 1;
	}
}

/* The parsed answer, or NULL with g->error (404: error "missing"). */
static const struct ynode *
kjson(struct run *x, struct kget *g, long *status)
{
	struct s7_error err;

	if (status)
		*status = g->req.status;
	if (g->parsed || g->error[0])
		return g->json;
	g->parsed = 1;
	if (g->req.transport_error || g->req.status != 200) {
		if (g->req.status == 404)
			snprintf(g->error, sizeof(g->error), "missing");
		else {
			kube_req_error(&g->req, "GET", &err);
			snprintf(g->error, sizeof(g->error), "%.590s", err.msg);
		}
	} else if (json_parse(&x->a, g->path, g->req.body_out.buf,
	    g->req.body_out.len, &g->json, &err) < 0) {
		snprintf(g->error, sizeof(g->error), "%.590s", err.msg);
		g->json = NULL;
	}
	if (g->secret) {
		explicit_bzero(g->req.body_out.buf, g->req.body_out.alloc);
		g->req.body_out.len = 0;
	}
	return g->json;
}

static const char *
res_path(struct run *x, const char *api_version, const char *kind,
    const char *ns, const char *name, char *why, size_t size)
{
	const struct kube_resource *res = kube_find(x->k, api_version, kind);

	if (res == NULL) {
		snprintf(why, size, "%s (%s) is not served by the cluster", kind,
		    api_version);
		return NULL;
	}
	return kube_path(&x->a, res, ns, name);
}

/* A GET of one object, or a LIST (name NULL); NULL when not served. */
static struct kget *
ask(struct run *x, const char *api_version, const char *kind, const char *ns,
    const char *name, char *why, size_t size)
{
	const char *p = res_path(x, api_version, kind, ns, name, why, size);

	if (p == NULL)
		return NULL;
	return kget(x, name ? p : arena_printf(&x->a, "%s?limit=0", p), NULL, 0);
}

static const struct ynode *
items_of(const struct ynode *list)
{
	const struct ynode *items = ynode_get(list, "items");

	return items && items->kind == Y_SEQ ? items : NULL;
}

static const struct ynode *
find_named(const struct ynode *list, const char *name)
{
	const struct ynode *items = items_of(list);
	size_t i;

	for (i = 0; items && i < items->n; i++) {
		const char *n = ynode_get_str(ynode_get(items->v[i], "metadata"),
		    "name");

		if (n && strcmp(n, name) == 0)
			return items->v[i];
	}
	return NULL;
}

static const char *
meta(const struct ynode *obj, const char *key)
{
	return ynode_get_str(ynode_get(obj, "metadata"), key);
}

/* ---- api ---- */

static void
plan_api(struct run *x, struct vitem *it)
{
	const struct ynode *sp = it->spec;
	const char *c = it->check;
	char why[300];
	struct kget *g = NULL;

	why[0] = '\0';
	if (strcmp(c, "nodes-ready") == 0 || strcmp(c, "allocatable") == 0)
		g = ask(x, "v1", "Node", NULL, NULL, why, sizeof(why));
	else if (strcmp(c, "loadbalancer") == 0)
		g = ask(x, "v1", "Service", sstr(sp, "namespace"), sstr(sp, "name"),
		    why, sizeof(why));
	else if (strcmp(c, "default-storageclass") == 0)
		g = ask(x, "storage.k8s.io/v1", "StorageClass", NULL, NULL, why,
		    sizeof(why));
	else if (strcmp(c, "ready") == 0)
		g = ask(x, sstr(sp, "api-version"), sstr(sp, "resource"),
		    ynode_get_str(sp, "namespace"), sstr(sp, "name"), why,
		    sizeof(why));
	else if (strcmp(c, "endpoints") == 0) {
		const char *p = res_path(x, "discovery.k8s.io/v1", "EndpointSlice",
		    sstr(sp, "namespace"), NULL, why, sizeof(why));

		if (p)
			g = kget(x, arena_printf(&x->a,
			    "%s?labelSelector=kubernetes.io%%2Fservice-name%%3D%s", p,
			    sstr(sp, "name")), NULL, 0);
		ask(x, "v1", "Service", sstr(sp, "namespace"), sstr(sp, "name"),
		    why, sizeof(why));
	} else if (strcmp(c, "certificate") == 0)
		g = ask(x, "cert-manager.io/v1", "Certificate",
		    sstr(sp, "namespace"), sstr(sp, "name"), why, sizeof(why));
	if (g == NULL && why[0])
		verify_set(it, V_FAIL, "%s", why);
}

/* The answer for an item's main read (asked again: found, not sent). */
static const struct ynode *
answer(struct run *x, struct vitem *it, const char *api_version,
    const char *kind, const char *ns, const char *name, const char *query)
{
	char why[300];
	const char *p = res_path(x, api_version, kind, ns, name, why, sizeof(why));
	struct kget *g;
	const struct ynode *j;

	if (p == NULL) {
		verify_set(it, V_FAIL, "%s", why);
		return NULL;
	}
	g = kget(x, query ? arena_printf(&x->a, "%s%s", p, query) :
	    name ? p : arena_printf(&x->a, "%s?limit=0", p), NULL, 0);
	if (!g->done && !g->req.done)
		kwait(x);
	g->done = 1;
	j = kjson(x, g, NULL);
	if (j == NULL) {
		if (strcmp(g->error, "missing") == 0)
			verify_set(it, V_FAIL, "%s %s%s%s does not exist", kind,
			    ns ? ns : "", ns ? "/" : "", name ? name : "");
		else
			verify_set(it, V_FAIL, "%s", g->error);
	}
	return j;
}

static void
judge_nodes(struct run *x, struct vitem *it)
{
	const struct ynode *list = answer(x, it, "v1", "Node", NULL, NULL, NULL);
	const struct ynode *want = ynode_get(it->spec, "nodes");
	struct strbuf ok, bad;
	size_t i, nok = 0;

	if (list == NULL)
		return;
	strbuf_init(&ok, 400);
	strbuf_init(&bad, 400);
	for (i = 0; want && want->kind == Y_SEQ && i < want->n; i++) {
		const char *name = want->v[i]->str;
		const struct ynode *node = name ? find_named(list, name) : NULL;
		const struct ynode *rc = kstatus_condition(node, "Ready");
		const char *st = ynode_get_str(rc, "status");

		if (node == NULL)
			strbuf_addf(&bad, "%s%s is not in the cluster",
			    bad.len ? "; " : "", name ? name : "?");
		else if (st == NULL || strcmp(st, "True") != 0)
			strbuf_addf(&bad, "%s%s not Ready (%s: %s)", bad.len ? "; " :
			    "", name, ynode_get_str(rc, "reason") ?
			    ynode_get_str(rc, "reason") : "no Ready condition",
			    ynode_get_str(rc, "message") ?
			    ynode_get_str(rc, "message") : "");
		else {
			const char *kv = ynode_path(node,
			    "status.nodeInfo.kubeletVersion") ? ynode_path(node,
			    "status.nodeInfo.kubeletVersion")->str : "?";

			strbuf_addf(&ok, "%s%s (%s)", nok++ ? ", " : "", name, kv);
		}
	}
	if (bad.len)
		verify_set(it, V_FAIL, "%s", bad.buf);
	else if (nok == 0)
		verify_set(it, V_FAIL, "no node named by the site");
	else
		verify_set(it, V_PASS, "%zu of %zu Ready: %s", nok, nok, ok.buf);
	strbuf_release(&ok);
	strbuf_release(&bad);
}

static void
judge_allocatable(struct run *x, struct vitem *it)
{
	const struct ynode *list = answer(x, it, "v1", "Node", NULL, NULL, NULL);
	const char *name = sstr(it->spec, "node"), *q = sstr(it->spec, "quantity");
	const struct ynode *node, *alloc, *v;
	long long have, min = strtoll(sstr(it->spec, "min"), NULL, 10);

	if (list == NULL)
		return;
	node = find_named(list, name);
	if (node == NULL) {
		verify_set(it, V_FAIL, "node %s is not in the cluster", name);
		return;
	}
	alloc = ynode_path(node, "status.allocatable");
	v = ynode_get(alloc, q);
	if (v == NULL || v->str == NULL) {
		verify_set(it, V_FAIL, "%s has no allocatable %s (is the device plugin running?)",
		    name, q);
		return;
	}
	have = strtoll(v->str, NULL, 10);
	if (have < min)
		verify_set(it, V_FAIL, "%s allocatable %s is %s, want at least %lld",
		    name, q, v->str, min);
	else
		verify_set(it, V_PASS, "%s", v->str);
}

static void
judge_lb(struct run *x, struct vitem *it)
{
	const char *ns = sstr(it->spec, "namespace"), *name = sstr(it->spec, "name");
	const char *want = sstr(it->spec, "address");
	const struct ynode *svc = answer(x, it, "v1", "Service", ns, name, NULL);
	const struct ynode *ing;
	struct strbuf got;
	size_t i;
	int found = 0;

	if (svc == NULL)
		return;
	ing = ynode_path(svc, "status.loadBalancer.ingress");
	strbuf_init(&got, 300);
	for (i = 0; ing && ing->kind == Y_SEQ && i < ing->n; i++) {
		const char *ip = ynode_get_str(ing->v[i], "ip");

		if (ip == NULL)
			continue;
		strbuf_addf(&got, "%s%s", got.len ? ", " : "", ip);
		if (strcmp(ip, want) == 0)
			found = 1;
	}
	if (found)
		verify_set(it, V_PASS, "LoadBalancer address %s assigned", want);
	else if (got.len)
		verify_set(it, V_FAIL, "has %s, not the site's %s", got.buf, want);
	else
		verify_set(it, V_FAIL, "no LoadBalancer address assigned (want %s)",
		    want);
	strbuf_release(&got);
}

static void
judge_sc(struct run *x, struct vitem *it)
{
	const struct ynode *list = answer(x, it, "storage.k8s.io/v1",
	    "StorageClass", NULL, NULL, NULL), *items;
	const char *want = sstr(it->spec, "name");
	const char *param = ynode_get_str(it->spec, "parameter");
	const char *value = ynode_get_str(it->spec, "value");
	struct strbuf defaults;
	const struct ynode *sc = NULL;
	size_t i, nd = 0;

	if (list == NULL)
		return;
	items = items_of(list);
	strbuf_init(&defaults, 300);
	for (i = 0; items && i < items->n; i++) {
		const struct ynode *ann = ynode_path(items->v[i],
		    "metadata.annotations");
		const char *d = ynode_get_str(ann,
		    "storageclass.kubernetes.io/is-default-class");

		if (d && strcmp(d, "true") == 0) {
			nd++;
			strbuf_addf(&defaults, "%s%s", defaults.len ? ", " : "",
			    meta(items->v[i], "name"));
			if (strcmp(meta(items->v[i], "name"), want) == 0)
				sc = items->v[i];
		}
	}
	if (sc == NULL) {
		if (find_named(list, want) == NULL)
			verify_set(it, V_FAIL, "StorageClass %s does not exist%s%s",
			    want, nd ? "; the default is " : "",
			    nd ? defaults.buf : "");
		else
			verify_set(it, V_FAIL, "%s exists but is not the default%s%s",
			    want, nd ? " (the default is " : "",
			    nd ? defaults.buf : "");
	} else if (nd > 1)
		verify_set(it, V_FAIL, "%zu default StorageClasses: %s", nd,
		    defaults.buf);
	else if (param) {
		const char *got = ynode_get_str(ynode_get(sc, "parameters"), param);

		if (got == NULL || (value && strcmp(got, value) != 0))
			verify_set(it, V_FAIL, "%s is the default, but %s is %s, want %s",
			    want, param, got ? got : "unset", value ? value : "set");
		else
			verify_set(it, V_PASS, "%s is the default, %s %s", want, param,
			    got);
	} else
		verify_set(it, V_PASS, "%s is the default", want);
	strbuf_release(&defaults);
}

static void
judge_ready(struct run *x, struct vitem *it)
{
	const struct ynode *obj = answer(x, it, sstr(it->spec, "api-version"),
	    sstr(it->spec, "resource"), ynode_get_str(it->spec, "namespace"),
	    sstr(it->spec, "name"), NULL);
	char why[300];
	enum kstatus st;

	if (obj == NULL)
		return;
	if (ynode_get_str(it->spec, "condition")) {
		/* kstatus takes a resource without conditions for ready; an
		 * issuer that never reported is not. */
		const char *type = ynode_get_str(it->spec, "condition");
		const struct ynode *c = kstatus_condition(obj, type);

		if (c == NULL) {
			verify_set(it, V_FAIL, "no %s condition yet: its controller has not reported on it",
			    type);
			return;
		}
		if (strcmp(sstr(c, "status"), "True") != 0) {
			verify_set(it, V_FAIL, "%s is %s (%s: %s)", type, sstr(c, "status"),
			    sstr(c, "reason"), sstr(c, "message"));
			return;
		}
	}
	st = kstatus_eval(obj, why, sizeof(why));
	if (st == KS_CURRENT) {
		const struct ynode *rc = kstatus_condition(obj, "Ready");

		verify_set(it, V_PASS, "%s", rc && ynode_get_str(rc, "message") ?
		    ynode_get_str(rc, "message") : "ready");
	} else
		verify_set(it, V_FAIL, "%s: %s", kstatus_name(st), why);
}

static void
judge_endpoints(struct run *x, struct vitem *it)
{
	const char *ns = sstr(it->spec, "namespace"), *name = sstr(it->spec, "name");
	const struct ynode *svc = answer(x, it, "v1", "Service", ns, name, NULL);
	const struct ynode *list, *items;
	const struct ynode **slices;
	char why[300], q[300];
	size_t i;

	if (svc == NULL)
		return;
	snprintf(q, sizeof(q), "?labelSelector=kubernetes.io%%2Fservice-name%%3D%s",
	    name);
	list = answer(x, it, "discovery.k8s.io/v1", "EndpointSlice", ns, NULL, q);
	if (list == NULL)
		return;
	items = items_of(list);
	slices = xcalloc((items ? items->n : 0) + 1, sizeof(*slices));
	for (i = 0; items && i < items->n; i++)
		slices[i] = items->v[i];
	if (kstatus_endpoints(slices, items ? items->n : 0, why, sizeof(why)) ==
	    KS_CURRENT)
		verify_set(it, V_PASS, "%s", why);
	else
		verify_set(it, V_FAIL, "%s: nothing serves it", why);
	free(slices);
}

static void
judge_certificate(struct run *x, struct vitem *it)
{
	const char *ns = sstr(it->spec, "namespace"), *name = sstr(it->spec, "name");
	const struct ynode *crt = answer(x, it, "cert-manager.io/v1", "Certificate",
	    ns, name, NULL);
	const struct ynode *rc, *dns, *hosts = ynode_get(it->spec, "hosts");
	const char *secret, *na, *st;
	long long min = strtoll(sstr(it->spec, "min-days"), NULL, 10), days;
	time_t t;
	struct kget *g;
	size_t i, j;
	char p[400];

	if (crt == NULL)
		return;
	rc = kstatus_condition(crt, "Ready");
	st = ynode_get_str(rc, "status");
	if (st == NULL || strcmp(st, "True") != 0) {
		verify_set(it, V_FAIL, "not Ready (%s: %s)", ynode_get_str(rc, "reason") ?
		    ynode_get_str(rc, "reason") : "no Ready condition",
		    ynode_get_str(rc, "message") ? ynode_get_str(rc, "message") : "");
		return;
	}
	dns = ynode_path(crt, "spec.dnsNames");
	for (i = 0; hosts && hosts->kind == Y_SEQ && i < hosts->n; i++) {
		for (j = 0; dns && dns->kind == Y_SEQ && j < dns->n; j++)
			if (dns->v[j]->str && hosts->v[i]->str &&
			    strcasecmp(dns->v[j]->str, hosts->v[i]->str) == 0)
				break;
		if (dns == NULL || j == dns->n) {
			verify_set(it, V_FAIL, "does not name %s", hosts->v[i]->str);
			return;
		}
	}
	na = ynode_path(crt, "status.notAfter") ? ynode_path(crt,
	    "status.notAfter")->str : NULL;
	if (na == NULL || verify_parse_time(na, &t) < 0) {
		verify_set(it, V_FAIL, "Ready but without a valid status.notAfter");
		return;
	}
	days = ((long long)t - (long long)x->now) / 86400;
	secret = ynode_path(crt, "spec.secretName") ? ynode_path(crt,
	    "spec.secretName")->str : NULL;
	if (secret) {
		/* Its metadata only: the key material stays on the server. */
		snprintf(p, sizeof(p), "/api/v1/namespaces/%s/secrets/%s", ns, secret);
		g = kget(x, p, META_ACCEPT, 0);
		if (!g->req.done && !g->done)
			kwait(x);
		g->done = 1;
		if (kjson(x, g, NULL) == NULL) {
			verify_set(it, V_FAIL, "Ready, but its Secret %s/%s is %s", ns,
			    secret, strcmp(g->error, "missing") == 0 ? "missing" :
			    g->error);
			return;
		}
	}
	if (days < min)
		verify_set(it, V_FAIL, "Ready, but expires in %lld day%s (%s), fewer than %lld",
		    days, days == 1 ? "" : "s", na, min);
	else
		verify_set(it, V_PASS, "Ready, valid %lld more days (until %s), Secret %s present",
		    days, na, secret ? secret : "?");
}

/* ---- backup ---- */

static void
plan_backup(struct run *x, struct vitem *it)
{
	char why[300];
	struct kget *g = NULL;

	why[0] = '\0';
	if (strcmp(it->check, "cronjob") == 0) {
		g = ask(x, "batch/v1", "CronJob", sstr(it->spec, "namespace"),
		    sstr(it->spec, "name"), why, sizeof(why));
		ask(x, "batch/v1", "Job", sstr(it->spec, "namespace"), NULL, why,
		    sizeof(why));
	} else if (strcmp(it->check, "longhorn") == 0)
		g = ask(x, "longhorn.io/v1beta2", "Backup", ynode_get_str(it->spec,
		    "namespace") ? sstr(it->spec, "namespace") : "longhorn-system",
		    NULL, why, sizeof(why));
	else
		g = ask(x, "velero.io/v1", "Backup", ynode_get_str(it->spec,
		    "namespace") ? sstr(it->spec, "namespace") : "velero", NULL,
		    why, sizeof(why));
	if (g == NULL && why[0])
		verify_set(it, V_FAIL, "%s", why);
}

struct runs {
	time_t newest;
	const char *newest_what;
	size_t ok, ok_in_window, failed_in_window;
	char failed[300];
};

/* Longhorn and Velero Backup objects: completed ones and failures. */
static void
backup_runs(struct run *x, const struct ynode *list, int longhorn,
    long long window, struct runs *rs)
{
	const struct ynode *items = items_of(list);
	size_t i;

	memset(rs, 0, sizeof(*rs));
	for (i = 0; items && i < items->n; i++) {
		const struct ynode *b = items->v[i];
		const char *state = longhorn ?
		    (ynode_path(b, "status.state") ? ynode_path(b, "status.state")->str : NULL) :
		    (ynode_path(b, "status.phase") ? ynode_path(b, "status.phase")->str : NULL);
		const char *ts = longhorn ?
		    (ynode_path(b, "status.backupCreatedAt") ?
		    ynode_path(b, "status.backupCreatedAt")->str : NULL) :
		    (ynode_path(b, "status.completionTimestamp") ?
		    ynode_path(b, "status.completionTimestamp")->str : NULL);
		time_t t = 0;

		if (ts == NULL || verify_parse_time(ts, &t) < 0)
			verify_parse_time(meta(b, "creationTimestamp"), &t);
		if (state && strcmp(state, "Completed") == 0) {
			rs->ok++;
			if (window && x->now - t <= window)
				rs->ok_in_window++;
			if (t > rs->newest) {
				rs->newest = t;
				rs->newest_what = meta(b, "name");
			}
		} else if (state && (strcmp(state, "Error") == 0 ||
		    strcmp(state, "Failed") == 0 ||
		    strcmp(state, "PartiallyFailed") == 0 ||
		    strcmp(state, "FailedValidation") == 0)) {
			if (window && x->now - t <= window) {
				rs->failed_in_window++;
				if (rs->failed[0] == '\0')
					snprintf(rs->failed, sizeof(rs->failed),
					    "%s (%s)", meta(b, "name"), state);
			}
		}
	}
}

/* Jobs of a CronJob: successes and failures in the window. */
static void
cronjob_runs(struct run *x, const struct ynode *jobs, const char *cronjob,
    long long window, struct runs *rs)
{
	const struct ynode *items = items_of(jobs);
	size_t i, j;

	memset(rs, 0, sizeof(*rs));
	for (i = 0; items && i < items->n; i++) {
		const struct ynode *job = items->v[i];
		const struct ynode *owners = ynode_path(job, "metadata.ownerReferences");
		const struct ynode *c;
		time_t t = 0;
		int mine = 0;

		for (j = 0; owners && owners->kind == Y_SEQ && j < owners->n; j++)
			if (ynode_get_str(owners->v[j], "name") &&
			    strcmp(ynode_get_str(owners->v[j], "name"), cronjob) == 0)
				mine = 1;
		if (!mine)
			continue;
		if ((c = kstatus_condition(job, "Complete")) != NULL &&
		    strcmp(sstr(c, "status"), "True") == 0) {
			verify_parse_time(ynode_path(job, "status.completionTime") ?
			    ynode_path(job, "status.completionTime")->str :
			    sstr(c, "lastTransitionTime"), &t);
			rs->ok++;
			if (x->now - t <= window)
				rs->ok_in_window++;
			if (t > rs->newest) {
				rs->newest = t;
				rs->newest_what = meta(job, "name");
			}
		} else if ((c = kstatus_condition(job, "Failed")) != NULL &&
		    strcmp(sstr(c, "status"), "True") == 0) {
			verify_parse_time(sstr(c, "lastTransitionTime"), &t);
			if (x->now - t <= window) {
				rs->failed_in_window++;
				if (rs->failed[0] == '\0')
					snprintf(rs->failed, sizeof(rs->failed),
					    "%s (%s)", meta(job, "name"),
					    sstr(c, "reason"));
			}
		}
	}
}

static void
judge_backup(struct run *x, struct vitem *it)
{
	long long max = 0;
	char age[32], maxs[32];
	struct runs rs;
	const struct ynode *list;

	verify_parse_window(sstr(it->spec, "max-age"), &max);
	verify_format_age(max, maxs, sizeof(maxs));
	if (strcmp(it->check, "cronjob") == 0) {
		const struct ynode *cj = answer(x, it, "batch/v1", "CronJob",
		    sstr(it->spec, "namespace"), sstr(it->spec, "name"), NULL);
		const struct ynode *v;
		time_t t;

		if (cj == NULL)
			return;
		v = ynode_path(cj, "status.lastSuccessfulTime");
		if (v == NULL || verify_parse_time(v->str, &t) < 0) {
			v = ynode_path(cj, "status.lastScheduleTime");
			verify_set(it, V_FAIL, "no run has succeeded yet%s%s",
			    v ? " (last scheduled " : " (never scheduled)",
			    v ? arena_printf(&x->a, "%s)", v->str) : "");
			return;
		}
		verify_format_age((long long)(x->now - t), age, sizeof(age));
		if (x->now - t > max)
			verify_set(it, V_FAIL, "last success %s ago (%s), more than %s",
			    age, v->str, maxs);
		else
			verify_set(it, V_PASS, "last success %s ago (%s)", age, v->str);
		return;
	}
	list = answer(x, it, strcmp(it->check, "longhorn") == 0 ?
	    "longhorn.io/v1beta2" : "velero.io/v1", "Backup",
	    ynode_get_str(it->spec, "namespace") ? sstr(it->spec, "namespace") :
	    strcmp(it->check, "longhorn") == 0 ? "longhorn-system" : "velero",
	    NULL, NULL);
	if (list == NULL)
		return;
	backup_runs(x, list, strcmp(it->check, "longhorn") == 0, 0, &rs);
	if (rs.ok == 0) {
		verify_set(it, V_FAIL, "no completed backup (%zu Backup object%s)",
		    items_of(list) ? items_of(list)->n : 0,
		    items_of(list) && items_of(list)->n == 1 ? "" : "s");
		return;
	}
	verify_format_age((long long)(x->now - rs.newest), age, sizeof(age));
	if (x->now - rs.newest > max)
		verify_set(it, V_FAIL, "newest completed backup %s is %s old, more than %s",
		    rs.newest_what, age, maxs);
	else
		verify_set(it, V_PASS, "newest completed backup %s, %s ago (%zu completed)",
		    rs.newest_what, age, rs.ok);
}

/* ---- dns ---- */

static void
plan_dns(struct run *x)
{
	struct sockaddr_in internal, public;
	struct s7_error err;
	char gw[IPV4_STRLEN];
	size_t i, n = 0;
	int have_public = 0;

	for (i = 0; i < x->rep->n; i++)
		if (!x->rep->items[i].decided &&
		    strcmp(x->rep->items[i].kind, "dns") == 0)
			n++;
	if (n == 0)
		return;
	x->dq = xcalloc(n + 1, sizeof(*x->dq));
	ipv4_format(x->s->gateway, gw);
	if (dns_parse_server(x->o->resolver ? x->o->resolver : gw, &internal,
	    &err) < 0)
		memset(&internal, 0, sizeof(internal));
	dns_format_server(&internal, x->internal_srv, sizeof(x->internal_srv));
	if (x->o->public_resolver) {
		if (dns_parse_server(x->o->public_resolver, &public, &err) == 0)
			have_public = 1;
	} else if (dns_system_resolver(x->o->resolv_conf ? x->o->resolv_conf :
	    "/etc/resolv.conf", &public, &err) == 0) {
		uint32_t a = ntohl(public.sin_addr.s_addr);
		uint32_t mask = x->s->prefix ? 0xFFFFFFFFu << (32 - x->s->prefix) : 0;

		have_public = 1;
		dns_format_server(&public, x->public_srv, sizeof(x->public_srv));
		if (public.sin_addr.s_addr == internal.sin_addr.s_addr ||
		    (a & mask) == (x->s->subnet & mask)) {
			have_public = 0;
			snprintf(x->public_why, sizeof(x->public_why),
			    "the system resolver %s is inside the split horizon (the site's network): pass --public-resolver",
			    x->public_srv);
		}
	} else
		snprintf(x->public_why, sizeof(x->public_why),
		    "no public resolver: %.200s; pass --public-resolver", err.msg);
	if (have_public)
		dns_format_server(&public, x->public_srv, sizeof(x->public_srv));
	for (i = 0; i < x->rep->n; i++) {
		struct vitem *it = &x->rep->items[i];
		int pub;

		if (it->decided || strcmp(it->kind, "dns") != 0)
			continue;
		pub = strcmp(sstr(it->spec, "zone"), "public") == 0;
		if (pub && !have_public) {
			verify_set(it, V_SKIP, "%s", x->public_why);
			continue;
		}
		dns_query_init(&x->dq[x->ndq], sstr(it->spec, "name"),
		    strcmp(sstr(it->spec, "type"), "CNAME") == 0 ? DNS_TYPE_CNAME :
		    DNS_TYPE_A, pub ? &public : &internal);
		it->slot = (int)x->ndq++;
	}
}

static void
judge_dns(struct run *x, struct vitem *it)
{
	const struct dns_query *q = &x->dq[it->slot];
	const char *want = sstr(it->spec, "value");
	uint16_t type = q->type;
	char srv[64], got[400];
	size_t i, w = 0;
	int found = 0;

	dns_format_server(&q->server, srv, sizeof(srv));
	if (q->failed) {
		verify_set(it, V_FAIL, "%s: %s", srv, q->error);
		return;
	}
	if (q->rcode != DNS_NOERROR) {
		verify_set(it, V_FAIL, "%s answered %s", srv, dns_rcode_name(q->rcode));
		return;
	}
	got[0] = '\0';
	for (i = 0; i < q->nanswers; i++) {
		if (q->answer_types[i] != type)
			continue;
		w += (size_t)snprintf(got + w, w < sizeof(got) ? sizeof(got) - w : 0,
		    "%s%s", w ? ", " : "", q->answers[i]);
		if (w >= sizeof(got))
			w = sizeof(got) - 1;
		if (strcasecmp(q->answers[i], want) == 0)
			found = 1;
	}
	if (found)
		verify_set(it, V_PASS, "%s %s in %ld ms from %s%s", dns_type_name(type),
		    got, q->ms, srv, q->tcp ? " (over TCP: the UDP answer was truncated)" : "");
	else if (got[0])
		verify_set(it, V_FAIL, "%s answered %s %s, want %s", srv,
		    dns_type_name(type), got, want);
	else
		verify_set(it, V_FAIL, "%s has no %s record for it (want %s)", srv,
		    dns_type_name(type), want);
}

static void *
dns_thread(void *arg)
{
	struct run *x = arg;

	dns_run(x->dq, x->ndq, x->deadline);
	return NULL;
}

/* ---- https ---- */

/* Reads the CA Secrets the https items name (before their probes). */
static void
plan_ca(struct run *x)
{
	size_t i;

	for (i = 0; i < x->rep->n; i++) {
		struct vitem *it = &x->rep->items[i];
		const char *ca = sstr(it->spec, "ca"), *slash;
		char p[400];

		if (it->decided || strcmp(it->kind, "https") != 0 ||
		    !text_has_prefix(ca, "secret:"))
			continue;
		slash = strchr(ca + 7, '/');
		if (slash == NULL) {
			verify_set(it, V_FAIL, "ca '%s' must be secret:NAMESPACE/NAME", ca);
			continue;
		}
		snprintf(p, sizeof(p), "/api/v1/namespaces/%.*s/secrets/%s",
		    (int)(slash - ca - 7), ca + 7, slash + 1);
		kget(x, p, NULL, 1);
	}
}

/* The CA's PEM from its Secret (ca.crt, else tls.crt); wipes the rest. */
static int
load_ca(struct run *x, const char *ca)
{
	const char *slash = strchr(ca + 7, '/');
	char p[400];
	struct kget *g;
	const struct ynode *sec, *data, *c;
	size_t i;
	int ret = -1;

	if (x->ca.len)
		return 0;
	if (x->ca_error[0])
		return -1;
	snprintf(p, sizeof(p), "/api/v1/namespaces/%.*s/secrets/%s",
	    (int)(slash - ca - 7), ca + 7, slash + 1);
	g = kget(x, p, NULL, 1);
	if (!g->done && !g->req.done)
		kwait(x);
	g->done = 1;
	sec = kjson(x, g, NULL);
	if (sec == NULL) {
		snprintf(x->ca_error, sizeof(x->ca_error), "the CA Secret %.200s is %.300s",
		    ca + 7, g->error);
		return -1;
	}
	data = ynode_get(sec, "data");
	c = ynode_get(data, "ca.crt");
	if (c == NULL || c->str == NULL || c->len == 0)
		c = ynode_get(data, "tls.crt");
	if (c && c->str && base64_decode(&x->ca, c->str, c->len) == 0 && x->ca.len)
		ret = 0;
	else
		snprintf(x->ca_error, sizeof(x->ca_error),
		    "the CA Secret %s holds no ca.crt or tls.crt", ca + 7);
	for (i = 0; data && data->kind == Y_MAP && i < data->n; i++)
		if (data->v[2 * i + 1]->str)
			explicit_bzero((char *)data->v[2 * i + 1]->str,
			    data->v[2 * i + 1]->len);
	return ret;
}

static void
plan_https(struct run *x)
{
	size_t i, n = 0;

	for (i = 0; i < x->rep->n; i++)
		if (!x->rep->items[i].decided &&
		    strcmp(x->rep->items[i].kind, "https") == 0)
			n++;
	if (n == 0)
		return;
	x->pr = xcalloc(n + 1, sizeof(*x->pr));
	x->prp = xcalloc(n + 1, sizeof(*x->prp));
	for (i = 0; i < x->rep->n; i++) {
		struct vitem *it = &x->rep->items[i];
		const char *ca = sstr(it->spec, "ca");
		const char *host = sstr(it->spec, "host");
		struct probe *p;
		const char *to_addr, *to_port;
		char *ov = NULL;

		if (it->decided || strcmp(it->kind, "https") != 0)
			continue;
		p = &x->pr[x->npr];
		probe_init(p);
		if (text_has_prefix(ca, "secret:")) {
			if (load_ca(x, ca) < 0) {
				verify_set(it, V_FAIL, "%s", x->ca_error);
				continue;
			}
			p->ca = x->ca.buf;
			p->ca_len = x->ca.len;
		} else if (strcmp(ca, "system") != 0) {
			verify_set(it, V_FAIL, "ca '%s' must be system or secret:NAMESPACE/NAME", ca);
			continue;
		}
		p->want_cert = 1;
		p->url = arena_printf(&x->a, "https://%s%s", host, sstr(it->spec, "path"));
		to_addr = sstr(it->spec, "address");
		to_port = ynode_get_str(it->spec, "port") ? sstr(it->spec, "port") : "443";
		if (x->o->ingress) {
			char *colon;

			ov = arena_strdup(&x->a, x->o->ingress);
			colon = strchr(ov, ':');
			to_addr = ov;
			if (colon) {
				*colon = '\0';
				to_port = colon + 1;
			}
		}
		p->connect_to = arena_printf(&x->a, "%s:443:%s:%s", host, to_addr,
		    to_port);
		it->slot = (int)x->npr;
		x->prp[x->npr++] = p;
	}
}

static int
status_ok(const struct ynode *want, long got)
{
	size_t i;

	if (want == NULL)
		return got == 200;
	if (want->kind == Y_SCALAR)
		return want->str && strtol(want->str, NULL, 10) == got;
	for (i = 0; want->kind == Y_SEQ && i < want->n; i++)
		if (want->v[i]->str && strtol(want->v[i]->str, NULL, 10) == got)
			return 1;
	return 0;
}

static void
judge_https(struct run *x, struct vitem *it)
{
	struct probe *p = &x->pr[it->slot];
	const char *body = ynode_get_str(it->spec, "body");
	const char *host = sstr(it->spec, "host");
	long long min = ynode_get_str(it->spec, "min-days") ?
	    strtoll(sstr(it->spec, "min-days"), NULL, 10) : 14, days;
	struct cert_info ci;
	struct s7_error err;
	const char *ca = text_has_prefix(sstr(it->spec, "ca"), "secret:") ?
	    arena_printf(&x->a, "the cluster's CA %s", sstr(it->spec, "ca") + 7) :
	    "the system's roots";

	it->ms = p->ms;
	if (p->status == 0) {
		verify_set(it, V_FAIL, "%s (via %s; chain checked against %s)",
		    p->error, strchr(p->connect_to, ':') ?
		    strchr(strchr(p->connect_to, ':') + 1, ':') + 1 : "?", ca);
		return;
	}
	if (!status_ok(ynode_get(it->spec, "status"), p->status)) {
		verify_set(it, V_FAIL, "answered %ld in %ld ms, want %s", p->status,
		    p->ms, ynode_get(it->spec, "status") &&
		    ynode_get(it->spec, "status")->kind == Y_SCALAR ?
		    sstr(it->spec, "status") : "another status");
		return;
	}
	if (body && (p->body.buf == NULL || strstr(p->body.buf, body) == NULL)) {
		verify_set(it, V_FAIL, "answered %ld in %ld ms, but the body lacks '%s': %.120s",
		    p->status, p->ms, body, p->body.buf ? p->body.buf : "(empty)");
		return;
	}
	if (p->leaf_pem == NULL || cert_parse(p->leaf_pem, strlen(p->leaf_pem),
	    &ci, &err) < 0) {
		verify_set(it, V_FAIL, "answered %ld, but its certificate could not be read",
		    p->status);
		return;
	}
	days = ((long long)ci.not_after - (long long)x->now) / 86400;
	if (!cert_matches_host(p->leaf_pem, strlen(p->leaf_pem), host)) {
		verify_set(it, V_FAIL, "the certificate does not name %s", host);
		return;
	}
	if (days < min)
		verify_set(it, V_FAIL, "%ld in %ld ms, but the certificate expires in %lld day%s (fewer than %lld)",
		    p->status, p->ms, days, days == 1 ? "" : "s", min);
	else
		verify_set(it, V_PASS, "%ld in %ld ms, certificate valid %lld days (chain verified against %s)",
		    p->status, p->ms, days, ca);
}

static void *
https_thread(void *arg)
{
	struct run *x = arg;
	struct s7_error err;

	if (probe_run(x->prp, x->npr, x->deadline, &err) < 0) {
		size_t i;

		for (i = 0; i < x->npr; i++)
			snprintf(x->pr[i].error, sizeof(x->pr[i].error), "%.250s", err.msg);
	}
	return NULL;
}

/* ---- sql ---- */

static void
plan_sql(struct run *x)
{
	size_t i, n = 0;

	for (i = 0; i < x->rep->n; i++)
		if (!x->rep->items[i].decided &&
		    strcmp(x->rep->items[i].kind, "sql") == 0)
			n++;
	if (n == 0)
		return;
	x->sp = xcalloc(n + 1, sizeof(*x->sp));
	for (i = 0; i < x->rep->n; i++) {
		struct vitem *it = &x->rep->items[i];
		struct sqlpod *sp;
		struct strbuf body;
		struct s7_error err;
		struct arena a;
		struct ynode *pod = NULL;
		unsigned char rnd[3];
		char p[400];
		const char *uid;

		if (it->decided || strcmp(it->kind, "sql") != 0)
			continue;
		sp = &x->sp[x->nsp];
		arena_init(&sp->arena);
		sp->item = it;
		sp->namespace = sstr(it->spec, "namespace");
		if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
			memset(rnd, 0, sizeof(rnd));
		snprintf(sp->name, sizeof(sp->name), "sector7-verify-%.20s-%02x%02x%02x",
		    sstr(it->spec, "cluster"), rnd[0], rnd[1], rnd[2]);
		it->slot = (int)x->nsp++;
		strbuf_init(&body, STRBUF_SMALL);
		arena_init(&a);
		/* the Cluster's own image: on the nodes already (a site's
		 * images.overrides/mirror apply to it), psql as the server's */
		snprintf(p, sizeof(p),
		    "/apis/postgresql.cnpg.io/v1/namespaces/%s/clusters/%s",
		    sp->namespace, sstr(it->spec, "cluster"));
		if (kube_call(x->k, "GET", p, NULL, NULL, 0, &a, &pod, NULL,
		    "read the Cluster", &err) < 0)
			pod = NULL;
		sql_pod_json(&body, sp->name, sp->namespace, sstr(it->spec, "cluster"),
		    sstr(it->spec, "secret"), sstr(it->spec, "database"),
		    pod ? ynode_get_str(ynode_get(pod, "spec"), "imageName") : NULL);
		pod = NULL;
		snprintf(p, sizeof(p), "/api/v1/namespaces/%s/pods", sp->namespace);
		if (kube_call(x->k, "POST", p, "application/json", body.buf, body.len,
		    &a, &pod, NULL, "create the query pod", &err) < 0) {
			verify_set(it, V_FAIL, "%s", err.msg);
			strbuf_release(&body);
			arena_release(&a);
			continue;
		}
		sp->created = 1;
		uid = meta(pod, "uid");
		strbuf_reset(&body);
		sql_policy_json(&body, sp->name, sp->namespace, sstr(it->spec,
		    "cluster"), uid ? uid : "");
		snprintf(p, sizeof(p),
		    "/apis/networking.k8s.io/v1/namespaces/%s/networkpolicies",
		    sp->namespace);
		if (kube_call(x->k, "POST", p, "application/json", body.buf,
		    body.len, &a, NULL, NULL, "create the query pod's NetworkPolicy",
		    &err) < 0)
			snprintf(sp->error, sizeof(sp->error), "%.590s", err.msg);
		strbuf_release(&body);
		arena_release(&a);
	}
}

static int
pod_ended(const struct ynode *pod)
{
	const struct ynode *ph = ynode_path(pod, "status.phase");
	int code;
	const char *reason;

	if (ph && ph->str && (strcmp(ph->str, "Succeeded") == 0 ||
	    strcmp(ph->str, "Failed") == 0))
		return 1;
	return sql_message(pod, &code, &reason) != NULL;
}

/* Polls the query pods until they end or the deadline, then deletes them. */
static void
finish_sql(struct run *x)
{
	size_t i, left;

	do {
		left = 0;
		for (i = 0; i < x->nsp; i++) {
			struct sqlpod *sp = &x->sp[i];
			struct s7_error err;
			char p[400];

			if (!sp->created || (sp->last && pod_ended(sp->last)))
				continue;
			snprintf(p, sizeof(p), "/api/v1/namespaces/%s/pods/%s",
			    sp->namespace, sp->name);
			arena_release(&sp->arena);
			arena_init(&sp->arena);
			sp->last = NULL;
			if (kube_call(x->k, "GET", p, NULL, NULL, 0, &sp->arena,
			    &sp->last, NULL, "read the query pod", &err) < 0) {
				snprintf(sp->error, sizeof(sp->error), "%.590s", err.msg);
				sp->created = 0;	/* nothing more to wait for */
				continue;
			}
			if (!pod_ended(sp->last))
				left++;
		}
		if (left && remaining(x) > 0) {
			struct timespec ts = { 0, 100 * 1000000L };

			nanosleep(&ts, NULL);
		}
	} while (left && remaining(x) > 0);
	for (i = 0; i < x->nsp; i++) {
		struct sqlpod *sp = &x->sp[i];
		struct vitem *it = sp->item;
		struct s7_error err;
		char p[400];

		if (!it->decided) {
			if (sp->last && pod_ended(sp->last))
				sql_judge(it, sp->last);
			else if (sp->last) {
				const struct ynode *w = ynode_path(sp->last,
				    "status.containerStatuses");
				const char *reason = w && w->kind == Y_SEQ && w->n ?
				    (ynode_path(w->v[0], "state.waiting.reason") ?
				    ynode_path(w->v[0], "state.waiting.reason")->str : NULL) : NULL;

				verify_set(it, V_FAIL, "the query pod %s did not finish within the deadline (phase %s%s%s)",
				    sp->name, ynode_path(sp->last, "status.phase") ?
				    ynode_path(sp->last, "status.phase")->str : "unknown",
				    reason ? ", " : "", reason ? reason : "");
			} else
				verify_set(it, V_FAIL, "%s", sp->error[0] ? sp->error :
				    "the query pod could not be read");
		}
		if (it->res == V_FAIL && sp->error[0] && strstr(it->evidence,
		    "NetworkPolicy") == NULL && strlen(it->evidence) < 300)
			snprintf(it->evidence + strlen(it->evidence),
			    sizeof(it->evidence) - strlen(it->evidence),
			    " (%s)", sp->error);
		snprintf(p, sizeof(p),
		    "/api/v1/namespaces/%s/pods/%s?gracePeriodSeconds=0",
		    sp->namespace, sp->name);
		/* The NetworkPolicy goes with it (owner reference). */
		kube_call(x->k, "DELETE", p, NULL, NULL, 0, NULL, NULL, NULL,
		    "delete the query pod", &err);
		arena_release(&sp->arena);
	}
}

/* ---- prometheus ---- */

static const char *
prom_path(const struct vitem *it)
{
	return strcmp(it->check, "targets") == 0 ? "/api/v1/targets?state=active" :
	    strcmp(it->check, "rules") == 0 ? "/api/v1/rules" : "/api/v1/alerts";
}

static const char *
prom_proxy(struct run *x, const struct ynode *spec, const char *api)
{
	return arena_printf(&x->a, "/api/v1/namespaces/%s/services/%s:%s/proxy%s",
	    sstr(spec, "namespace"), sstr(spec, "service"), sstr(spec, "port"), api);
}

static const struct ynode *
prom_answer(struct run *x, struct vitem *it, const char *api)
{
	struct ynode *j = NULL;
	struct s7_error err;

	if (x->o->prometheus) {
		struct probe p, *pp = &p;
		char *url = xasprintf("%s%s", x->o->prometheus, api);

		probe_init(&p);
		p.url = url;
		probe_run(&pp, 1, x->deadline, &err);
		free(url);
		if (p.status != 200) {
			verify_set(it, V_FAIL, "Prometheus at %s: %s", x->o->prometheus,
			    p.status ? arena_printf(&x->a, "HTTP %ld", p.status) :
			    arena_strdup(&x->a, p.error));
			probe_release(&p);
			return NULL;
		}
		if (json_parse(&x->a, api, p.body.buf, p.body.len, &j, &err) < 0) {
			verify_set(it, V_FAIL, "Prometheus at %s: %s", x->o->prometheus,
			    err.msg);
			j = NULL;
		}
		probe_release(&p);
		return j;
	} else {
		struct kget *g = kget(x, prom_proxy(x, it->spec, api), NULL, 0);
		const struct ynode *a;

		if (!g->done && !g->req.done)
			kwait(x);
		g->done = 1;
		a = kjson(x, g, NULL);
		if (a == NULL)
			verify_set(it, V_FAIL, "Prometheus through the API server's service proxy: %s",
			    g->error);
		return a;
	}
}

static void
judge_prom(struct run *x, struct vitem *it)
{
	const struct ynode *a = prom_answer(x, it, prom_path(it));

	if (a == NULL)
		return;
	if (strcmp(it->check, "targets") == 0)
		prom_judge_targets(it, a);
	else if (strcmp(it->check, "rules") == 0)
		prom_judge_rules(it, a);
	else
		prom_judge_alerts(it, a, ynode_get(it->spec, "allow"));
}

/* ---- since ---- */

int
verify_window_contains(time_t now, long long window_s, const char *ts)
{
	time_t t;

	return ts && verify_parse_time(ts, &t) == 0 && t <= now + 300 &&
	    now - t <= window_s;
}

/*
 * Field managers that are sector7 itself or the cluster's own
 * controllers (a write by one of them is the system at work, not a hand
 * edit).  Matched as prefixes: controllers add suffixes (cert-manager's
 * "cert-manager-certificates-issuing", the node name, ...).
 */
static const char *const managers[] = {
	"sector7", "kube-controller-manager", "kube-scheduler", "kube-apiserver",
	"kubelet", "k3s", "helm-controller", "deploy@", "metallb-controller",
	"controller", "cert-manager", "cainjector", "longhorn", "cnpg",
	"manager", "cloudnative-pg", "PrometheusOperator", "prometheus-operator",
	"velero", "traefik", "local-path-provisioner", "nvidia-device-plugin",
	"controllers-sim", "before-first-apply", NULL,
};

int
verify_manager_allowed(const char *m)
{
	size_t i;

	if (m == NULL)
		return 0;
	for (i = 0; managers[i]; i++)
		if (text_has_prefix(m, managers[i]))
			return 1;
	return 0;
}

/* The rendered objects' namespaces, each once. */
static const char **
site_namespaces(struct run *x, size_t *n)
{
	const char **v = arena_array(&x->a, x->r->nobjs + 1, sizeof(*v));
	size_t i, j;

	*n = 0;
	for (i = 0; i < x->r->nobjs; i++) {
		const char *ns = x->r->objs[i].namespace;

		if (ns == NULL || *ns == '\0')
			continue;
		for (j = 0; j < *n; j++)
			if (strcmp(v[j], ns) == 0)
				break;
		if (j == *n)
			v[(*n)++] = ns;
	}
	return v;
}

static void
plan_since(struct run *x)
{
	size_t i, n;
	const char **ns = site_namespaces(x, &n);
	char why[300];

	for (i = 0; i < n; i++)
		ask(x, "v1", "Pod", ns[i], NULL, why, sizeof(why));
	for (i = 0; i < x->r->nobjs; i++) {
		const struct robject *o = &x->r->objs[i];
		const struct kube_resource *res = kube_find(x->k, o->api_version,
		    o->kind);

		if (res)
			kget(x, arena_printf(&x->a, "%s?limit=0", kube_path(&x->a,
			    res, res->namespaced ? o->namespace : NULL, NULL)), NULL, 0);
	}
}

static void
since_restarts(struct run *x, const char *window)
{
	struct vitem *it = verify_add(x->rep, "site", VERIFY_SINCE_PHASE, "since",
	    arena_printf(&x->a, "no container restarted in the last %s", window));
	struct strbuf bad;
	size_t i, j, k, n, pods = 0, nbad = 0;
	const char **ns = site_namespaces(x, &n);

	it->check = "restarts";
	strbuf_init(&bad, 2000);
	for (i = 0; i < n; i++) {
		const struct ynode *list = answer(x, it, "v1", "Pod", ns[i], NULL, NULL);
		const struct ynode *items = items_of(list);

		if (list == NULL)
			goto done;
		for (j = 0; items && j < items->n; j++) {
			const struct ynode *cs = ynode_path(items->v[j],
			    "status.containerStatuses");

			pods++;
			for (k = 0; cs && cs->kind == Y_SEQ && k < cs->n; k++) {
				const struct ynode *c = cs->v[k];
				const char *rc = ynode_get_str(c, "restartCount");
				const struct ynode *t = ynode_path(c, "lastState.terminated");
				const char *fin = ynode_get_str(t, "finishedAt");

				if (rc == NULL || strtol(rc, NULL, 10) == 0 ||
				    !verify_window_contains(x->now, x->o->since_s, fin))
					continue;
				nbad++;
				if (bad.len < 500)
					strbuf_addf(&bad, "%s%s/%s %s restarted %s time%s, last at %s (%s, exit %s)",
					    bad.len ? "; " : "", ns[i], meta(items->v[j], "name"),
					    sstr(c, "name"), rc, strcmp(rc, "1") == 0 ? "" : "s",
					    fin, ynode_get_str(t, "reason") ? sstr(t, "reason") : "?",
					    ynode_get_str(t, "exitCode") ? sstr(t, "exitCode") : "?");
			}
		}
	}
	if (nbad)
		verify_set(it, V_FAIL, "%zu container%s restarted: %s", nbad,
		    nbad == 1 ? "" : "s", bad.buf);
	else
		verify_set(it, V_PASS, "%zu pods in %zu namespaces, no restart in the window",
		    pods, n);
done:
	strbuf_release(&bad);
}

static void
since_edits(struct run *x, const char *window)
{
	struct vitem *it = verify_add(x->rep, "site", VERIFY_SINCE_PHASE, "since",
	    arena_printf(&x->a, "no object of the site changed by hand in the last %s",
	    window));
	char id[APPLYSET_ID_MAX];
	struct strbuf bad;
	size_t i, j, members = 0, nbad = 0;

	it->check = "manual-edits";
	applyset_id(x->s->name, x->s->name, id);
	strbuf_init(&bad, 2000);
	for (i = 0; i < x->ng; i++) {
		struct kget *g = x->g[i];
		const struct ynode *list, *items;

		if (strstr(g->path, "?limit=0") == NULL || strstr(g->path, "/proxy/"))
			continue;
		if (!g->done && !g->req.done)
			kwait(x);
		g->done = 1;
		list = kjson(x, g, NULL);
		items = items_of(list);
		for (j = 0; items && j < items->n; j++) {
			const struct ynode *obj = items->v[j];
			const struct ynode *labels = ynode_path(obj, "metadata.labels");
			const char *part = ynode_get_str(labels, APPLYSET_PART_OF);
			const struct ynode *mf = ynode_path(obj, "metadata.managedFields");
			size_t k;

			if (part == NULL || strcmp(part, id) != 0)
				continue;
			members++;
			for (k = 0; mf && mf->kind == Y_SEQ && k < mf->n; k++) {
				const char *m = ynode_get_str(mf->v[k], "manager");
				const char *sub = ynode_get_str(mf->v[k], "subresource");
				const char *t = ynode_get_str(mf->v[k], "time");

				if (sub && strcmp(sub, "status") == 0)
					continue;
				if (verify_manager_allowed(m) ||
				    !verify_window_contains(x->now, x->o->since_s, t))
					continue;
				nbad++;
				if (bad.len < 500) {
					/* A list's items carry no kind: the list's, less "List". */
					const char *lk = ynode_get_str(list, "kind");
					const char *ns = meta(obj, "namespace");
					int kl = lk && text_has_suffix(lk, "List") ?
					    (int)strlen(lk) - 4 : lk ? (int)strlen(lk) : 6;

					strbuf_addf(&bad, "%s%.*s %s%s%s by %s (%s) at %s",
					    bad.len ? "; " : "", kl, lk ? lk : "object",
					    ns ? ns : "", ns ? "/" : "", meta(obj, "name"),
					    m ? m : "?", sstr(mf->v[k], "operation"), t);
				}
			}
		}
	}
	if (nbad)
		verify_set(it, V_FAIL, "%zu change%s by hand: %s", nbad,
		    nbad == 1 ? "" : "s", bad.buf);
	else
		verify_set(it, V_PASS, "%zu objects of the ApplySet, every change by sector7 or the cluster's controllers",
		    members);
	strbuf_release(&bad);
}

static void
since_backups(struct run *x, const char *window)
{
	size_t i, n = x->rep->n;

	for (i = 0; i < n; i++) {
		struct vitem *b = &x->rep->items[i], *it;
		struct runs rs;
		const struct ynode *list;
		const char *ns;

		if (strcmp(b->kind, "backup") != 0 || b->spec == NULL)
			continue;
		it = verify_add(x->rep, b->component, VERIFY_SINCE_PHASE, "since",
		    arena_printf(&x->a, "%s: runs in the last %s", b->subject, window));
		b = &x->rep->items[i];		/* the array may have moved */
		it->check = "backup-runs";
		it->spec = b->spec;
		if (strcmp(b->check, "cronjob") == 0) {
			list = answer(x, it, "batch/v1", "Job", sstr(b->spec, "namespace"),
			    NULL, NULL);
			if (list == NULL)
				continue;
			cronjob_runs(x, list, sstr(b->spec, "name"), x->o->since_s, &rs);
		} else {
			int lh = strcmp(b->check, "longhorn") == 0;

			ns = ynode_get_str(b->spec, "namespace") ? sstr(b->spec, "namespace") :
			    lh ? "longhorn-system" : "velero";
			list = answer(x, it, lh ? "longhorn.io/v1beta2" : "velero.io/v1",
			    "Backup", ns, NULL, NULL);
			if (list == NULL)
				continue;
			backup_runs(x, list, lh, x->o->since_s, &rs);
		}
		if (rs.failed_in_window)
			verify_set(it, V_FAIL, "%zu failed (first: %s), %zu succeeded",
			    rs.failed_in_window, rs.failed, rs.ok_in_window);
		else if (rs.ok_in_window == 0)
			verify_set(it, V_FAIL, "no successful run");
		else
			verify_set(it, V_PASS, "%zu successful, none failed",
			    rs.ok_in_window);
	}
}

static void
since_alerts(struct run *x, const char *window)
{
	const struct vitem *pit = NULL;
	struct vitem *it;
	const struct ynode *a;
	size_t i;
	long long step = x->o->since_s / 500 > 60 ? x->o->since_s / 500 : 60;

	for (i = 0; i < x->rep->n; i++)
		if (strcmp(x->rep->items[i].kind, "prometheus") == 0 &&
		    x->rep->items[i].spec) {
			pit = &x->rep->items[i];
			break;
		}
	if (pit == NULL)
		return;
	it = verify_add(x->rep, pit->component, VERIFY_SINCE_PHASE, "since",
	    arena_printf(&x->a, "no alert fired in the last %s", window));
	it->check = "alerts";
	it->spec = x->rep->items[i].spec;
	a = prom_answer(x, it, arena_printf(&x->a,
	    "/api/v1/query_range?query=ALERTS%%7Balertstate%%3D%%22firing%%22%%7D&start=%lld&end=%lld&step=%lld",
	    (long long)x->now - x->o->since_s, (long long)x->now, step));
	if (a)
		prom_judge_alert_history(it, a, ynode_get(it->spec, "allow"), window);
}

/* ---- the run ---- */

int
verify_run(struct verify_report *rep, struct kube_client *k,
    const struct rendered *r, const struct site *s,
    const struct verify_opts *o, struct s7_error *err)
{
	struct run x;
	pthread_t dns_t, https_t;
	int dns_started = 0, https_started = 0;
	size_t i, n0;
	char window[32] = "";

	memset(&x, 0, sizeof(x));
	x.k = k;
	x.r = r;
	x.s = s;
	x.o = o;
	x.rep = rep;
	arena_init(&x.a);
	strbuf_init(&x.ca, STRBUF_SMALL);
	x.now = o->now ? o->now : time(NULL);
	x.start = http_now_ms();
	x.deadline = x.start + (o->timeout_ms > 0 ? o->timeout_ms : 20000);
	if (kube_discover(k, 0, err) < 0) {
		arena_release(&x.a);
		strbuf_release(&x.ca);
		return -1;
	}
	if (o->since_s) {
		long long w = o->since_s;

		if (w % 86400 == 0)
			snprintf(window, sizeof(window), "%lld d", w / 86400);
		else if (w % 3600 == 0)
			snprintf(window, sizeof(window), "%lld h", w / 3600);
		else
			snprintf(window, sizeof(window), "%lld min", w / 60);
	}
	/* The slowest first: the query pods. */
	plan_sql(&x);
	for (i = 0; i < rep->n; i++) {
		struct vitem *it = &rep->items[i];

		if (it->decided || it->spec == NULL)
			continue;
		if (strcmp(it->kind, "api") == 0)
			plan_api(&x, it);
		else if (strcmp(it->kind, "backup") == 0)
			plan_backup(&x, it);
		else if (strcmp(it->kind, "prometheus") == 0 && !o->prometheus)
			kget(&x, prom_proxy(&x, it->spec, prom_path(it)), NULL, 0);
	}
	plan_ca(&x);
	if (o->since_s)
		plan_since(&x);
	plan_dns(&x);
	if (x.ndq && pthread_create(&dns_t, NULL, dns_thread, &x) == 0)
		dns_started = 1;
	plan_https(&x);			/* waits for the CA Secret, if any */
	if (x.npr && pthread_create(&https_t, NULL, https_thread, &x) == 0)
		https_started = 1;
	kwait(&x);
	n0 = rep->n;
	for (i = 0; i < n0; i++) {
		struct vitem *it = &rep->items[i];

		if (it->decided || it->spec == NULL)
			continue;
		if (strcmp(it->kind, "api") == 0) {
			const char *c = it->check;

			if (strcmp(c, "nodes-ready") == 0)
				judge_nodes(&x, it);
			else if (strcmp(c, "allocatable") == 0)
				judge_allocatable(&x, it);
			else if (strcmp(c, "loadbalancer") == 0)
				judge_lb(&x, it);
			else if (strcmp(c, "default-storageclass") == 0)
				judge_sc(&x, it);
			else if (strcmp(c, "ready") == 0)
				judge_ready(&x, it);
			else if (strcmp(c, "endpoints") == 0)
				judge_endpoints(&x, it);
			else if (strcmp(c, "certificate") == 0)
				judge_certificate(&x, it);
		} else if (strcmp(it->kind, "backup") == 0)
			judge_backup(&x, it);
		else if (strcmp(it->kind, "prometheus") == 0)
			judge_prom(&x, it);
	}
	finish_sql(&x);
	if (o->since_s) {
		since_restarts(&x, window);
		since_alerts(&x, window);
		since_backups(&x, window);
		since_edits(&x, window);
	}
	if (dns_started)
		pthread_join(dns_t, NULL);
	if (https_started)
		pthread_join(https_t, NULL);
	for (i = 0; i < rep->n; i++) {
		struct vitem *it = &rep->items[i];

		if (it->decided)
			continue;
		if (strcmp(it->kind, "dns") == 0 && it->slot >= 0)
			judge_dns(&x, it);
		else if (strcmp(it->kind, "https") == 0 && it->slot >= 0)
			judge_https(&x, it);
		else
			verify_set(it, V_FAIL, "not checked (internal error)");
	}
	for (i = 0; i < rep->n; i++) {
		struct vitem *it = &rep->items[i];

		if (it->res == V_PASS)
			rep->passed++;
		else if (it->res == V_FAIL)
			rep->failed++;
		else
			rep->skipped++;
	}
	{
		struct http_stats st;

		http_client_stats(k->http, &st);
		rep->api_requests = st.requests;
	}
	for (i = 0; i < x.ng; i++) {
		if (x.g[i]->secret)
			strbuf_release_secret(&x.g[i]->req.body_out);
		http_req_release(&x.g[i]->req);
		free(x.g[i]->path);
		free(x.g[i]);
	}
	free(x.g);
	for (i = 0; i < x.npr; i++)
		probe_release(&x.pr[i]);
	free(x.pr);
	free(x.prp);
	free(x.dq);
	free(x.sp);
	strbuf_release_secret(&x.ca);
	rep->seconds = (double)(http_now_ms() - x.start) / 1000.0;
	/* Evidence strings point into x.a: copy them into the report first. */
	for (i = 0; i < rep->n; i++)
		rep->items[i].subject = arena_strdup(&rep->arena,
		    rep->items[i].subject);
	arena_release(&x.a);
	return 0;
}
