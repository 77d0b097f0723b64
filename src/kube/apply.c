/*
 * The engine keeps one record per rendered object ("member") and drives
 * all HTTP through the client's multi handle: applies are submitted
 * together and collected; watches stream in the background while the
 * engine waits.  Nothing here prints: progress goes through the caller's
 * callback, failures into the error and the report.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apply.h"
#include "applyset.h"
#include "secrets.h"
#include "watch.h"
#include "../catalog/template.h"
#include "../json/json.h"
#include "../plan/plan.h"
#include "../util/diff.h"
#include "../util/digest.h"
#include "../yaml/yaml.h"
#include "../util/text.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

#define TICK_MS 250
#define LIST_TIMEOUT_MS 120000
#define REPLACE_TIMEOUT_MS 60000

enum { STEP_FOUNDATION, STEP_BUILTIN, STEP_CUSTOM, NSTEPS };

struct member {
	struct robject *ro;
	size_t comp;			/* index in the wave's progress */
	const struct kube_resource *res;
	const char *ns;
	int step;
	struct strbuf body;
	char hash[SHA256_HEXLEN];
	struct http_req req;
	int sent, failed;
	int replace;			/* refused: delete and create again */
	char error[1024];
};

struct gate_state {
	const struct gate *g;
	size_t comp;
	const struct kube_resource *res;
};

struct engine {
	struct kube_client *k;
	struct rendered *r;
	const struct site *s;
	const struct apply_opts *o;
	struct apply_stats *st;
	struct arena arena;
	char id[APPLYSET_ID_MAX];
	const char *ns;			/* the site's namespace: the parent's */
	struct watchset ws;
	struct apply_progress prog;
	size_t wave, nwaves;
	double started;
	int refreshed;		/* discovery reloaded since the last step */
	long long since_ms;	/* when the run started */
	struct class_mode *classes;	/* StorageClasses looked up */
};

/* Whether a StorageClass binds its volumes only for a pod (cached). */
struct class_mode {
	const char *name;
	int first_consumer;
	struct class_mode *next;
};

static double
now_s(void)
{
	return (double)http_now_ms() / 1000.0;
}

void
apply_stats_init(struct apply_stats *st)
{
	memset(st, 0, sizeof(*st));
	strbuf_init(&st->report, STRBUF_LARGE);
}

void
apply_stats_release(struct apply_stats *st)
{
	strbuf_release(&st->report);
}

const struct kube_resource *
apply_find_kind(struct kube_client *k, const char *kind)
{
	size_t i;
	const struct kube_resource *any = NULL;

	for (i = 0; i < k->nres; i++)
		if (strcmp(k->res[i]->kind, kind) == 0) {
			if (k->res[i]->preferred)
				return k->res[i];
			if (any == NULL)
				any = k->res[i];
		}
	return any;
}

/* Zero values: the API server omits them from what it returns. */
static int
empty(const struct ynode *n)
{
	if (n->kind != Y_SCALAR)
		return n->n == 0;
	switch (n->type) {
	case YT_NULL:
		return 1;
	case YT_BOOL:
		return n->str[0] == 'f' || n->str[0] == 'F';
	case YT_INT:
		return strcmp(n->str, "0") == 0;
	case YT_STR:
		return n->len == 0;
	case YT_FLOAT:
		break;
	}
	return 0;
}

/*
 * Every field of want is in have with an equal value.  Lists must have
 * the same length and match item by item.  Zero values in want (null,
 * false, 0, "", empty) match absent ones, because the server omits them;
 * scalars compare as text, so 80 and "80" in different encodings of the
 * same value agree.
 */
int
apply_subset(const struct ynode *want, const struct ynode *have)
{
	size_t i;

	if (have == NULL)
		return empty(want);
	if (want->kind == Y_SCALAR) {
		if (want->type == YT_NULL)
			return 1;
		return have->kind == Y_SCALAR && want->len == have->len &&
		    memcmp(want->str, have->str, want->len) == 0;
	}
	if (want->kind != have->kind)
		return empty(want) && empty(have);
	if (want->kind == Y_SEQ) {
		if (want->n != have->n)
			return 0;
		for (i = 0; i < want->n; i++)
			if (!apply_subset(want->v[i], have->v[i]))
				return 0;
		return 1;
	}
	for (i = 0; i < want->n; i++) {
		const struct ynode *hv = ynode_get(have, want->v[2 * i]->str);

		if (!apply_subset(want->v[2 * i + 1], hv))
			return 0;
	}
	return 1;
}

static int
step_of(const struct robject *o, const struct kube_resource *res)
{
	if (strcmp(o->kind, "Namespace") == 0 ||
	    strcmp(o->kind, "CustomResourceDefinition") == 0)
		return STEP_FOUNDATION;
	if (o->rank == 99)
		return STEP_CUSTOM;
	(void)res;
	return STEP_BUILTIN;
}

/* Labels and annotations every member carries, then the JSON body. */
static int
prepare(struct engine *e, struct member *m, struct s7_error *err)
{
	struct arena a;
	struct ynode *obj, *meta, *labels, *ann;
	struct strbuf canon;
	int ret = -1;

	arena_init(&a);
	strbuf_init(&canon, STRBUF_LARGE);
	obj = ynode_copy(&a, m->ro->obj);
	meta = ynode_get(obj, "metadata");
	if (m->res && !m->res->namespaced)
		ynode_map_del(meta, "namespace");
	labels = ynode_get(meta, "labels");
	if (labels == NULL || labels->kind != Y_MAP) {
		labels = ynode_map(&a);
		ynode_map_set(&a, meta, "labels", labels);
	}
	ynode_map_set(&a, labels, APPLYSET_PART_OF, ynode_str(&a, e->id));
	if (json_emit(&canon, obj, 0, err) < 0)
		goto done;
	sha256_hex(canon.buf, canon.len, m->hash);
	ann = ynode_get(meta, "annotations");
	if (ann == NULL || ann->kind != Y_MAP) {
		ann = ynode_map(&a);
		ynode_map_set(&a, meta, "annotations", ann);
	}
	ynode_map_set(&a, ann, CONFIG_HASH, ynode_strf(&a, "%.20s", m->hash));
	strbuf_reset(&m->body);
	if (json_emit(&m->body, obj, 0, err) < 0)
		goto done;
	ret = 0;
done:
	strbuf_release(&canon);
	arena_release(&a);
	return ret;
}

/* Whether the live object already holds everything we would send. */
static int
up_to_date(const struct member *m, const struct ynode *live)
{
	struct arena a;
	struct ynode *want;
	struct s7_error err;
	const char *have;
	int ok;

	if (live == NULL)
		return 0;
	have = ynode_get_str(ynode_path(live, "metadata.annotations"),
	    CONFIG_HASH);
	if (have == NULL || strlen(have) != 20 ||
	    strncmp(have, m->hash, 20) != 0)
		return 0;
	arena_init(&a);
	ok = json_parse(&a, "desired", m->body.buf, m->body.len, &want,
	    &err) == 0;
	if (ok && strcmp(m->ro->kind, "Secret") == 0)
		ynode_map_del(want, "stringData");	/* write-only */
	ok = ok && apply_subset(want, live);
	arena_release(&a);
	return ok;
}

static const char *
member_name(struct engine *e, const struct member *m)
{
	return m->ns ? arena_printf(&e->arena, "%s %s/%s", m->ro->kind, m->ns,
	    m->ro->name) : arena_printf(&e->arena, "%s %s", m->ro->kind,
	    m->ro->name);
}

/*
 * Whether the server refused m's apply only because it would change a
 * Job's pod template, which cannot change once the Job exists.  A Job of
 * ours is a one-off task (pulling a model, say) whose new template is
 * meant to run: it is deleted and created again.  Other kinds with
 * fields that cannot change (a Deployment's selector, a PVC's class)
 * stay refused: recreating them loses pods or data.
 */
static int
replaceable(const struct member *m)
{
	const struct http_req *r = &m->req;

	return r->status == 422 && strcmp(m->ro->kind, "Job") == 0 &&
	    strcmp(m->res->group, "batch") == 0 && r->body_out.buf &&
	    strstr(r->body_out.buf, "spec.template") &&
	    strstr(r->body_out.buf, "field is immutable");
}

static void
applied(struct http_req *r)
{
	struct member *m = r->arg;
	struct s7_error err;

	if (!r->transport_error && replaceable(m)) {
		m->replace = 1;
		return;
	}
	if (r->transport_error || r->status < 200 || r->status >= 300) {
		kube_req_error(r, "apply", &err);
		snprintf(m->error, sizeof(m->error), "%s", err.msg);
		m->failed = 1;
	}
}

static void
report(struct engine *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
report(struct engine *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&e->st->report, fmt, ap);
	va_end(ap);
	strbuf_addch(&e->st->report, '\n');
}

static void
tick(struct engine *e, int final)
{
	size_t i;
	double t = now_s();

	for (i = 0; i < e->prog.n; i++) {
		struct comp_progress *c = &e->prog.comps[i];

		if (c->state != CS_READY && c->state != CS_FAILED)
			c->seconds = t - e->started;
	}
	e->prog.final = final;
	if (e->o->progress)
		e->o->progress(e->o->progress_arg, &e->prog);
}

#define LOST_AFTER_MS 15000

/* Pumps HTTP for up to ms, resuming watches that need it. */
static void
pump(struct engine *e, long ms)
{
	watchset_start(&e->ws);
	http_run(e->k->http, ms);
}

/*
 * Whether the API server has stopped answering: requests fail and none
 * has been answered for a while.  Waiting longer would only hide it.
 */
static int
lost(struct engine *e, struct s7_error *err)
{
	struct http_stats st;
	long long now = http_now_ms();

	http_client_stats(e->k->http, &st);
	if (st.last_failure_ms > st.last_response_ms &&
	    now - st.last_response_ms > LOST_AFTER_MS &&
	    now - e->since_ms > LOST_AFTER_MS)
		return s7_error_class(err, S7_ECLUSTER,
		    "lost the API server %s: %s (no answer for %llds)",
		    e->k->kc.server, st.last_failure,
		    (now - st.last_response_ms) / 1000);
	return 0;
}

static int
wait_listed(struct engine *e, struct s7_error *err)
{
	long long until = http_now_ms() + LIST_TIMEOUT_MS;

	watchset_start(&e->ws);
	while (!watchset_listed(&e->ws)) {
		size_t i;

		if (lost(e, err) < 0)
			return -1;
		if (http_now_ms() > until) {
			for (i = 0; i < e->ws.n; i++)
				if (!e->ws.w[i]->listed && e->ws.w[i]->error[0])
					return s7_error_class(err, S7_ECLUSTER,
					    "cannot list %s: %s",
					    e->ws.w[i]->res->resource,
					    e->ws.w[i]->error);
			return s7_error_class(err, S7_ECLUSTER,
			    "the API server did not answer lists in time");
		}
		pump(e, TICK_MS);
	}
	return 0;
}

/* Submits m as a server-side apply (a dry run when dry). */
static int
submit_apply(struct engine *e, struct member *m, int dry, http_done_fn done,
    struct s7_error *err)
{
	struct arena a;

	arena_init(&a);
	http_req_release(&m->req);
	m->req.method = "PATCH";
	http_req_url(e->k->http, &m->req, "%s?fieldManager=" FIELD_MANAGER
	    "&force=true%s", kube_path(&a, m->res, m->ns, m->ro->name),
	    dry ? "&dryRun=All" : "");
	arena_release(&a);
	m->req.content_type = "application/apply-patch+yaml";
	m->req.body = m->body.buf;
	m->req.body_len = m->body.len;
	m->req.timeout_ms = 60000;
	m->req.on_done = done;
	m->req.arg = m;
	return http_submit(e->k->http, &m->req, err);
}

/* Waits for every sent request of ms to be answered. */
static void
wait_sent(struct engine *e, struct member **ms, size_t n)
{
	size_t i;

	for (;;) {
		int busy = 0;

		for (i = 0; i < n; i++)
			if (ms[i]->sent && !ms[i]->req.done)
				busy = 1;
		if (!busy)
			break;
		pump(e, TICK_MS);
		tick(e, 0);
	}
}

/*
 * Deletes m (see replaceable()) and applies it again once the watch has
 * seen it go.  Its pods go in the background.
 */
static void
replace(struct engine *e, struct member *m)
{
	struct s7_error serr;
	long long until = http_now_ms() + REPLACE_TIMEOUT_MS;
	long status = 0;

	m->replace = 0;
	m->sent = 0;
	if (kube_call(e->k, "DELETE", arena_printf(&e->arena,
	    "%s?propagationPolicy=Background", kube_path(&e->arena, m->res,
	    m->ns, m->ro->name)), NULL, NULL, 0, &e->arena, NULL, &status,
	    "replace", &serr) < 0 && status != 404) {
		snprintf(m->error, sizeof(m->error), "%s", serr.msg);
		m->failed = 1;
		return;
	}
	e->st->mutating++;
	while (watchset_get(&e->ws, m->res, m->ns, m->ro->name)) {
		if (http_now_ms() > until || lost(e, &serr) < 0) {
			snprintf(m->error, sizeof(m->error),
			    "deleted to be replaced, but still there after %ds",
			    REPLACE_TIMEOUT_MS / 1000);
			m->failed = 1;
			return;
		}
		pump(e, TICK_MS);
	}
	if (submit_apply(e, m, 0, applied, &serr) < 0) {
		snprintf(m->error, sizeof(m->error), "%s", serr.msg);
		m->failed = 1;
		return;
	}
	m->sent = 1;
	e->st->mutating++;
	wait_sent(e, &m, 1);
	if (m->replace) {
		snprintf(m->error, sizeof(m->error),
		    "refused again after it was deleted");
		m->failed = 1;
		return;
	}
	if (!m->failed)
		report(e, "%s: replaced %s (a Job's pod template cannot change)",
		    e->r->comps[m->ro->comp].c->name, member_name(e, m));
}

/* Sends what differs; returns -1 if any apply failed. */
static int
apply_step(struct engine *e, struct member **ms, size_t n,
    struct s7_error *err)
{
	size_t i, failed = 0;

	for (i = 0; i < n; i++)
		watchset_add(&e->ws, ms[i]->res, ms[i]->ns);
	if (wait_listed(e, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		struct member *m = ms[i];
		const struct ynode *live = watchset_get(&e->ws, m->res, m->ns,
		    m->ro->name);
		struct comp_progress *c = &e->prog.comps[m->comp];
		struct s7_error serr;

		if (up_to_date(m, live)) {
			c->unchanged++;
			e->st->unchanged++;
			continue;
		}
		if (submit_apply(e, m, 0, applied, &serr) < 0) {
			snprintf(m->error, sizeof(m->error), "%s", serr.msg);
			m->failed = 1;
			continue;
		}
		m->sent = 1;
		if (e->o->verbose)
			report(e, "%s: %s %s", e->r->comps[m->ro->comp].c->name,
			    live ? "changed" : "created", member_name(e, m));
		c->changed++;
		e->st->applied++;
		e->st->mutating++;
	}
	wait_sent(e, ms, n);
	for (i = 0; i < n; i++)
		if (ms[i]->replace)
			replace(e, ms[i]);
	for (i = 0; i < n; i++)
		if (ms[i]->failed) {
			failed++;
			e->prog.comps[ms[i]->comp].failed++;
			e->prog.comps[ms[i]->comp].state = CS_FAILED;
			report(e, "%s: %s: %s",
			    e->r->comps[ms[i]->ro->comp].c->name,
			    member_name(e, ms[i]), ms[i]->error);
		}
	e->st->failed += failed;
	if (failed)
		return s7_error_class(err, S7_ECLUSTER,
		    "%zu object%s could not be applied", failed,
		    failed == 1 ? "" : "s");
	return 0;
}

/* Readiness of one member; why gets the reason when not ready. */
static int get_object(struct engine *e, const struct kube_resource *r,
    const char *ns, const char *name, struct ynode **out,
    struct s7_error *err);

static int
first_consumer(struct engine *e, const char *class)
{
	const struct kube_resource *r;
	struct class_mode *c;
	struct ynode *sc = NULL;
	struct s7_error err;
	const char *mode;

	for (c = e->classes; c; c = c->next)
		if (strcmp(c->name, class) == 0)
			return c->first_consumer;
	r = kube_find(e->k, "storage.k8s.io/v1", "StorageClass");
	if (r == NULL || get_object(e, r, NULL, class, &sc, &err) < 0)
		return 0;	/* asked again next time */
	mode = ynode_get_str(sc, "volumeBindingMode");
	c = arena_alloc(&e->arena, sizeof(*c));
	c->name = arena_strdup(&e->arena, class);
	c->first_consumer = mode && strcmp(mode, "WaitForFirstConsumer") == 0;
	c->next = e->classes;
	e->classes = c;
	return c->first_consumer;
}

/*
 * Readiness of one member.  A claim of a class that binds on first use
 * (WaitForFirstConsumer) stays Pending until a pod that uses it is
 * scheduled; one only a CronJob uses would hold apply until the job's
 * first run, so it counts as ready until a pod picks a node for it.
 */
static enum kstatus
member_status(struct engine *e, const struct member *m, char *why, size_t size)
{
	const struct ynode *live;
	enum kstatus st;
	const char *class;

	if (kstatus_trivial(m->ro->api_version, m->ro->kind)) {
		snprintf(why, size, "exists");
		return KS_CURRENT;
	}
	live = watchset_get(&e->ws, m->res, m->ns, m->ro->name);
	st = kstatus_eval(live, why, size);
	if (st == KS_IN_PROGRESS && live &&
	    strcmp(m->ro->kind, "PersistentVolumeClaim") == 0 &&
	    (class = ynode_get_str(ynode_get(live, "spec"),
	    "storageClassName")) != NULL &&
	    ynode_get(ynode_get(ynode_get(live, "metadata"), "annotations"),
	    "volume.kubernetes.io/selected-node") == NULL &&
	    first_consumer(e, class)) {
		snprintf(why, size, "waits for its first consumer (%s)", class);
		return KS_CURRENT;
	}
	return st;
}

static enum kstatus
gate_status(struct engine *e, const struct gate_state *g, char *why,
    size_t size)
{
	if (g->res == NULL) {
		snprintf(why, size, "%s is not served by the cluster", g->g->kind);
		return KS_IN_PROGRESS;
	}
	if (strcmp(g->g->type, "endpoints") == 0) {
		const struct kube_resource *er = apply_find_kind(e->k,
		    "EndpointSlice");
		const struct ynode *sl[64];
		size_t i, j, n = 0;
		enum kstatus s;

		if (er == NULL) {
			snprintf(why, size, "EndpointSlices are not served");
			return KS_IN_PROGRESS;
		}
		for (i = 0; i < e->ws.n; i++) {
			struct watch *w = e->ws.w[i];

			if (w->res != er || w->namespace == NULL ||
			    strcmp(w->namespace, g->g->namespace) != 0)
				continue;
			for (j = 0; j < w->nitems && n < 64; j++) {
				const char *svc = ynode_get_str(ynode_path(
				    w->items[j].obj, "metadata.labels"),
				    "kubernetes.io/service-name");

				if (svc && strcmp(svc, g->g->name) == 0)
					sl[n++] = w->items[j].obj;
			}
		}
		s = kstatus_endpoints(sl, n, why, size);
		if (s != KS_CURRENT) {
			char tmp[256];

			snprintf(tmp, sizeof(tmp), "%s", why);
			snprintf(why, size, "Service %s/%s: %s", g->g->namespace,
			    g->g->name, tmp);
		}
		return s;
	}
	{
		const struct ynode *obj = watchset_get(&e->ws, g->res,
		    g->g->namespace, g->g->name);
		enum kstatus s = kstatus_eval(obj, why, size);
		const struct ynode *want;
		struct s7_error aerr;

		if (s == KS_CURRENT && g->g->address &&
		    tmpl_eval(&e->arena, g->g->address, e->r->ctx, &want,
		    &aerr) == 0 && want && want->kind == Y_SCALAR) {
			const struct ynode *ing = ynode_path(obj,
			    "status.loadBalancer.ingress");
			const char *got = ing && ing->kind == Y_SEQ && ing->n ?
			    ynode_get_str(ing->v[0], "ip") : NULL;

			if (got == NULL || strcmp(got, want->str) != 0) {
				s = KS_IN_PROGRESS;
				snprintf(why, size,
				    "load balancer address %s, but %s was asked for",
				    got ? got : "none", want->str);
			}
		}

		if (s != KS_CURRENT) {
			char tmp[256];

			snprintf(tmp, sizeof(tmp), "%s", why);
			snprintf(why, size, "%s %s%s%s: %s", g->g->kind,
			    g->g->namespace ? g->g->namespace : "",
			    g->g->namespace ? "/" : "", g->g->name, tmp);
		}
		return s;
	}
}

/*
 * Waits until every member in ms and every gate in gs is ready (0), the
 * deadline passes (-1), or the API server is lost (-2, err set).
 * Component states are updated as things become ready.
 */
static int
wait_ready(struct engine *e, struct member **ms, size_t n,
    struct gate_state *gs, size_t ng, long long deadline, int final,
    struct s7_error *err)
{
	size_t i;

	for (;;) {
		int all = 1;

		for (i = 0; i < e->prog.n; i++)
			e->prog.comps[i].why[0] = '\0';
		for (i = 0; i < n; i++) {
			char why[300];
			struct comp_progress *c = &e->prog.comps[ms[i]->comp];

			if (member_status(e, ms[i], why, sizeof(why)) != KS_CURRENT) {
				all = 0;
				if (c->why[0] == '\0')
					snprintf(c->why, sizeof(c->why), "%.90s: %.200s",
					    member_name(e, ms[i]), why);
			}
		}
		for (i = 0; i < ng; i++) {
			char why[300];
			struct comp_progress *c = &e->prog.comps[gs[i].comp];

			if (gate_status(e, &gs[i], why, sizeof(why)) != KS_CURRENT) {
				all = 0;
				if (c->why[0] == '\0')
					snprintf(c->why, sizeof(c->why), "%s", why);
			}
		}
		if (final)
			for (i = 0; i < e->prog.n; i++) {
				struct comp_progress *c = &e->prog.comps[i];

				if (c->why[0] == '\0' && c->state == CS_WAITING) {
					c->state = CS_READY;
					c->seconds = now_s() - e->started;
				}
			}
		if (all)
			return 0;
		if (http_now_ms() > deadline)
			return -1;
		if (lost(e, err) < 0)
			return -2;
		e->ws.changed = 0;
		pump(e, TICK_MS);
		tick(e, 0);
	}
}

/* A pod's story, for a workload that is not ready. */
static void
diagnose(struct engine *e, const struct member *m)
{
	const struct ynode *live = watchset_get(&e->ws, m->res, m->ns,
	    m->ro->name);
	const struct ynode *sel = ynode_path(live, "spec.selector.matchLabels");
	const struct kube_resource *pr = apply_find_kind(e->k, "Pod");
	const struct kube_resource *er = apply_find_kind(e->k, "Event");
	struct strbuf q, path;
	struct arena a;
	struct ynode *pods = NULL, *evs = NULL;
	struct s7_error err;
	const char *pod = NULL;
	size_t i;

	if (pr == NULL || m->ns == NULL)
		return;
	arena_init(&a);
	strbuf_init(&q, 8192);
	strbuf_init(&path, 8192);
	for (i = 0; sel && sel->kind == Y_MAP && i < sel->n; i++) {
		char kv[512];

		snprintf(kv, sizeof(kv), "%s=%s", sel->v[2 * i]->str,
		    sel->v[2 * i + 1]->str);
		if (i)
			strbuf_addstr(&q, "%2C");
		text_url_escape(&q, kv);
	}
	if (sel && q.len) {
		strbuf_addf(&path, "%s?labelSelector=%s",
		    kube_path(&a, pr, m->ns, NULL), q.buf);
		if (kube_call(e->k, "GET", path.buf, NULL, NULL, 0, &a, &pods,
		    NULL, "pods", &err) == 0) {
			const struct ynode *items = ynode_get(pods, "items");

			for (i = 0; items && i < items->n; i++) {
				char why[300];

				if (kstatus_eval(items->v[i], why, sizeof(why)) ==
				    KS_CURRENT)
					continue;
				pod = ynode_get_str(ynode_get(items->v[i],
				    "metadata"), "name");
				report(e, "    pod %s: %s", pod ? pod : "?", why);
				break;
			}
			if (items && items->n == 0)
				report(e, "    no pods");
		}
	}
	if (er) {
		strbuf_reset(&q);
		strbuf_reset(&path);
		text_url_escape(&q, pod ? pod : m->ro->name);
		strbuf_addf(&path, "%s?fieldSelector=involvedObject.name%%3D%s",
		    kube_path(&a, er, m->ns, NULL), q.buf);
		if (kube_call(e->k, "GET", path.buf, NULL, NULL, 0, &a, &evs,
		    NULL, "events", &err) == 0) {
			const struct ynode *items = ynode_get(evs, "items");

			if (items && items->n) {
				const struct ynode *ev = items->v[items->n - 1];

				report(e, "    event %s: %s",
				    ynode_get_str(ev, "reason") ?
				    ynode_get_str(ev, "reason") : "",
				    ynode_get_str(ev, "message") ?
				    ynode_get_str(ev, "message") : "");
			}
		}
	}
	strbuf_release(&q);
	strbuf_release(&path);
	arena_release(&a);
}

static void
explain_timeout(struct engine *e, struct member **ms, size_t n,
    struct gate_state *gs, size_t ng)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char why[300];

		if (member_status(e, ms[i], why, sizeof(why)) == KS_CURRENT)
			continue;
		report(e, "%s: %s: %s", e->r->comps[ms[i]->ro->comp].c->name,
		    member_name(e, ms[i]), why);
		diagnose(e, ms[i]);
	}
	for (i = 0; i < ng; i++) {
		char why[300];

		if (gate_status(e, &gs[i], why, sizeof(why)) == KS_CURRENT)
			continue;
		report(e, "%s: %s", gs[i].g ? e->prog.comps[gs[i].comp].name : "",
		    why);
	}
}

/* The first CRD among ms whose kind discovery does not list, or NULL. */
static const char *
crd_unserved(struct engine *e, struct member **ms, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		const struct ynode *spec = ynode_get(ms[i]->ro->obj, "spec"),
		    *vs = ynode_get(spec, "versions");
		const char *group = ynode_get_str(spec, "group"),
		    *kind = ynode_get_str(ynode_get(spec, "names"), "kind");

		if (strcmp(ms[i]->ro->kind, "CustomResourceDefinition") != 0 ||
		    group == NULL || kind == NULL || vs == NULL ||
		    vs->kind != Y_SEQ)
			continue;
		for (j = 0; j < vs->n; j++) {
			char gv[256];

			if (!ynode_truthy(ynode_get(vs->v[j], "served")))
				continue;
			snprintf(gv, sizeof(gv), "%s/%s", group,
			    ynode_get_str(vs->v[j], "name"));
			if (kube_find(e->k, gv, kind) == NULL)
				return ms[i]->ro->name;
		}
	}
	return NULL;
}

/*
 * The API server lists a CRD's kinds in discovery a moment after the CRD
 * is Established: reloads discovery until it lists every served version
 * of the CRDs in ms, or the deadline passes.
 */
static int
await_served(struct engine *e, struct member **ms, size_t n,
    long long deadline, struct s7_error *err)
{
	const char *missing;

	for (;;) {
		struct timespec ts = { 0, 200 * 1000000L };

		if (kube_discover(e->k, 1, err) < 0)
			return -1;
		e->refreshed = 1;
		if ((missing = crd_unserved(e, ms, n)) == NULL)
			return 0;
		if (http_now_ms() >= deadline)
			return s7_error_class(err, S7_ETIMEOUT,
			    "wave %zu: CustomResourceDefinition %s is established "
			    "but its kind is not in discovery after %lds", e->wave,
			    missing, e->o->timeout_s);
		nanosleep(&ts, NULL);
	}
}

static int
resolve(struct engine *e, struct member *m, struct s7_error *err)
{
	if (m->res)
		return 0;
	m->res = kube_find(e->k, m->ro->api_version, m->ro->kind);
	if (m->res == NULL && !e->refreshed) {
		/* Served since discovery was loaded?  Look once more. */
		if (kube_discover(e->k, 1, err) < 0)
			return -1;
		e->refreshed = 1;
		m->res = kube_find(e->k, m->ro->api_version, m->ro->kind);
	}
	if (m->res == NULL)
		return s7_error_class(err, S7_ECLUSTER,
		    "%s: %s (%s) is not served by this cluster%s",
		    e->r->comps[m->ro->comp].c->name, m->ro->kind,
		    m->ro->api_version,
		    strcmp(m->ro->api_version, "helm.cattle.io/v1") == 0 ?
		    ": sector7 expects k3s, whose helm-controller serves it" : "");
	m->ns = m->res->namespaced ? m->ro->namespace : NULL;
	if (m->res->namespaced && m->ns == NULL)
		return s7_error_class(err, S7_EINPUT,
		    "%s: %s '%s' has no namespace",
		    e->r->comps[m->ro->comp].c->name, m->ro->kind, m->ro->name);
	return 0;
}

/*
 * Adds the gates of component c (index comp) whose `when` holds to gs,
 * with watches for what they look at.  Returns the new count.
 */
static size_t
collect_gates(struct engine *e, const struct component *c, size_t comp,
    struct gate_state *gs, size_t ng, const char *type)
{
	const struct kube_resource *er = apply_find_kind(e->k, "EndpointSlice");
	size_t gi;

	for (gi = 0; gi < c->ngates; gi++) {
		const struct gate *g = &c->gates[gi];
		const struct ynode *v;
		struct s7_error gerr;

		if (type && strcmp(g->type, type) != 0)
			continue;
		if (g->when && (tmpl_eval(&e->arena, g->when, e->r->ctx, &v,
		    &gerr) < 0 || !ynode_truthy(v)))
			continue;
		gs[ng].g = g;
		gs[ng].comp = comp;
		if (strcmp(g->type, "endpoints") == 0) {
			gs[ng].res = apply_find_kind(e->k, "Service");
			if (er)
				watchset_add(&e->ws, er, g->namespace);
		} else {
			gs[ng].res = apply_find_kind(e->k, g->kind);
			if (gs[ng].res)
				watchset_add(&e->ws, gs[ng].res, g->namespace);
		}
		ng++;
	}
	return ng;
}

#define NUDGE_AFTER_MS 10000

/*
 * A CRD whose API server restarted while it was being installed can stay
 * "Installing" for good: Kubernetes only re-checks it on a change.  Such a
 * CRD is touched once (an annotation of its own field manager) to wake it.
 */
static int
nudge(struct engine *e, struct member **ms, size_t n, struct s7_error *err)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct ynode *live = watchset_get(&e->ws, ms[i]->res,
		    ms[i]->ns, ms[i]->ro->name);
		const struct ynode *c = ynode_path(live, "status.conditions");
		size_t j;
		char body[160];

		if (strcmp(ms[i]->ro->kind, "CustomResourceDefinition") != 0)
			continue;
		for (j = 0; c && c->kind == Y_SEQ && j < c->n; j++) {
			const char *t = ynode_get_str(c->v[j], "type");
			const char *st = ynode_get_str(c->v[j], "status");
			const char *rs = ynode_get_str(c->v[j], "reason");

			if (!t || strcmp(t, "Established") || !st ||
			    strcmp(st, "False") || !rs || strcmp(rs, "Installing"))
				continue;
			snprintf(body, sizeof(body),
			    "{\"metadata\":{\"annotations\":{\"sector7.io/nudged\":\"%lld\"}}}",
			    http_now_ms());
			if (kube_call(e->k, "PATCH", arena_printf(&e->arena,
			    "%s?fieldManager=sector7-nudge", kube_path(&e->arena,
			    ms[i]->res, NULL, ms[i]->ro->name)),
			    "application/merge-patch+json", body, strlen(body),
			    &e->arena, NULL, NULL, "nudge", err) < 0)
				return -1;
			e->st->mutating++;
			report(e, "%s: CustomResourceDefinition %s was stuck installing; touched it",
			    e->r->comps[ms[i]->ro->comp].c->name, ms[i]->ro->name);
		}
	}
	return 0;
}

/* The wave's credentials, once its namespaces exist. */
static int
ensure_secrets(struct engine *e, const struct wave *w, struct s7_error *err)
{
	struct secret_report rep;
	size_t i;
	int ret = 0;

	secret_report_init(&rep);
	for (i = 0; i < w->n && ret == 0; i++)
		if (e->r->comps[w->comps[i]].c->nsecrets)
			ret = secrets_ensure(e->k, e->r, w->comps[i], e->id, &rep,
			    err);
	if (rep.lines.len)
		strbuf_add(&e->st->report, rep.lines.buf, rep.lines.len);
	e->st->mutating += rep.mutating;
	secret_report_release(&rep);
	return ret;
}

static int
run_wave(struct engine *e, const struct wave *w, struct s7_error *err)
{
	struct member *all = NULL, **ms = NULL;
	struct gate_state *gs = NULL;
	size_t nall = 0, i, j, ng = 0;
	long long deadline = http_now_ms() + e->o->timeout_s * 1000;
	int step, ret = -1;

	e->started = now_s();
	e->prog.comps = xcalloc(w->n, sizeof(*e->prog.comps));
	e->prog.n = w->n;
	e->prog.wave = ++e->wave;
	e->prog.nwaves = e->nwaves;
	for (i = 0; i < w->n; i++) {
		const struct rcomponent *rc = &e->r->comps[w->comps[i]];

		e->prog.comps[i].name = rc->c->name;
		e->prog.comps[i].phase = rc->c->phase;
		e->prog.comps[i].state = CS_APPLYING;
		e->prog.comps[i].objects = rc->nobj;
		nall += rc->nobj;
		ng += rc->c->ngates;
	}
	all = xcalloc(nall + 1, sizeof(*all));
	ms = xcalloc(nall + 1, sizeof(*ms));
	gs = xcalloc(ng + 1, sizeof(*gs));
	nall = 0;
	for (i = 0; i < w->n; i++) {
		const struct rcomponent *rc = &e->r->comps[w->comps[i]];

		for (j = rc->first; j < rc->first + rc->nobj; j++) {
			struct member *m = &all[nall++];

			m->ro = &e->r->objs[j];
			m->comp = i;
			strbuf_init(&m->body, STRBUF_LARGE);
			http_req_init(&m->req);
		}
	}
	e->st->objects += nall;
	e->refreshed = 0;
	tick(e, 0);
	for (step = 0; step < NSTEPS; step++) {
		size_t n = 0;

		/* Credentials go in once the namespaces exist, before
		 * anything that reads them. */
		if (step == STEP_BUILTIN && ensure_secrets(e, w, err) < 0)
			goto done;
		for (i = 0; i < nall; i++) {
			all[i].step = step_of(all[i].ro, NULL);
			if (all[i].step != step)
				continue;
			/* Kinds of this wave's CRDs resolve after step 0. */
			if (resolve(e, &all[i], err) < 0 ||
			    prepare(e, &all[i], err) < 0)
				goto done;
			ms[n++] = &all[i];
		}
		if (n == 0)
			continue;
		if (apply_step(e, ms, n, err) < 0)
			goto done;
		if (step == STEP_FOUNDATION) {
			/* CRDs must be Established before their kinds exist. */
			int w8 = wait_ready(e, ms, n, NULL, 0, http_now_ms() +
			    NUDGE_AFTER_MS < deadline ? http_now_ms() +
			    NUDGE_AFTER_MS : deadline, 0, err);

			if (w8 == -1 && nudge(e, ms, n, err) < 0)
				goto done;
			if (w8 == -1)
				w8 = wait_ready(e, ms, n, NULL, 0, deadline, 0, err);
			if (w8 == -2)
				goto done;
			if (w8 < 0) {
				explain_timeout(e, ms, n, NULL, 0);
				s7_error_class(err, S7_ETIMEOUT,
				    "wave %zu: CustomResourceDefinitions not established after %lds",
				    e->wave, e->o->timeout_s);
				goto done;
			}
			if (await_served(e, ms, n, deadline, err) < 0)
				goto done;
		}

		if (step == STEP_BUILTIN) {
			/* Webhooks must answer before custom resources go in. */
			size_t nw = 0;
			int custom = 0;

			for (i = 0; i < nall; i++)
				if (step_of(all[i].ro, NULL) == STEP_CUSTOM)
					custom = 1;
			for (i = 0; custom && i < w->n; i++)
				nw = collect_gates(e, e->r->comps[w->comps[i]].c, i,
				    gs, nw, "endpoints");
			if (nw) {
				int w8 = wait_ready(e, NULL, 0, gs, nw, deadline, 0,
				    err);

				if (w8 == -2)
					goto done;
				if (w8 < 0) {
					explain_timeout(e, NULL, 0, gs, nw);
					s7_error_class(err, S7_ETIMEOUT,
					    "wave %zu: webhooks not answering after %lds",
					    e->wave, e->o->timeout_s);
					goto done;
				}
			}
		}
	}
	/* The whole wave: every member and every gate. */
	for (i = 0; i < e->prog.n; i++)
		if (e->prog.comps[i].state == CS_APPLYING)
			e->prog.comps[i].state = CS_WAITING;
	ng = 0;
	for (i = 0; i < w->n; i++)
		ng = collect_gates(e, e->r->comps[w->comps[i]].c, i, gs, ng, NULL);
	for (i = 0; i < nall; i++)
		ms[i] = &all[i];
	if (wait_listed(e, err) < 0)
		goto done;
	switch (wait_ready(e, ms, nall, gs, ng, deadline, 1, err)) {
	case 0:
		break;
	case -2:
		goto done;
	default:
		explain_timeout(e, ms, nall, gs, ng);
		s7_error_class(err, S7_ETIMEOUT,
		    "wave %zu (%s): not ready after %lds", e->wave,
		    phase_name(w->phase), e->o->timeout_s);
		goto done;
	}
	tick(e, 1);
	ret = 0;
done:
	for (i = 0; i < nall; i++) {
		if (all[i].sent && !all[i].req.done)
			http_cancel(e->k->http, &all[i].req);
		http_req_release(&all[i].req);
		strbuf_release(&all[i].body);
	}
	if (ret < 0) {
		for (i = 0; i < e->prog.n; i++)
			if (e->prog.comps[i].state != CS_READY)
				e->prog.comps[i].state = CS_FAILED;
		tick(e, 1);
	}
	free(all);
	free(ms);
	free(gs);
	free(e->prog.comps);
	e->prog.comps = NULL;
	e->prog.n = 0;
	watchset_release(&e->ws);
	watchset_init(&e->ws, e->k);
	return ret;
}

/* GETs an object; *out NULL when it does not exist. */
static int
get_object(struct engine *e, const struct kube_resource *r, const char *ns,
    const char *name, struct ynode **out, struct s7_error *err)
{
	long status = 0;
	const char *path = kube_path(&e->arena, r, ns, name);

	if (kube_call(e->k, "GET", path, NULL, NULL, 0, &e->arena, out, &status,
	    path, err) < 0) {
		if (status == 404) {
			*out = NULL;
			return 0;
		}
		return -1;
	}
	return 0;
}

static int
ensure_namespace(struct engine *e, struct s7_error *err)
{
	const struct kube_resource *r = kube_find(e->k, "v1", "Namespace");
	struct ynode *live;
	struct strbuf body;
	int ret;

	if (r == NULL)
		return s7_error_class(err, S7_ECLUSTER, "Namespaces are not served");
	if (get_object(e, r, NULL, e->ns, &live, err) < 0)
		return -1;
	if (live)
		return 0;
	strbuf_init(&body, 4096);
	strbuf_addf(&body, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
	    "\"metadata\":{\"name\":\"%s\",\"labels\":{"
	    "\"app.kubernetes.io/managed-by\":\"sector7\","
	    "\"pod-security.kubernetes.io/enforce\":\"restricted\"}}}", e->ns);
	ret = kube_call(e->k, "PATCH", arena_printf(&e->arena,
	    "%s?fieldManager=" FIELD_MANAGER, kube_path(&e->arena, r, NULL, e->ns)),
	    "application/apply-patch+yaml", body.buf, body.len, &e->arena, NULL,
	    NULL, "namespace", err);
	e->st->mutating++;
	strbuf_release(&body);
	return ret;
}

/* Sorted, de-duplicated comma list. */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorts v and drops repeats; returns the new count. */
static size_t
uniq(const char **v, size_t n)
{
	size_t i, m = 0;

	qsort(v, n, sizeof(*v), cmp_str);
	for (i = 0; i < n; i++)
		if (m == 0 || strcmp(v[i], v[m - 1]) != 0)
			v[m++] = v[i];
	return m;
}

/* skip: a value left out (the parent's own namespace), or NULL. */
static const char *
join_sorted(struct engine *e, const char **v, size_t n, const char *skip)
{
	struct strbuf sb;
	const char *out;
	size_t i;

	qsort(v, n, sizeof(*v), cmp_str);
	strbuf_init(&sb, STRBUF_LARGE);
	for (i = 0; i < n; i++)
		if ((i == 0 || strcmp(v[i], v[i - 1]) != 0) &&
		    (skip == NULL || strcmp(v[i], skip) != 0))
			strbuf_addf(&sb, "%s%s", sb.len ? "," : "", v[i]);
	out = arena_strdup(&e->arena, sb.buf);
	strbuf_release(&sb);
	return out;
}

/* Appends the items of a comma list to v. */
static size_t
split_into(struct engine *e, const char *list, const char **v, size_t n,
    size_t max)
{
	const char *p = list;

	while (p && *p && n < max) {
		const char *c = strchr(p, ',');
		size_t l = c ? (size_t)(c - p) : strlen(p);

		if (l)
			v[n++] = arena_strndup(&e->arena, p, l);
		p = c ? c + 1 : NULL;
	}
	return n;
}

/*
 * Writes the parent Secret with the group-kinds and namespaces given.
 * Refuses a parent owned by another tool.
 */
static int
write_parent(struct engine *e, const char *gks, const char *nss,
    struct s7_error *err)
{
	const struct kube_resource *r = kube_find(e->k, "v1", "Secret");
	struct arena a;
	struct ynode *obj, *meta, *labels, *ann;
	struct strbuf body;
	int ret;

	arena_init(&a);
	obj = ynode_map(&a);
	meta = ynode_map(&a);
	labels = ynode_map(&a);
	ann = ynode_map(&a);
	ynode_map_set(&a, obj, "apiVersion", ynode_str(&a, "v1"));
	ynode_map_set(&a, obj, "kind", ynode_str(&a, "Secret"));
	ynode_map_set(&a, meta, "name", ynode_str(&a, e->ns));
	ynode_map_set(&a, meta, "namespace", ynode_str(&a, e->ns));
	ynode_map_set(&a, labels, APPLYSET_ID_LABEL, ynode_str(&a, e->id));
	ynode_map_set(&a, ann, APPLYSET_TOOLING, ynode_strf(&a, "sector7/v%s",
	    e->o->version));
	ynode_map_set(&a, ann, APPLYSET_GKS, ynode_str(&a, gks));
	ynode_map_set(&a, ann, APPLYSET_NAMESPACES, ynode_str(&a, nss));
	ynode_map_set(&a, meta, "labels", labels);
	ynode_map_set(&a, meta, "annotations", ann);
	ynode_map_set(&a, obj, "metadata", meta);
	ynode_map_set(&a, obj, "type", ynode_str(&a, "Opaque"));
	strbuf_init(&body, STRBUF_LARGE);
	ret = json_emit(&body, obj, 0, err);
	if (ret == 0) {
		ret = kube_call(e->k, "PATCH", arena_printf(&e->arena,
		    "%s?fieldManager=" FIELD_MANAGER "&force=true",
		    kube_path(&e->arena, r, e->ns, e->ns)),
		    "application/apply-patch+yaml", body.buf, body.len,
		    &e->arena, NULL, NULL, "ApplySet parent", err);
		e->st->mutating++;
	}
	strbuf_release(&body);
	arena_release(&a);
	return ret;
}

/* Members that left the rendered set, found by the part-of label. */
static int
prune(struct engine *e, const char **gks, size_t ngk, const char **nss,
    size_t nns, const char **kept_gk, const char **kept_ns, size_t *nkept,
    size_t maxkept, struct s7_error *err)
{
	size_t gi, ni, i, j;
	struct strbuf q;
	int ret = 0;

	ngk = uniq(gks, ngk);
	nns = uniq(nss, nns);
	strbuf_init(&q, 4096);
	text_url_escape(&q, APPLYSET_PART_OF);
	strbuf_addstr(&q, "%3D");
	text_url_escape(&q, e->id);
	for (gi = 0; gi < ngk; gi++) {
		const char *dot = strchr(gks[gi], '.');
		char kind[128];
		const struct kube_resource *r = NULL;

		snprintf(kind, sizeof(kind), "%.*s",
		    (int)(dot ? (size_t)(dot - gks[gi]) : strlen(gks[gi])),
		    gks[gi]);
		for (i = 0; i < e->k->nres; i++) {
			const struct kube_resource *c = e->k->res[i];

			if (strcmp(c->kind, kind) == 0 && c->preferred &&
			    strcmp(c->group, dot ? dot + 1 : "") == 0)
				r = c;
		}
		if (r == NULL)
			continue;	/* its CRD is gone: nothing to prune */
		for (ni = 0; ni < (r->namespaced ? nns : 1); ni++) {
			const char *ns = r->namespaced ? nss[ni] : NULL;
			struct ynode *list;
			const struct ynode *items;
			long status = 0;

			if (kube_call(e->k, "GET", arena_printf(&e->arena,
			    "%s?labelSelector=%s", kube_path(&e->arena, r, ns, NULL),
			    q.buf), NULL, NULL, 0, &e->arena, &list, NULL,
			    "prune", err) < 0) {
				ret = -1;
				goto done;
			}
			items = ynode_get(list, "items");
			for (j = 0; items && j < items->n; j++) {
				const struct ynode *meta = ynode_get(items->v[j],
				    "metadata");
				const char *name = ynode_get_str(meta, "name");
				const char *ons = ynode_get_str(meta, "namespace");
				int keep = 0;

				for (i = 0; i < e->r->nobjs && !keep; i++) {
					const struct robject *o = &e->r->objs[i];

					keep = strcmp(o->kind, r->kind) == 0 &&
					    strcmp(o->name, name) == 0 &&
					    (!r->namespaced || (o->namespace &&
					    ons && strcmp(o->namespace, ons) == 0));
				}
				if (keep)
					continue;
				if (!e->o->prune_data &&
				    (strcmp(r->kind, "PersistentVolumeClaim") == 0 ||
				    strcmp(r->kind, "PersistentVolume") == 0 ||
				    (strcmp(r->kind, "Secret") == 0 &&
				    ynode_get(ynode_get(meta, "labels"),
				    CREDENTIAL_LABEL)))) {
					report(e, "kept %s %s%s%s (data; --prune-data deletes it)",
					    r->kind, ons ? ons : "", ons ? "/" : "",
					    name);
					/* Still a member: the parent keeps listing it. */
					if (kept_gk && *nkept < maxkept) {
						kept_gk[*nkept] = gks[gi];
						kept_ns[*nkept] = ons ?
						    arena_strdup(&e->arena, ons) : e->ns;
						(*nkept)++;
					}
					continue;
				}
				if (kube_call(e->k, "DELETE", arena_printf(&e->arena,
				    "%s?propagationPolicy=Background",
				    kube_path(&e->arena, r, ons, name)), NULL, NULL,
				    0, &e->arena, NULL, &status, "prune", err) < 0) {
					if (status == 404)
						continue;	/* gone already */
					ret = -1;
					goto done;
				}
				e->st->pruned++;
				e->st->mutating++;
				report(e, "pruned %s %s%s%s", r->kind, ons ? ons : "",
				    ons ? "/" : "", name);
			}
		}
	}
done:
	strbuf_release(&q);
	return ret;
}

int
apply_run(struct kube_client *k, struct rendered *r, const struct site *s,
    const struct apply_opts *o, struct apply_stats *st, struct s7_error *err)
{
	struct engine e;
	struct plan p;
	struct ynode *parent = NULL;
	const char **gks = NULL, **nss = NULL;
	size_t ngk = 0, nns = 0, maxv = 2 * r->nobjs + 512, i;
	const char *tool;
	int ret = -1;
	double t0 = now_s();
	struct http_stats hs;

	memset(&e, 0, sizeof(e));
	e.k = k;
	e.r = r;
	e.s = s;
	e.o = o;
	e.st = st;
	arena_init(&e.arena);
	watchset_init(&e.ws, k);
	e.ns = s->name;
	e.since_ms = http_now_ms();
	applyset_id(e.ns, e.ns, e.id);
	memset(&p, 0, sizeof(p));
	if (o->prune && (o->phase || o->only)) {
		s7_error_class(err, S7_EUSAGE,
		    "--prune needs the whole stack: it cannot be used with --phase or --only");
		goto done;
	}
	if (plan_make(&p, r, o->phase, o->only, err) < 0)
		goto done;
	e.nwaves = p.n;
	if (kube_discover(k, 0, err) < 0 || ensure_namespace(&e, err) < 0)
		goto done;
	if (get_object(&e, kube_find(k, "v1", "Secret"), e.ns, e.ns, &parent,
	    err) < 0)
		goto done;
	tool = parent ? ynode_get_str(ynode_path(parent, "metadata.annotations"),
	    APPLYSET_TOOLING) : NULL;
	if (tool && strncmp(tool, "sector7/", 8) != 0) {
		s7_error_class(err, S7_ECLUSTER,
		    "the ApplySet %s/%s belongs to '%s', not sector7: refusing to change it",
		    e.ns, e.ns, tool);
		goto done;
	}
	/* The parent lists the old set and the new, so prune finds both. */
	gks = xcalloc(maxv, sizeof(*gks));
	nss = xcalloc(maxv, sizeof(*nss));
	if (parent) {
		const struct ynode *ann = ynode_path(parent, "metadata.annotations");

		ngk = split_into(&e, ynode_get_str(ann, APPLYSET_GKS), gks, ngk,
		    maxv / 2);
		nns = split_into(&e, ynode_get_str(ann, APPLYSET_NAMESPACES), nss,
		    nns, maxv / 2);
	}
	{
		size_t ngk_new = ngk, nns_new = nns;
		const char **gks_new = xcalloc(maxv, sizeof(*gks_new));
		const char **nss_new = xcalloc(maxv, sizeof(*nss_new));
		size_t a = 0, b = 0;

		for (i = 0; i < r->nobjs; i++) {
			char gk[256];

			applyset_group_kind(r->objs[i].api_version, r->objs[i].kind,
			    gk, sizeof(gk));
			gks[ngk_new++] = gks_new[a++] = arena_strdup(&e.arena, gk);
			if (r->objs[i].namespace &&
			    strcmp(r->objs[i].namespace, e.ns) != 0)
				nss[nns_new++] = nss_new[b++] = r->objs[i].namespace;
		}
		if (write_parent(&e, join_sorted(&e, gks, ngk_new, NULL),
		    join_sorted(&e, nss, nns_new, e.ns), err) < 0) {
			free(gks_new);
			free(nss_new);
			goto done;
		}
		for (i = 0; i < p.n; i++)
			if (run_wave(&e, &p.waves[i], err) < 0) {
				free(gks_new);
				free(nss_new);
				goto done;
			}
		if (o->prune) {
			size_t nkept = 0;

			nss[nns_new++] = e.ns;
			if (prune(&e, gks, ngk_new, nss, nns_new, gks_new + a,
			    nss_new + b, &nkept, maxv - (a > b ? a : b) - 1,
			    err) < 0) {
				free(gks_new);
				free(nss_new);
				goto done;
			}
			a += nkept;
			b += nkept;
			/* Pruned: the parent lists the new set and what was kept. */
			if (write_parent(&e, join_sorted(&e, gks_new, a, NULL),
			    join_sorted(&e, nss_new, b, e.ns), err) < 0) {
				free(gks_new);
				free(nss_new);
				goto done;
			}
		}
		free(gks_new);
		free(nss_new);
	}
	ret = 0;
done:
	http_client_stats(k->http, &hs);
	st->requests = hs.requests;
	st->connections = hs.connections;
	st->http2 = hs.http2;
	st->seconds = now_s() - t0;
	free(gks);
	free(nss);
	plan_release(&p);
	watchset_release(&e.ws);
	arena_release(&e.arena);
	return ret;
}

int
apply_status(struct kube_client *k, struct rendered *r,
    struct comp_status *out, struct s7_error *err)
{
	struct engine e;
	struct member *ms = NULL;
	struct gate_state *gs = NULL;
	size_t i, j, gi, ng = 0;
	int ret = -1;

	memset(&e, 0, sizeof(e));
	e.k = k;
	e.r = r;
	arena_init(&e.arena);
	watchset_init(&e.ws, k);
	e.ws.list_only = 1;
	e.since_ms = http_now_ms();
	if (kube_discover(k, 0, err) < 0)
		goto done;
	ms = xcalloc(r->nobjs + 1, sizeof(*ms));
	for (i = 0; i < r->ncomps; i++)
		ng += r->comps[i].c->ngates;
	gs = xcalloc(ng + 1, sizeof(*gs));
	ng = 0;
	e.prog.comps = xcalloc(r->ncomps + 1, sizeof(*e.prog.comps));
	e.prog.n = r->ncomps;
	for (i = 0; i < r->nobjs; i++) {
		ms[i].ro = &r->objs[i];
		ms[i].comp = r->objs[i].comp;
		ms[i].res = kube_find(k, ms[i].ro->api_version, ms[i].ro->kind);
		if (ms[i].res) {
			ms[i].ns = ms[i].res->namespaced ? ms[i].ro->namespace : NULL;
			watchset_add(&e.ws, ms[i].res, ms[i].ns);
		}
	}
	for (i = 0; i < r->ncomps; i++)
		if (r->comps[i].enabled)
			ng = collect_gates(&e, r->comps[i].c, i, gs, ng, NULL);
	if (wait_listed(&e, err) < 0)
		goto done;
	for (i = 0; i < r->ncomps; i++) {
		struct comp_status *cs = &out[i];
		const struct rcomponent *rc = &r->comps[i];

		memset(cs, 0, sizeof(*cs));
		cs->name = rc->c->name;
		cs->phase = rc->c->phase;
		cs->enabled = rc->enabled;
		cs->objects = rc->nobj;
		cs->state = KS_CURRENT;
		if (!rc->enabled)
			continue;
		for (j = rc->first; j < rc->first + rc->nobj; j++) {
			struct member *m = &ms[j];
			char why[300];
			enum kstatus s;

			if (m->res == NULL) {
				if (cs->state == KS_CURRENT)
					snprintf(cs->why, sizeof(cs->why),
					    "%.60s (%.60s) is not served", m->ro->kind,
					    m->ro->api_version);
				cs->state = KS_IN_PROGRESS;
				continue;
			}
			if (watchset_get(&e.ws, m->res, m->ns, m->ro->name) == NULL) {
				if (cs->state == KS_CURRENT)
					snprintf(cs->why, sizeof(cs->why),
					    "%.90s: missing", member_name(&e, m));
				cs->state = KS_IN_PROGRESS;
				continue;
			}
			cs->present++;
			s = member_status(&e, m, why, sizeof(why));
			if (s == KS_CURRENT)
				continue;
			if (s == KS_FAILED || cs->state == KS_CURRENT) {
				snprintf(cs->why, sizeof(cs->why), "%.90s: %.200s",
				    member_name(&e, m), why);
				cs->state = s == KS_FAILED ? KS_FAILED :
				    KS_IN_PROGRESS;
			}
		}
		for (gi = 0; gi < ng; gi++) {
			char why[300];

			if (gs[gi].comp != i)
				continue;
			if (gate_status(&e, &gs[gi], why, sizeof(why)) !=
			    KS_CURRENT && cs->state == KS_CURRENT) {
				cs->state = KS_IN_PROGRESS;
				snprintf(cs->why, sizeof(cs->why), "%s", why);
			}
		}
		if (cs->present == 0 && rc->nobj &&
		    strstr(cs->why, "is not served") == NULL) {
			cs->state = KS_NOT_FOUND;
			snprintf(cs->why, sizeof(cs->why), "none of its %zu objects exist",
			    rc->nobj);
		}
	}
	ret = 0;
done:
	free(ms);
	free(gs);
	free(e.prog.comps);
	watchset_release(&e.ws);
	arena_release(&e.arena);
	return ret;
}

/* What is the server's, not ours: dropped before comparing. */
/* apiVersion, kind and metadata first, as objects are usually written. */
static struct ynode *
ordered(struct arena *a, const struct ynode *obj)
{
	static const char *const first[] = { "apiVersion", "kind", "metadata" };
	struct ynode *out = ynode_map(a);
	size_t i;

	for (i = 0; i < 3; i++)
		if (ynode_get(obj, first[i]))
			ynode_map_set(a, out, first[i], ynode_get(obj, first[i]));
	for (i = 0; i < obj->n; i++) {
		const char *k = obj->v[2 * i]->str;

		if (strcmp(k, "apiVersion") && strcmp(k, "kind") &&
		    strcmp(k, "metadata"))
			ynode_map_append(a, out, obj->v[2 * i], obj->v[2 * i + 1]);
	}
	return out;
}

static void
normalise(struct arena *a, struct ynode *obj)
{
	static const char *const meta_noise[] = {
		"managedFields", "resourceVersion", "uid", "creationTimestamp",
		"generation", "selfLink", NULL,
	};
	struct ynode *meta = ynode_get(obj, "metadata");
	size_t i;

	for (i = 0; meta_noise[i]; i++)
		ynode_map_del(meta, meta_noise[i]);
	ynode_map_del(obj, "status");
	/* Secret values never appear in a diff: a hash stands for each. */
	if (ynode_get_str(obj, "kind") &&
	    strcmp(ynode_get_str(obj, "kind"), "Secret") == 0) {
		const char *keys[] = { "data", "stringData" };
		size_t k;

		for (k = 0; k < 2; k++) {
			struct ynode *d = ynode_get(obj, keys[k]);

			for (i = 0; d && d->kind == Y_MAP && i < d->n; i++) {
				char sum[SHA256_HEXLEN];
				const struct ynode *v = d->v[2 * i + 1];

				sha256_hex(v->str ? v->str : "", v->len, sum);
				d->v[2 * i + 1] = ynode_strf(a, "(sha256 %.16s)", sum);
			}
		}
	}
}

static void
dry_done(struct http_req *r)
{
	(void)r;
}

int
apply_diff(struct kube_client *k, struct rendered *r,
    const struct apply_opts *o, const struct site *s, struct strbuf *out,
    struct strbuf *notes, size_t *changed, struct s7_error *err)
{
	struct engine e;
	struct apply_stats st;
	struct plan p;
	struct member *ms = NULL;
	size_t i, j, n = 0;
	int ret = -1;

	memset(&e, 0, sizeof(e));
	memset(&p, 0, sizeof(p));
	e.k = k;
	e.r = r;
	e.s = s;
	e.o = o;
	apply_stats_init(&st);
	e.st = &st;		/* for report() */
	arena_init(&e.arena);
	watchset_init(&e.ws, k);
	e.ws.list_only = 1;
	e.ns = s->name;
	e.since_ms = http_now_ms();
	applyset_id(e.ns, e.ns, e.id);
	*changed = 0;
	if (plan_make(&p, r, o->phase, o->only, err) < 0 ||
	    kube_discover(k, 0, err) < 0)
		goto done;
	ms = xcalloc(r->nobjs + 1, sizeof(*ms));
	for (i = 0; i < p.n; i++)
		for (j = 0; j < p.waves[i].n; j++) {
			const struct rcomponent *rc = &r->comps[p.waves[i].comps[j]];
			size_t x;

			for (x = rc->first; x < rc->first + rc->nobj; x++) {
				struct member *m = &ms[n++];

				m->ro = &r->objs[x];
				strbuf_init(&m->body, STRBUF_LARGE);
				http_req_init(&m->req);
				m->res = kube_find(k, m->ro->api_version, m->ro->kind);
				m->ns = m->res && m->res->namespaced ?
				    m->ro->namespace : NULL;
				if (m->res)
					watchset_add(&e.ws, m->res, m->ns);
				if (prepare(&e, m, err) < 0)
					goto done;
			}
		}
	if (wait_listed(&e, err) < 0)
		goto done;
	/* Every dry run at once, over the one connection. */
	for (i = 0; i < n; i++) {
		struct s7_error serr;

		if (ms[i].res && submit_apply(&e, &ms[i], 1, dry_done, &serr) == 0)
			ms[i].sent = 1;
	}
	for (;;) {
		int busy = 0;

		for (i = 0; i < n; i++)
			if (ms[i].sent && !ms[i].req.done)
				busy = 1;
		if (!busy)
			break;
		http_run(k->http, TICK_MS);
	}
	for (i = 0; i < n; i++) {
		struct member *m = &ms[i];
		const struct ynode *live = m->res ? watchset_get(&e.ws, m->res,
		    m->ns, m->ro->name) : NULL;
		struct ynode *after = NULL, *before = NULL;
		struct strbuf ya, yb;
		struct s7_error perr;
		const char *name = member_name(&e, m);
		char *la, *lb;

		strbuf_init(&ya, STRBUF_LARGE);
		strbuf_init(&yb, STRBUF_LARGE);
		if (m->sent && m->req.status >= 200 && m->req.status < 300)
			json_parse(&e.arena, "dry run", m->req.body_out.buf,
			    m->req.body_out.len, &after, &perr);
		else if (m->sent && live && replaceable(m))
			report(&e, "%s: would be replaced (a Job's pod template "
			    "cannot change)", name);
		else if (m->sent && live) {
			/* An existing object the server refuses: say why. */
			kube_req_error(&m->req, name, &perr);
			report(&e, "%s", perr.msg);
			s7_error_class(err, S7_ECLUSTER, "%s", perr.msg);
		}
		if (after == NULL)	/* not served yet, or new: ours as is */
			json_parse(&e.arena, "desired", m->body.buf, m->body.len,
			    &after, &perr);
		if (live)
			before = ynode_copy(&e.arena, live);
		if (after)
			normalise(&e.arena, after);
		if (before)
			normalise(&e.arena, before);
		if (before && after && ynode_equal(before, after)) {
			strbuf_release(&ya);
			strbuf_release(&yb);
			continue;
		}
		if (before)
			yaml_emit(&ya, ordered(&e.arena, before), 0, &perr);
		if (after)
			yaml_emit(&yb, ordered(&e.arena, after), 0, &perr);
		la = xasprintf("live/%s", name);
		lb = xasprintf("sector7/%s", name);
		if (diff_unified(out, ya.buf, yb.buf, la, lb, 3))
			(*changed)++;
		free(la);
		free(lb);
		strbuf_release(&ya);
		strbuf_release(&yb);
	}
	ret = err->msg[0] ? -1 : 0;
done:
	strbuf_add(notes, st.report.buf, st.report.len);
	apply_stats_release(&st);
	for (i = 0; i < n; i++) {
		if (ms[i].sent && !ms[i].req.done)
			http_cancel(k->http, &ms[i].req);
		http_req_release(&ms[i].req);
		strbuf_release(&ms[i].body);
	}
	free(ms);
	plan_release(&p);
	watchset_release(&e.ws);
	arena_release(&e.arena);
	return ret;
}
