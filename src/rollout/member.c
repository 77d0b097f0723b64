/*
 * One rendered object on its way to the cluster: its config hash, whether
 * the live object already holds what we would send (the object with the
 * ApplySet label and the hash), and its server-side apply request, whose
 * body is written only when it is sent.
 */
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "../json/json.h"
#include "../util/banned.h"

#define APPLY_TIMEOUT_MS 60000

void
member_init(struct member *m, struct robject *ro, size_t comp)
{
	memset(m, 0, sizeof(*m));
	m->ro = ro;
	m->comp = comp;
	strbuf_init(&m->body, STRBUF_OBJECT);
	http_req_init(&m->req);
}

void
member_release(struct engine *e, struct member *m)
{
	if (m->sent && !m->req.done)
		http_cancel(e->k->http, &m->req);
	http_req_release(&m->req);
	strbuf_release(&m->body);
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
 * scalars compare as text, want's as JSON writes it (a YAML 0555 is 365),
 * so 80 and "80" in different encodings of the same value agree.
 */
int
rollout_subset(const struct ynode *want, const struct ynode *have)
{
	size_t i;

	if (have == NULL)
		return empty(want);
	if (want->kind == Y_SCALAR) {
		char buf[64];
		const char *w;
		size_t wlen;

		if (want->type == YT_NULL)
			return 1;
		/* want is rendered YAML, have what the server sent (JSON) */
		w = json_scalar_text(want, buf, sizeof(buf), &wlen);
		return have->kind == Y_SCALAR && wlen == have->len &&
		    memcmp(w, have->str, wlen) == 0;
	}
	if (want->kind != have->kind)
		return empty(want) && empty(have);
	if (want->kind == Y_SEQ) {
		if (want->n != have->n)
			return 0;
		for (i = 0; i < want->n; i++)
			if (!rollout_subset(want->v[i], have->v[i]))
				return 0;
		return 1;
	}
	for (i = 0; i < want->n; i++) {
		const struct ynode *hv = ynode_get(have, want->v[2 * i]->str);

		if (!rollout_subset(want->v[2 * i + 1], hv))
			return 0;
	}
	return 1;
}

int
member_step(const struct member *m)
{
	if (strcmp(m->ro->kind, "Namespace") == 0 ||
	    strcmp(m->ro->kind, "CustomResourceDefinition") == 0)
		return STEP_FOUNDATION;
	if (m->ro->rank == 99)
		return STEP_CUSTOM;
	return STEP_BUILTIN;
}

int
member_resolve(struct engine *e, struct member *m, struct s7_error *err)
{
	const char *comp = e->r->comps[m->ro->comp].c->name;

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
		    "%s: %s (%s) is not served by this cluster%s", comp,
		    m->ro->kind, m->ro->api_version,
		    strcmp(m->ro->api_version, "helm.cattle.io/v1") == 0 ?
		    ": sector7 expects k3s, whose helm-controller serves it" : "");
	m->ns = m->res->namespaced ? m->ro->namespace : NULL;
	if (m->res->namespaced && m->ns == NULL)
		return s7_error_class(err, S7_EINPUT,
		    "%s: %s '%s' has no namespace", comp, m->ro->kind,
		    m->ro->name);
	return 0;
}

/* What discovery must list once a CRD is established: its served kinds. */
static void
crd_versions(struct engine *e, struct member *m, const struct ynode *crd)
{
	const struct ynode *spec = ynode_get(crd, "spec");
	const struct ynode *vs = ynode_get(spec, "versions");
	const char *group = ynode_get_str(spec, "group");
	const char *kind = ynode_get_str(ynode_get(spec, "names"), "kind");
	size_t i, n = 0;

	if (group == NULL || kind == NULL || vs == NULL || vs->kind != Y_SEQ)
		return;
	m->crd_kind = arena_strdup(&e->arena, kind);
	m->crd_served = arena_array(&e->arena, vs->n + 1,
	    sizeof(*m->crd_served));
	for (i = 0; i < vs->n; i++) {
		const char *v = ynode_get_str(vs->v[i], "name");

		if (v && ynode_truthy(ynode_get(vs->v[i], "served")))
			m->crd_served[n++] = arena_printf(&e->arena, "%s/%s",
			    group, v);
	}
	m->ncrd_served = n;
}

/*
 * The object as we send it, in a: its tree with the labels every member
 * carries and, when hashed, our config hash.  Built again each time it is
 * needed (a CRD's is large; hundreds are held at once otherwise).
 */
static struct ynode *
desired(struct engine *e, const struct member *m, struct arena *a, int hashed,
    struct s7_error *err)
{
	struct ynode *obj, *meta, *labels, *ann;

	if (m->ro->obj)
		obj = ynode_copy(a, m->ro->obj);
	else if (robject_tree(m->ro, a, (const struct ynode **)&obj, err) < 0)
		return NULL;	/* a fresh tree of its own: ours to change */
	meta = ynode_get(obj, "metadata");
	if (m->res && !m->res->namespaced)
		ynode_map_del(meta, "namespace");
	labels = ynode_get(meta, "labels");
	if (labels == NULL || labels->kind != Y_MAP) {
		labels = ynode_map(a);
		ynode_map_set(a, meta, "labels", labels);
	}
	ynode_map_set(a, labels, APPLYSET_PART_OF, ynode_str(a, e->id));
	if (!hashed)
		return obj;
	ann = ynode_get(meta, "annotations");
	if (ann == NULL || ann->kind != Y_MAP) {
		ann = ynode_map(a);
		ynode_map_set(a, meta, "annotations", ann);
	}
	ynode_map_set(a, ann, CONFIG_HASH, ynode_strf(a, "%.20s", m->hash));
	return obj;
}

/* The config hash: sha256 of the object as sent, but for the hash. */
int
member_prepare(struct engine *e, struct member *m, struct s7_error *err)
{
	struct arena a;
	struct ynode *obj;
	struct strbuf canon;
	int ret = -1;

	if (m->prepared)
		return 0;
	arena_init(&a);
	strbuf_init(&canon, STRBUF_OBJECT);
	if ((obj = desired(e, m, &a, 0, err)) == NULL)
		goto done;
	if (strcmp(m->ro->kind, "CustomResourceDefinition") == 0)
		crd_versions(e, m, obj);
	if (json_emit(&canon, obj, 0, err) < 0)
		goto done;
	sha256_hex(canon.buf, canon.len, m->hash);
	m->prepared = 1;
	ret = 0;
done:
	strbuf_release(&canon);
	arena_release(&a);
	return ret;
}

struct ynode *
member_desired(struct engine *e, const struct member *m, struct arena *a,
    struct s7_error *err)
{
	return desired(e, m, a, 1, err);
}

void
member_settle(struct member *m)
{
	if (m->settled || m->sent)
		return;
	strbuf_release(&m->body);
	m->settled = 1;
}

/* Whether the live object already holds everything we would send. */
int
member_up_to_date(struct engine *e, const struct member *m,
    const struct ynode *live)
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
	/* the hash annotation is checked above: the rest is compared */
	ok = (want = desired(e, m, &a, 0, &err)) != NULL;
	if (ok && strcmp(m->ro->kind, "Secret") == 0)
		ynode_map_del(want, "stringData");	/* write-only */
	ok = ok && rollout_subset(want, live);
	arena_release(&a);
	return ok;
}

const char *
member_name(struct engine *e, const struct member *m)
{
	return m->ns ? arena_printf(&e->arena, "%s %s/%s", m->ro->kind, m->ns,
	    m->ro->name) : arena_printf(&e->arena, "%s %s", m->ro->kind,
	    m->ro->name);
}

const struct ynode *
member_live(struct engine *e, const struct member *m)
{
	return m->res ? watchset_get(&e->ws, m->res, m->ns, m->ro->name) :
	    NULL;
}

/*
 * Whether the server refused m's apply only because it would change a
 * Job's pod template, which cannot change once the Job exists.  A Job of
 * ours is a one-off task (pulling a model, say) whose new template is
 * meant to run: it is deleted and created again.  Other kinds with
 * fields that cannot change (a Deployment's selector, a PVC's class)
 * stay refused: recreating them loses pods or data.
 */
int
member_replaceable(const struct member *m)
{
	const struct http_req *r = &m->req;

	return !r->transport_error && r->status == 422 &&
	    strcmp(m->ro->kind, "Job") == 0 && m->res &&
	    strcmp(m->res->group, "batch") == 0 && r->body_out.buf &&
	    strstr(r->body_out.buf, "spec.template") &&
	    strstr(r->body_out.buf, "field is immutable");
}

int
member_submit(struct engine *e, struct member *m, int dry, http_done_fn done,
    struct s7_error *err)
{
	struct arena a;

	arena_init(&a);
	http_req_release(&m->req);
	m->req.method = "PATCH";
	http_req_url(e->k->http, &m->req, "%s?fieldManager=" FIELD_MANAGER
	    "&force=true%s", kube_path(&a, m->res, m->ns, m->ro->name),
	    dry ? "&dryRun=All" : "");
	if (m->body.len == 0) {
		struct ynode *obj = desired(e, m, &a, 1, err);

		if (obj == NULL || json_emit(&m->body, obj, 0, err) < 0) {
			arena_release(&a);
			return -1;
		}
	}
	arena_release(&a);
	m->req.content_type = "application/apply-patch+yaml";
	m->req.body = m->body.buf;
	m->req.body_len = m->body.len;
	m->req.timeout_ms = APPLY_TIMEOUT_MS;
	m->req.on_done = done;
	m->req.arg = m;
	return http_submit(e->k->http, &m->req, err);
}

int
members_wait_sent(struct engine *e, struct member **ms, size_t n,
    struct s7_error *err)
{
	size_t i;

	for (;;) {
		int busy = 0;

		for (i = 0; i < n; i++)
			if (ms[i]->sent && !ms[i]->req.done)
				busy = 1;
		if (!busy)
			return 0;
		if (engine_lost(e, err) < 0) {
			/* What is still queued would only wait out its budget. */
			for (i = 0; i < n; i++)
				if (ms[i]->sent && !ms[i]->req.done) {
					http_cancel(e->k->http, &ms[i]->req);
					ms[i]->sent = 0;
					ms[i]->failed = 1;
					snprintf(ms[i]->error, sizeof(ms[i]->error),
					    "not answered: %.900s", err->msg);
				}
			return -1;
		}
		engine_pump(e, TICK_MS);
		engine_tick(e, 0);
	}
}
