/*
 * rollout_diff: what apply would change.  An object whose live copy is
 * already up to date (our config hash, every field we set) is one apply
 * would not send, so it is not sent here either; every other object goes
 * to the API server as a server-side dry run, and its result is compared
 * with the live object, both without the server's bookkeeping.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "../json/json.h"
#include "../util/diff.h"
#include "../util/xmalloc.h"
#include "../yaml/yaml.h"
#include "../util/banned.h"

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

/* What is the server's, not ours: dropped before comparing. */
static void
normalise(struct arena *a, struct ynode *obj)
{
	static const char *const meta_noise[] = {
		"managedFields", "resourceVersion", "uid", "creationTimestamp",
		"generation", "selfLink", NULL,
	};
	struct ynode *meta = ynode_get(obj, "metadata");
	size_t i, k;

	for (i = 0; meta_noise[i]; i++)
		ynode_map_del(meta, meta_noise[i]);
	ynode_map_del(obj, "status");
	if (ynode_get_str(obj, "kind") == NULL ||
	    strcmp(ynode_get_str(obj, "kind"), "Secret") != 0)
		return;
	/* Secret values never appear in a diff: a hash stands for each. */
	for (k = 0; k < 2; k++) {
		struct ynode *d = ynode_get(obj, k ? "stringData" : "data");

		for (i = 0; d && d->kind == Y_MAP && i < d->n; i++) {
			char sum[SHA256_HEXLEN];
			const struct ynode *v = d->v[2 * i + 1];

			sha256_hex(v->str ? v->str : "", v->len, sum);
			d->v[2 * i + 1] = ynode_strf(a, "(sha256 %.16s)", sum);
		}
	}
}

static void
dry_done(struct http_req *r)
{
	(void)r;
}

/* Appends the diff of one member; 1 when it differs. */
static int
diff_one(struct engine *e, struct member *m, struct strbuf *out,
    struct s7_error *err)
{
	const struct ynode *live = member_live(e, m);
	struct ynode *after = NULL, *before = NULL;
	struct strbuf ya, yb;
	struct s7_error perr;
	const char *name = member_name(e, m);
	char *la, *lb;
	int changed = 0;

	if (m->sent && m->req.status >= 200 && m->req.status < 300)
		json_parse(&e->arena, "dry run", m->req.body_out.buf,
		    m->req.body_out.len, &after, &perr);
	else if (m->sent && live && member_replaceable(m))
		engine_event(e, RE_WOULD_REPLACE, m, NULL, NULL);
	else if (m->sent && live) {
		/* An existing object the server refuses: say why. */
		kube_req_error(&m->req, name, &perr);
		engine_event(e, RE_FAILED, m, NULL, perr.msg);
		s7_error_class(err, S7_ECLUSTER, "%s", perr.msg);
	}
	if (after == NULL)	/* not served yet, or new: ours as is */
		after = member_desired(e, m, &e->arena, &perr);
	if (live)
		before = ynode_copy(&e->arena, live);
	if (after)
		normalise(&e->arena, after);
	if (before)
		normalise(&e->arena, before);
	if (before && after && ynode_equal(before, after))
		return 0;
	strbuf_init(&ya, STRBUF_OBJECT);
	strbuf_init(&yb, STRBUF_OBJECT);
	if ((before && yaml_emit(&ya, ordered(&e->arena, before), 0, &perr) < 0) ||
	    (after && yaml_emit(&yb, ordered(&e->arena, after), 0, &perr) < 0)) {
		strbuf_release(&ya);
		strbuf_release(&yb);
		s7_error(err, "%s: %s", name, perr.msg);
		return 0;
	}
	la = xasprintf("live/%s", name);
	lb = xasprintf("sector7/%s", name);
	changed = diff_unified(out, ya.buf, yb.buf, la, lb, 3) != 0;
	free(la);
	free(lb);
	strbuf_release(&ya);
	strbuf_release(&yb);
	return changed;
}

int
rollout_diff(struct kube_client *k, struct rendered *r, const struct plan *p,
    const struct rollout_opts *o, struct strbuf *out, struct rollout_stats *st,
    struct s7_error *err)
{
	struct engine e;
	struct member *ms = NULL;
	struct member **sent = NULL;
	size_t i, j, n = 0, nsent = 0;
	int ret = -1;

	engine_init(&e, k, r, o, st, 1);
	if (kube_discover(k, 0, err) < 0)
		goto done;
	ms = xcalloc(r->nobjs + 1, sizeof(*ms));
	sent = xcalloc(r->nobjs + 1, sizeof(*sent));
	for (i = 0; i < p->n; i++)
		for (j = 0; j < p->waves[i].n; j++) {
			const struct rcomponent *rc = &r->comps[p->waves[i].comps[j]];
			size_t x;

			for (x = rc->first; x < rc->first + rc->nobj; x++) {
				struct member *m = &ms[n++];

				member_init(m, &r->objs[x], p->waves[i].comps[j]);
				m->res = kube_find(k, m->ro->api_version, m->ro->kind);
				m->ns = m->res && m->res->namespaced ?
				    m->ro->namespace : NULL;
				if (member_prepare(&e, m, err) < 0)
					goto done;
			}
		}
	st->objects = n;
	/* Each live object is compared as it comes, and kept only if it
	 * differs: the diff needs nothing of the others. */
	e.drop_fresh = 1;
	{
		struct member **idx = xcalloc(n + 1, sizeof(*idx));

		for (i = 0; i < n; i++)
			idx[i] = &ms[i];
		engine_index(&e, idx, n);
		free(idx);
	}
	for (i = 0; i < n; i++)
		if (ms[i].res)
			watchset_add(&e.ws, ms[i].res, ms[i].ns);
	if (engine_wait_listed(&e, err) < 0)
		goto done;
	/* Every dry run at once, over the one connection. */
	for (i = 0; i < n; i++) {
		struct s7_error serr;

		if (ms[i].fresh) {
			ms[i].current = 1;
			st->unchanged++;
			continue;
		}
		if (ms[i].res && member_submit(&e, &ms[i], 1, dry_done,
		    &serr) == 0) {
			ms[i].sent = 1;
			sent[nsent++] = &ms[i];
		}
	}
	if (members_wait_sent(&e, sent, nsent, err) < 0)
		goto done;
	s7_error_clear(err);
	for (i = 0; i < n; i++)
		if (!ms[i].current)
			st->changed += (size_t)diff_one(&e, &ms[i], out, err);
	if (out->overflow)
		s7_error(err, "the diff is larger than %zu bytes: narrow it with --phase or --only",
		    out->max);
	ret = err->msg[0] ? -1 : 0;
done:
	engine_unindex(&e);
	for (i = 0; i < n; i++)
		member_release(&e, &ms[i]);
	free(ms);
	free(sent);
	engine_release(&e);
	return ret;
}
