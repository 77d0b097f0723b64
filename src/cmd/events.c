/*
 * How the rollout engine's events read: one line each, on stderr, in the
 * words apply, diff and secrets share.  Values from the cluster are
 * escaped (they may hold control characters) and cut.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "events.h"
#include "output.h"
#include "../util/banned.h"

#define SHOWN_MAX 512

static void
put(FILE *fp, const char *s)
{
	out_escaped(fp, s ? s : "", s ? strlen(s) : 0, SHOWN_MAX, 0);
}

static void
object(FILE *fp, const struct rollout_event *ev)
{
	put(fp, ev->kind);
	fputc(' ', fp);
	if (ev->namespace) {
		put(fp, ev->namespace);
		fputc('/', fp);
	}
	put(fp, ev->name);
}

static void
prefix(FILE *fp, const struct rollout_event *ev)
{
	if (ev->component) {
		put(fp, ev->component);
		fputs(": ", fp);
	}
}

void
event_print(FILE *fp, const struct rollout_event *ev)
{
	switch (ev->type) {
	case RE_CREATED:
	case RE_CHANGED:
		prefix(fp, ev);
		fputs(ev->type == RE_CREATED ? "created " : "changed ", fp);
		object(fp, ev);
		break;
	case RE_REPLACED:
		prefix(fp, ev);
		fputs("replaced ", fp);
		object(fp, ev);
		fputs(" (a Job's pod template cannot change)", fp);
		break;
	case RE_WOULD_REPLACE:
		prefix(fp, ev);
		object(fp, ev);
		fputs(": would be replaced (a Job's pod template cannot change)",
		    fp);
		break;
	case RE_NUDGED:
		prefix(fp, ev);
		fputs("CustomResourceDefinition ", fp);
		put(fp, ev->name);
		fputs(" was stuck installing; touched it", fp);
		break;
	case RE_PRUNED:
		fputs("pruned ", fp);
		object(fp, ev);
		break;
	case RE_KEPT:
		fputs("kept ", fp);
		object(fp, ev);
		fputs(" (data; --prune-data deletes it)", fp);
		break;
	case RE_FAILED:
	case RE_NOT_READY:
		prefix(fp, ev);
		if (ev->kind) {
			object(fp, ev);
			fputs(": ", fp);
		}
		put(fp, ev->detail);
		break;
	case RE_POD:
		fputs("    pod ", fp);
		put(fp, ev->key);
		fputs(": ", fp);
		put(fp, ev->detail);
		break;
	case RE_NO_PODS:
		fputs("    no pods", fp);
		break;
	case RE_EVENT:
		fputs("    event ", fp);
		put(fp, ev->key);
		fputs(": ", fp);
		put(fp, ev->detail);
		break;
	case RE_SECRET_CREATED:
	case RE_SECRET_ADDED:
	case RE_SECRET_UPDATED:
		fputs(ev->type == RE_SECRET_CREATED ? "created " :
		    ev->type == RE_SECRET_ADDED ? "added " : "updated ", fp);
		put(fp, ev->namespace);
		fputc('/', fp);
		put(fp, ev->name);
		fputc(' ', fp);
		put(fp, ev->key);
		fprintf(fp, " (sha256 %s)", ev->detail ? ev->detail : "");
		if (ev->from) {
			fputs(", the hash of ", fp);
			put(fp, ev->from);
			if (ev->type == RE_SECRET_UPDATED)
				fputs(" as it is now", fp);
		}
		break;
	case RE_SECRET_COPIED:
	case RE_SECRET_SYNCED:
		fputs(ev->type == RE_SECRET_COPIED ? "copied " : "synced ", fp);
		put(fp, ev->namespace);
		fputc('/', fp);
		put(fp, ev->name);
		fputs(" from ", fp);
		put(fp, ev->from);
		break;
	}
	fputc('\n', fp);
}

static const char *const names[] = {
	[RE_CREATED] = "created", [RE_CHANGED] = "changed",
	[RE_REPLACED] = "replaced", [RE_WOULD_REPLACE] = "would-replace",
	[RE_NUDGED] = "nudged", [RE_PRUNED] = "pruned", [RE_KEPT] = "kept",
	[RE_FAILED] = "failed", [RE_NOT_READY] = "not-ready", [RE_POD] = "pod",
	[RE_NO_PODS] = "no-pods", [RE_EVENT] = "event",
	[RE_SECRET_CREATED] = "secret-created",
	[RE_SECRET_ADDED] = "secret-added",
	[RE_SECRET_UPDATED] = "secret-updated",
	[RE_SECRET_COPIED] = "secret-copied",
	[RE_SECRET_SYNCED] = "secret-synced",
};

void
event_json(const struct rollout_event *ev)
{
	out_open_object(NULL);
	out_string(OUT_JSON, "event", NULL, names[ev->type]);
	if (ev->component)
		out_string(OUT_JSON, "component", NULL, ev->component);
	if (ev->kind)
		out_string(OUT_JSON, "kind", NULL, ev->kind);
	if (ev->namespace)
		out_string(OUT_JSON, "namespace", NULL, ev->namespace);
	if (ev->name)
		out_string(OUT_JSON, "name", NULL, ev->name);
	if (ev->key)
		out_string(OUT_JSON, "key", NULL, ev->key);
	if (ev->from)
		out_string(OUT_JSON, "from", NULL, ev->from);
	if (ev->detail)
		out_string(OUT_JSON, "detail", NULL, ev->detail);
	out_close_object();
}

void
events_init(struct events *evs)
{
	memset(evs, 0, sizeof(*evs));
	arena_init(&evs->arena);
}

void
events_release(struct events *evs)
{
	arena_release(&evs->arena);
	memset(evs, 0, sizeof(*evs));
}

static const char *
dup(struct arena *a, const char *s)
{
	return s ? arena_strdup(a, s) : NULL;
}

void
events_keep(void *arg, const struct rollout_event *ev)
{
	struct events *evs = arg;
	struct rollout_event *c;

	if (evs->n == evs->alloc) {
		struct rollout_event *v;

		evs->alloc = evs->alloc ? 2 * evs->alloc : 32;
		v = arena_array(&evs->arena, evs->alloc, sizeof(*v));
		if (evs->n)
			memcpy(v, evs->v, evs->n * sizeof(*v));
		evs->v = v;
	}
	c = &evs->v[evs->n++];
	c->type = ev->type;
	c->component = dup(&evs->arena, ev->component);
	c->kind = dup(&evs->arena, ev->kind);
	c->namespace = dup(&evs->arena, ev->namespace);
	c->name = dup(&evs->arena, ev->name);
	c->key = dup(&evs->arena, ev->key);
	c->from = dup(&evs->arena, ev->from);
	c->detail = dup(&evs->arena, ev->detail);
	if (evs->echo)
		event_print(stderr, ev);
}

void
events_json(const struct events *evs, const char *key)
{
	size_t i;

	out_open_array(key);
	for (i = 0; i < evs->n; i++)
		event_json(&evs->v[i]);
	out_close_array();
}
