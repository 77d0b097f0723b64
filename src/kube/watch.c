/*
 * Each watch is a small state machine driven by its request's completion
 * callback: LIST -> WATCH -> (server closes) WATCH -> ... -> (410) LIST.
 * Every restart goes through restart(), which applies the backoff; the
 * client's deadline bounds the whole.
 *
 * An event is parsed into a scratch arena, its object packed into a
 * block of its own and the arena dropped: what stays is exactly one
 * copy of each object.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "watch.h"
#include "../json/json.h"
#include "../util/text.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

#define WATCH_TIMEOUT_S 240
#define WATCH_LINE_MAX ((size_t)64 * 1024 * 1024)
#define WATCH_LINE_KEEP ((size_t)1024 * 1024)

static void issue(struct watch *w);

void
watchset_init(struct watchset *ws, struct kube_client *k)
{
	memset(ws, 0, sizeof(*ws));
	ws->k = k;
}

/* Frees the copies replaced since the last watchset_start. */
static void
free_retired(struct watchset *ws)
{
	size_t i;

	for (i = 0; i < ws->nretired; i++)
		ynode_pack_free(ws->retired[i].obj, ws->retired[i].bytes,
		    ws->retired[i].wipe);
	ws->nretired = 0;
	ws->retired_bytes = 0;
}

/*
 * A copy the caller may still hold waits for the next watchset_start;
 * past WATCH_RETIRED_MAX (a busy watch with nobody calling
 * watchset_start) the waiting ones go first.
 */
static void
retire(struct watch *w, struct ynode *obj, size_t bytes)
{
	struct watchset *ws = w->ws;

	if (ws->retired_bytes + bytes > WATCH_RETIRED_MAX)
		free_retired(ws);
	ALLOC_GROW(ws->retired, ws->nretired + 1, ws->aretired);
	ws->retired[ws->nretired].obj = obj;
	ws->retired[ws->nretired].bytes = bytes;
	ws->retired[ws->nretired].wipe = w->secret;
	ws->nretired++;
	ws->retired_bytes += bytes;
}

static void
drop_items(struct watch *w)
{
	size_t i;

	for (i = 0; i < w->nitems; i++) {
		w->ws->objects--;
		w->ws->bytes -= w->items[i].bytes;
		retire(w, w->items[i].obj, w->items[i].bytes);
	}
	w->nitems = 0;
	if (w->index)
		memset(w->index, 0, w->nslots * sizeof(*w->index));
}

/* w's request is over (answered or stopped). */
static void
not_busy(struct watch *w)
{
	w->busy = 0;
	if (w->listing) {
		w->listing = 0;
		w->ws->listing--;
	}
}

static void
watch_free(struct watchset *ws, struct watch *w)
{
	if (w->busy) {
		http_cancel(ws->k->http, &w->req);
		not_busy(w);
	}
	http_req_release(&w->req);
	if (w->secret)
		strbuf_release_secret(&w->line);
	else
		strbuf_release(&w->line);
	drop_items(w);
	free(w->items);
	free(w->index);
	free(w->cont);
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
			not_busy(ws->w[i]);
		}
}

/* Starts the LISTs that waited for room on the wire. */
static void
next_lists(struct watchset *ws)
{
	long long now = http_now_ms();
	size_t i;

	for (i = 0; i < ws->n && ws->listing < WATCH_LISTS_AT_ONCE; i++) {
		struct watch *w = ws->w[i];

		if (!w->busy && w->want_list && w->retry_at <= now &&
		    !(ws->list_only && w->listed))
			issue(w);
	}
}

void
watchset_release(struct watchset *ws)
{
	size_t i;

	for (i = 0; i < ws->n; i++)
		watch_free(ws, ws->w[i]);
	free_retired(ws);
	free(ws->retired);
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
		    (ns && w->namespace && strcmp(ns, w->namespace) == 0))) {
			w->held = 0;	/* watched from the next start */
			return w;
		}
	}
	w = xcalloc(1, sizeof(*w));
	w->res = r;
	w->namespace = ns ? xstrdup(ns) : NULL;
	w->ws = ws;
	w->want_list = 1;
	w->backoff_ms = WATCH_BACKOFF_FIRST_MS;
	w->secret = r->group[0] == '\0' && strcmp(r->resource, "secrets") == 0;
	http_req_init(&w->req);
	strbuf_init(&w->line, WATCH_LINE_MAX);
	ALLOC_GROW(ws->w, ws->n + 1, ws->alloc);
	ws->w[ws->n++] = w;
	return w;
}

struct watch *
watchset_prefetch(struct watchset *ws, const struct kube_resource *r,
    const char *ns)
{
	size_t n = ws->n;
	struct watch *w = watchset_add(ws, r, ns);

	if (ws->n > n)
		w->held = 1;	/* new: listed only */
	return w;
}

void
watchset_hold(struct watch *w)
{
	if (w->held)
		return;
	w->held = 1;
	if (w->busy && !w->listing) {
		/* a stream: stop it; the next one resumes from w->rv */
		http_cancel(w->ws->k->http, &w->req);
		http_req_release(&w->req);
		strbuf_reset(&w->line);
		w->busy = 0;
	}
}

/* ---- items, by a hash of namespace and name ---- */

static size_t
item_hash(const char *ns, const char *name)
{
	uint64_t h = 1469598103934665603ULL;
	const char *p;

	for (p = ns; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = (h ^ '/') * 1099511628211ULL;
	for (p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return (size_t)h;
}

/* The slot holding (ns, name), or the empty slot where it would go. */
static size_t
slot_of(const struct watch *w, const char *ns, const char *name)
{
	size_t mask = w->nslots - 1, i;

	for (i = item_hash(ns, name) & mask; w->index[i]; i = (i + 1) & mask) {
		const struct watch_item *it = &w->items[w->index[i] - 1];

		if (strcmp(it->name, name) == 0 && strcmp(it->namespace, ns) == 0)
			break;
	}
	return i;
}

static void
index_grow(struct watch *w)
{
	size_t i;

	if (2 * (w->nitems + 1) <= w->nslots)
		return;
	free(w->index);
	w->nslots = w->nslots ? 2 * w->nslots : 64;
	while (2 * (w->nitems + 1) > w->nslots)
		w->nslots *= 2;
	w->index = xcalloc(w->nslots, sizeof(*w->index));
	for (i = 0; i < w->nitems; i++)
		w->index[slot_of(w, w->items[i].namespace, w->items[i].name)] =
		    i + 1;
}

static struct watch_item *
find_item(const struct watch *w, const char *ns, const char *name)
{
	size_t s;

	if (w->nslots == 0)
		return NULL;
	s = slot_of(w, ns ? ns : "", name);
	return w->index[s] ? &w->items[w->index[s] - 1] : NULL;
}

/* Removes the item in slot s (linear probing: later entries move up). */
static void
remove_slot(struct watch *w, size_t s)
{
	size_t mask = w->nslots - 1, j = s, pos = w->index[s] - 1, last;
	struct watch_item *it = &w->items[pos];

	w->ws->objects--;
	w->ws->bytes -= it->bytes;
	retire(w, it->obj, it->bytes);
	w->index[s] = 0;
	for (;;) {
		size_t k;

		j = (j + 1) & mask;
		if (w->index[j] == 0)
			break;
		k = item_hash(w->items[w->index[j] - 1].namespace,
		    w->items[w->index[j] - 1].name) & mask;
		/* Moves up unless its home lies cyclically in (s, j]. */
		if ((s < j && (k <= s || k > j)) || (s > j && k <= s && k > j)) {
			w->index[s] = w->index[j];
			w->index[j] = 0;
			s = j;
		}
	}
	last = --w->nitems;
	if (pos != last) {
		w->items[pos] = w->items[last];
		w->index[slot_of(w, w->items[pos].namespace,
		    w->items[pos].name)] = pos + 1;
	}
}

static void
set_rv(struct watch *w, const char *rv)
{
	if (rv && *rv && strlen(rv) < sizeof(w->rv))
		snprintf(w->rv, sizeof(w->rv), "%s", rv);
}

/* Keeps obj (from a scratch arena) as the latest copy, or deletes it. */
static void
put(struct watch *w, struct ynode *obj, int deleted)
{
	const struct ynode *meta = ynode_get_map(obj, "metadata");
	const char *name = ynode_get_string(meta, "name");
	const char *ns = ynode_get_string(meta, "namespace");
	struct watch_item *it;
	struct ynode *packed;
	size_t s, bytes;

	if (obj->kind != Y_MAP || name == NULL || *name == '\0')
		return;
	set_rv(w, ynode_get_string(meta, "resourceVersion"));
	if (ns == NULL)
		ns = "";
	index_grow(w);
	s = slot_of(w, ns, name);
	if (deleted || (w->ws->seen && w->ws->seen(w->ws->seen_arg, w, obj))) {
		if (w->index[s]) {
			remove_slot(w, s);
			w->ws->changed = 1;
		}
		return;
	}
	packed = ynode_pack(obj, &bytes);
	meta = ynode_get_map(packed, "metadata");
	if (w->index[s]) {
		it = &w->items[w->index[s] - 1];
		w->ws->bytes -= it->bytes;
		retire(w, it->obj, it->bytes);
	} else {
		ALLOC_GROW(w->items, w->nitems + 1, w->aitems);
		it = &w->items[w->nitems++];
		w->index[s] = w->nitems;
		w->ws->objects++;
	}
	it->obj = packed;
	it->bytes = bytes;
	it->name = ynode_get_string(meta, "name");
	it->namespace = ynode_get_string(meta, "namespace");
	if (it->namespace == NULL)
		it->namespace = "";
	w->ws->bytes += bytes;
	w->ws->changed = 1;
}

/* A list's items carry no kind; give them the resource's. */
static void
stamp(struct watch *w, struct arena *a, struct ynode *obj)
{
	if (ynode_get(obj, "kind") == NULL) {
		const struct kube_resource *r = w->res;

		ynode_map_set(a, obj, "kind", ynode_str(a, r->kind));
		ynode_map_set(a, obj, "apiVersion", r->group[0] ?
		    ynode_strf(a, "%s/%s", r->group, r->version) :
		    ynode_str(a, r->version));
	}
}

static void
drop_scratch(struct watch *w, struct arena *a, struct ynode *root)
{
	if (w->secret)
		ynode_wipe(root);
	arena_release(a);
}

int
watch_load_list(struct watch *w, const char *buf, size_t len,
    struct s7_error *err)
{
	struct arena a;
	struct ynode *list = NULL;
	const struct ynode *items;
	size_t i;

	arena_init(&a);
	if (json_parse(&a, "list", buf, len, &list, err) < 0) {
		drop_scratch(w, &a, list);
		return -1;
	}
	items = ynode_get(list, "items");
	if (list->kind != Y_MAP || (items && !(items->kind == Y_SEQ ||
	    (items->kind == Y_SCALAR && items->type == YT_NULL)))) {
		drop_scratch(w, &a, list);
		return s7_error(err, "the list is not an object with a list of items");
	}
	/* A fresh list replaces everything; its next pages add. */
	if (w->cont == NULL)
		drop_items(w);
	free(w->cont);
	w->cont = NULL;
	w->rv[0] = '\0';
	for (i = 0; items && items->kind == Y_SEQ && i < items->n; i++) {
		if (items->v[i]->kind != Y_MAP)
			continue;
		stamp(w, &a, items->v[i]);
		put(w, items->v[i], 0);
	}
	w->rv[0] = '\0';
	set_rv(w, ynode_get_string(ynode_get_map(list, "metadata"),
	    "resourceVersion"));
	{
		const char *c = ynode_get_string(ynode_get_map(list, "metadata"),
		    "continue");

		if (c && *c && strlen(c) < 8192)
			w->cont = xstrdup(c);
	}
	drop_scratch(w, &a, list);
	return 0;
}

/*
 * When the next request of w may go: at once after a healthy stream, or
 * after the backoff, which doubles each time nothing came.
 */
static void
restart(struct watch *w, int healthy)
{
	long long now = http_now_ms();

	if (healthy) {
		w->backoff_ms = WATCH_BACKOFF_FIRST_MS;
		w->retry_at = 0;
		issue(w);
		return;
	}
	w->retry_at = now + w->backoff_ms;
	/* Watches failing together (a server going away) start again one
	 * at a time, not all at once each round of their backoff. */
	if (w->retry_at < w->ws->next_restart_ms)
		w->retry_at = w->ws->next_restart_ms;
	w->ws->next_restart_ms = w->retry_at + WATCH_RESTART_GAP_MS;
	w->backoff_ms *= 2;
	if (w->backoff_ms > WATCH_BACKOFF_MAX_MS)
		w->backoff_ms = WATCH_BACKOFF_MAX_MS;
}

static void
list_answer(struct http_req *r)
{
	struct watch *w = r->arg;
	struct s7_error err;

	not_busy(w);
	w->ws->lists++;
	if (r->transport_error || r->status != 200) {
		kube_req_error(r, "list", &err);
		snprintf(w->error, sizeof(w->error), "%s", err.msg);
		free(w->cont);		/* an expired token too: from the start */
		w->cont = NULL;
		restart(w, 0);
		return;
	}
	if (watch_load_list(w, r->body_out.buf, r->body_out.len, &err) < 0) {
		snprintf(w->error, sizeof(w->error), "list: %.900s", err.msg);
		http_req_release(&w->req);
		free(w->cont);
		w->cont = NULL;
		restart(w, 0);
		return;
	}
	http_req_release(&w->req);	/* the body is not needed any more */
	if (w->cont) {
		issue(w);		/* the next page */
		return;
	}
	w->listed = 1;
	w->want_list = 0;
	w->error[0] = '\0';
	w->ws->changed = 1;
	if (!w->ws->list_only && !w->held)
		issue(w);
}

static void
list_done(struct http_req *r)
{
	struct watch *w = r->arg;

	list_answer(r);
	next_lists(w->ws);
}

static int
on_event(struct watch *w, const char *line, size_t len)
{
	struct arena a;
	struct ynode *ev = NULL;
	struct ynode *obj;
	struct s7_error err;
	const char *type;
	int stop = 0;

	arena_init(&a);
	if (json_parse(&a, "watch", line, len, &ev, &err) < 0) {
		snprintf(w->error, sizeof(w->error), "watch: %.900s", err.msg);
		goto done;
	}
	type = ynode_get_string(ev, "type");
	obj = ynode_get(ev, "object");	/* the scratch arena's: ours */
	if (type == NULL || obj == NULL || obj->kind != Y_MAP)
		goto done;
	if (strcmp(type, "ERROR") == 0) {
		const struct ynode *code = ynode_get(obj, "code");
		const char *msg = ynode_get_string(obj, "message");
		char shown[TEXT_SHOW_MAX * 2];

		if (code && code->kind == Y_SCALAR && code->type == YT_INT &&
		    strcmp(code->str, "410") == 0)
			w->want_list = 1;	/* stop this stream: LIST again */
		else
			snprintf(w->error, sizeof(w->error), "watch: %s",
			    msg ? text_escape_buf(shown, sizeof(shown), msg,
			    strlen(msg), TEXT_SHOW_MAX) : "an error event");
		stop = 1;
		goto done;
	}
	if (strcmp(type, "BOOKMARK") == 0) {
		set_rv(w, ynode_get_string(ynode_get_map(obj, "metadata"),
		    "resourceVersion"));
	} else if (strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0 ||
	    strcmp(type, "DELETED") == 0) {
		put(w, obj, type[0] == 'D');
	} else {
		goto done;
	}
	w->ws->events++;
	w->stream_events++;
done:
	drop_scratch(w, &a, ev);
	return stop;
}

int
watch_feed(struct watch *w, const char *data, size_t len)
{
	size_t start = 0, i;
	int stop = 0;

	for (i = 0; i < len && !stop; i++) {
		if (data[i] != '\n')
			continue;
		if (strbuf_add(&w->line, data + start, i - start) < 0)
			return 1;
		start = i + 1;
		if (w->line.len)
			stop = on_event(w, w->line.buf, w->line.len);
		if (w->secret)
			explicit_bzero(w->line.buf, w->line.len);
		strbuf_reset(&w->line);
	}
	if (!stop && start < len &&
	    strbuf_add(&w->line, data + start, len - start) < 0)
		return 1;	/* one event larger than WATCH_LINE_MAX */
	if (w->line.len == 0 && w->line.alloc > WATCH_LINE_KEEP) {
		/* A huge event is over: give its room back. */
		if (w->secret)
			strbuf_release_secret(&w->line);
		else
			strbuf_release(&w->line);
	}
	return stop;
}

static int
watch_chunk(struct http_req *r, const char *data, size_t len)
{
	return watch_feed(r->arg, data, len);
}

static void
watch_done(struct http_req *r)
{
	struct watch *w = r->arg;
	struct s7_error err;
	int healthy = w->stream_events > 0 ||
	    http_now_ms() - w->stream_start >= WATCH_HEALTHY_MS;

	w->busy = 0;
	if (w->secret)
		strbuf_release_secret(&w->line);
	else
		strbuf_reset(&w->line);
	if (r->status == 410)
		w->want_list = 1;
	if (r->transport_error || (r->status != 200 && r->status != 410)) {
		kube_req_error(r, "watch", &err);
		snprintf(w->error, sizeof(w->error), "%s", err.msg);
	}
	w->rewatches++;
	if (w->want_list)
		w->relists++;
	restart(w, healthy && !r->transport_error && r->status == 200);
}

static void
issue(struct watch *w)
{
	struct kube_client *k = w->ws->k;
	struct s7_error err;
	struct arena a;
	const char *path;

	if (w->busy || (w->want_list && w->ws->listing >= WATCH_LISTS_AT_ONCE))
		return;		/* a LIST waits for room: next_lists */
	arena_init(&a);
	path = kube_path(&a, w->res, w->namespace, NULL);
	http_req_release(&w->req);
	w->req.method = "GET";
	w->req.arg = w;
	w->req.secret = w->secret;
	if (w->want_list) {
		int page = strcmp(w->res->group, "apiextensions.k8s.io") == 0 &&
		    strcmp(w->res->resource, "customresourcedefinitions") == 0 ?
		    WATCH_PAGE_CRD : WATCH_PAGE;

		if (w->cont) {
			struct strbuf c;

			strbuf_init(&c, 16384);
			text_url_escape(&c, w->cont);
			http_req_url(k->http, &w->req, "%s?limit=%d&continue=%s",
			    path, page, c.buf);
			strbuf_release(&c);
		} else
			http_req_url(k->http, &w->req, "%s?limit=%d", path, page);
		w->req.timeout_ms = 60000;
		w->req.on_done = list_done;
	} else {
		struct strbuf rv;

		strbuf_init(&rv, 256);
		text_url_escape(&rv, w->rv);
		http_req_url(k->http, &w->req,
		    "%s?watch=1&allowWatchBookmarks=true&timeoutSeconds=%d&resourceVersion=%s",
		    path, WATCH_TIMEOUT_S, rv.buf);
		strbuf_release(&rv);
		w->req.timeout_ms = 0;
		w->req.on_chunk = watch_chunk;
		w->req.on_done = watch_done;
		w->stream_start = http_now_ms();
		w->stream_events = 0;
	}
	arena_release(&a);
	w->restarts++;
	w->ws->requests++;
	if (http_submit(k->http, &w->req, &err) < 0) {
		snprintf(w->error, sizeof(w->error), "%s", err.msg);
		restart(w, 0);
		return;
	}
	w->busy = 1;
	if (w->want_list) {
		w->listing = 1;
		w->ws->listing++;
	}
}

void
watchset_start(struct watchset *ws)
{
	long long now = http_now_ms();
	size_t i;

	free_retired(ws);	/* what callers held until now */
	if (ws->k == NULL || kube_expired(ws->k))
		return;		/* nothing may start after the deadline */
	for (i = 0; i < ws->n; i++) {
		struct watch *w = ws->w[i];

		if ((ws->list_only || w->held) && w->listed)
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

	if (name == NULL)
		return NULL;
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
