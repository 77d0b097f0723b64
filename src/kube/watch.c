/*
 * Each watch is a small state machine driven by its request's completion
 * callback: LIST -> WATCH -> (server closes) WATCH -> ... -> (410) LIST.
 * Transport failures back off and try again; the apply engine's timeout
 * bounds the whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "watch.h"
#include "../json/json.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

#define WATCH_TIMEOUT_S 240
#define WATCH_LINE_MAX ((size_t)64 * 1024 * 1024)
#define WATCH_RETRY_MS 1000

static void issue(struct watch *w);

void
watchset_init(struct watchset *ws, struct kube_client *k)
{
	memset(ws, 0, sizeof(*ws));
	ws->k = k;
}

static void
watch_free(struct watchset *ws, struct watch *w)
{
	if (w->busy)
		http_cancel(ws->k->http, &w->req);
	http_req_release(&w->req);
	strbuf_release(&w->line);
	arena_release(&w->arena);
	free(w->items);
	free((char *)w->namespace);
	free(w);
}

void
watchset_stop(struct watchset *ws)
{
	size_t i;

	for (i = 0; i < ws->n; i++)
		if (ws->w[i]->busy) {
			http_cancel(ws->k->http, &ws->w[i]->req);
			ws->w[i]->busy = 0;
		}
}

void
watchset_release(struct watchset *ws)
{
	size_t i;

	for (i = 0; i < ws->n; i++)
		watch_free(ws, ws->w[i]);
	free(ws->w);
	memset(ws, 0, sizeof(*ws));
}

struct watch *
watchset_add(struct watchset *ws, const struct kube_resource *r,
    const char *ns)
{
	struct watch *w;
	size_t i;

	if (!r->namespaced)
		ns = NULL;
	for (i = 0; i < ws->n; i++) {
		w = ws->w[i];
		if (w->res == r && ((ns == NULL && w->namespace == NULL) ||
		    (ns && w->namespace && strcmp(ns, w->namespace) == 0)))
			return w;
	}
	w = xcalloc(1, sizeof(*w));
	arena_init(&w->arena);
	w->res = r;
	w->namespace = ns ? xstrdup(ns) : NULL;
	w->ws = ws;
	w->want_list = 1;
	http_req_init(&w->req);
	strbuf_init(&w->line, WATCH_LINE_MAX);
	ALLOC_GROW(ws->w, ws->n + 1, ws->alloc);
	ws->w[ws->n++] = w;
	return w;
}

static struct watch_item *
find_item(struct watch *w, const char *ns, const char *name)
{
	size_t i;

	for (i = 0; i < w->nitems; i++)
		if (strcmp(w->items[i].name, name) == 0 &&
		    strcmp(w->items[i].namespace, ns ? ns : "") == 0)
			return &w->items[i];
	return NULL;
}

static void
put(struct watch *w, struct ynode *obj, int deleted)
{
	const struct ynode *meta = ynode_get(obj, "metadata");
	const char *name = ynode_get_str(meta, "name");
	const char *ns = ynode_get_str(meta, "namespace");
	const char *rv = ynode_get_str(meta, "resourceVersion");
	struct watch_item *it;

	if (name == NULL)
		return;
	if (rv)
		snprintf(w->rv, sizeof(w->rv), "%s", rv);
	it = find_item(w, ns, name);
	if (deleted) {
		if (it) {
			*it = w->items[--w->nitems];
			w->ws->changed = 1;
		}
		return;
	}
	if (it == NULL) {
		ALLOC_GROW(w->items, w->nitems + 1, w->aitems);
		it = &w->items[w->nitems++];
		it->namespace = arena_strdup(&w->arena, ns ? ns : "");
		it->name = arena_strdup(&w->arena, name);
	}
	it->obj = obj;
	w->ws->changed = 1;
}

/* A list's items carry no kind; give them the resource's. */
static void
stamp(struct watch *w, struct ynode *obj)
{
	if (ynode_get(obj, "kind") == NULL) {
		const struct kube_resource *r = w->res;

		ynode_map_set(&w->arena, obj, "kind", ynode_str(&w->arena,
		    r->kind));
		ynode_map_set(&w->arena, obj, "apiVersion", r->group[0] ?
		    ynode_strf(&w->arena, "%s/%s", r->group, r->version) :
		    ynode_str(&w->arena, r->version));
	}
}

static void
list_done(struct http_req *r)
{
	struct watch *w = r->arg;
	struct ynode *list, *items;
	struct s7_error err;
	size_t i;

	w->busy = 0;
	w->ws->lists++;
	if (r->transport_error || r->status != 200) {
		kube_req_error(r, "list", &err);
		snprintf(w->error, sizeof(w->error), "%s", err.msg);
		w->retry_at = http_now_ms() + WATCH_RETRY_MS;
		return;
	}
	/* A fresh list replaces everything: start a new arena. */
	arena_release(&w->arena);
	arena_init(&w->arena);
	w->nitems = 0;
	if (json_parse(&w->arena, "list", r->body_out.buf, r->body_out.len,
	    &list, &err) < 0) {
		snprintf(w->error, sizeof(w->error), "%s", err.msg);
		w->retry_at = http_now_ms() + WATCH_RETRY_MS;
		return;
	}
	items = ynode_get(list, "items");
	for (i = 0; items && i < items->n; i++) {
		stamp(w, items->v[i]);
		put(w, items->v[i], 0);
	}
	snprintf(w->rv, sizeof(w->rv), "%s",
	    ynode_get_str(ynode_get(list, "metadata"), "resourceVersion") ?
	    ynode_get_str(ynode_get(list, "metadata"), "resourceVersion") : "");
	w->listed = 1;
	w->want_list = 0;
	w->error[0] = '\0';
	w->ws->changed = 1;
	if (!w->ws->list_only)
		issue(w);
}

static int
on_event(struct watch *w, const char *line, size_t len)
{
	struct ynode *ev, *obj;
	struct s7_error err;
	const char *type;

	if (json_parse(&w->arena, "watch", line, len, &ev, &err) < 0) {
		snprintf(w->error, sizeof(w->error), "%s", err.msg);
		return 0;
	}
	type = ynode_get_str(ev, "type");
	obj = ynode_get(ev, "object");
	if (type == NULL || obj == NULL)
		return 0;
	w->ws->events++;
	if (strcmp(type, "ERROR") == 0) {
		const char *code = ynode_get_str(obj, "code");

		if (code && strcmp(code, "410") == 0) {
			w->want_list = 1;
			return 1;	/* stop this stream: LIST again */
		}
		snprintf(w->error, sizeof(w->error), "%s",
		    ynode_get_str(obj, "message") ? ynode_get_str(obj, "message") :
		    "watch error");
		return 1;
	}
	if (strcmp(type, "BOOKMARK") == 0) {
		const char *rv = ynode_get_str(ynode_get(obj, "metadata"),
		    "resourceVersion");

		if (rv)
			snprintf(w->rv, sizeof(w->rv), "%s", rv);
		return 0;
	}
	put(w, obj, strcmp(type, "DELETED") == 0);
	return 0;
}

static int
watch_chunk(struct http_req *r, const char *data, size_t len)
{
	struct watch *w = r->arg;
	size_t start = 0, i;

	for (i = 0; i < len; i++) {
		if (data[i] != '\n')
			continue;
		strbuf_add(&w->line, data + start, i - start);
		start = i + 1;
		if (w->line.len && on_event(w, w->line.buf, w->line.len))
			return 1;
		strbuf_reset(&w->line);
	}
	if (start < len && strbuf_add(&w->line, data + start, len - start) < 0)
		return 1;
	return 0;
}

static void
watch_done(struct http_req *r)
{
	struct watch *w = r->arg;

	w->busy = 0;
	strbuf_reset(&w->line);
	if (r->status == 410)
		w->want_list = 1;
	if (r->transport_error) {
		snprintf(w->error, sizeof(w->error), "watch: %s", r->errmsg);
		w->retry_at = http_now_ms() + WATCH_RETRY_MS;
		return;
	}
	w->rewatches++;
	if (w->want_list)
		w->relists++;
	issue(w);
}

static void
issue(struct watch *w)
{
	struct kube_client *k = w->ws->k;
	struct s7_error err;
	struct arena a;
	const char *path;

	if (w->busy)
		return;
	arena_init(&a);
	path = kube_path(&a, w->res, w->namespace, NULL);
	http_req_release(&w->req);
	w->req.method = "GET";
	w->req.arg = w;
	if (w->want_list) {
		http_req_url(k->http, &w->req, "%s?limit=0", path);
		w->req.timeout_ms = 60000;
		w->req.on_done = list_done;
	} else {
		http_req_url(k->http, &w->req,
		    "%s?watch=1&allowWatchBookmarks=true&timeoutSeconds=%d&resourceVersion=%s",
		    path, WATCH_TIMEOUT_S, w->rv);
		w->req.timeout_ms = 0;
		w->req.on_chunk = watch_chunk;
		w->req.on_done = watch_done;
	}
	arena_release(&a);
	if (http_submit(k->http, &w->req, &err) < 0) {
		snprintf(w->error, sizeof(w->error), "%s", err.msg);
		w->retry_at = http_now_ms() + WATCH_RETRY_MS;
		return;
	}
	w->busy = 1;
}

void
watchset_start(struct watchset *ws)
{
	long long now = http_now_ms();
	size_t i;

	for (i = 0; i < ws->n; i++) {
		struct watch *w = ws->w[i];

		if (ws->list_only && w->listed)
			continue;
		if (!w->busy && w->retry_at <= now) {
			w->retry_at = 0;
			issue(w);
		}
	}
}

int
watchset_listed(const struct watchset *ws)
{
	size_t i;

	for (i = 0; i < ws->n; i++)
		if (!ws->w[i]->listed)
			return 0;
	return 1;
}

const struct ynode *
watchset_get(struct watchset *ws, const struct kube_resource *r,
    const char *ns, const char *name)
{
	size_t i;

	for (i = 0; i < ws->n; i++) {
		struct watch *w = ws->w[i];
		struct watch_item *it;

		if (w->res != r)
			continue;
		if (r->namespaced && (w->namespace == NULL || ns == NULL ||
		    strcmp(w->namespace, ns) != 0))
			continue;
		it = find_item(w, r->namespaced ? ns : NULL, name);
		if (it)
			return it->obj;
	}
	return NULL;
}
