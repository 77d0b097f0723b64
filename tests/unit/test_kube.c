/*
 * The Kubernetes client's handling of what servers send: discovery
 * documents with missing or mistyped fields (one crashed sector7), many
 * resources (merging was quadratic), watch events and lists (objects
 * replaced, not piled up; hostile events ignored), readiness reasons,
 * and the watches' backoff against a scripted server
 * (tests/http/server.py) that closes every watch at once, answers 410 or
 * 500, or streams events as fast as it can.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "httpd.h"
#include "kube/client.h"
#include "kube/kstatus.h"
#include "kube/watch.h"
#include "json/json.h"
#include "util/strbuf.h"

static struct kube_client *
bare_client(void)
{
	struct kube_client *k = calloc(1, sizeof(*k));

	arena_init(&k->arena);
	kubeconfig_init(&k->kc);
	return k;
}

static int
parse(struct kube_client *k, const char *doc)
{
	struct s7_error err;

	s7_error_clear(&err);
	return kube_discovery_parse(k, doc, strlen(doc), "t", &err);
}

#define HEAD "{\"kind\":\"APIGroupDiscoveryList\",\"items\":["
#define GOOD "{\"metadata\":{\"name\":\"apps\"},\"versions\":[{\"version\":\"v1\",\"resources\":[{\"resource\":\"deployments\",\"responseKind\":{\"kind\":\"Deployment\"},\"scope\":\"Namespaced\"}]}]}"

/*
 * Each entry misses a field or has one of the wrong type: none may crash
 * (a version entry without "version" did), each is left out, and the
 * good entry next to it still counts.
 */
static void
discovery_hostile(void)
{
	static const char *const bad[] = {
		"{\"metadata\":{\"name\":\"x\"},\"versions\":[{\"resources\":[{\"resource\":\"r\",\"responseKind\":{\"kind\":\"R\"},\"scope\":\"Cluster\"}]}]}",
		"{\"metadata\":{\"name\":\"x\"},\"versions\":[{\"version\":1,\"resources\":[{\"resource\":\"r\",\"responseKind\":{\"kind\":\"R\"},\"scope\":\"Cluster\"}]}]}",
		"{\"metadata\":{\"name\":\"x\"},\"versions\":[{\"version\":null,\"resources\":[]}]}",
		"{\"metadata\":{\"name\":\"x\"},\"versions\":[{\"version\":\"v1\",\"resources\":{\"resource\":\"r\"}}]}",
		"{\"metadata\":{\"name\":\"x\"},\"versions\":[{\"version\":\"v1\",\"resources\":[{\"resource\":\"r\",\"scope\":\"Cluster\"}]}]}",
		"{\"metadata\":{\"name\":\"x\"},\"versions\":[{\"version\":\"v1\",\"resources\":[{\"resource\":\"r\",\"responseKind\":\"R\",\"scope\":\"Cluster\"}]}]}",
		"{\"metadata\":{\"name\":\"x\"},\"versions\":[{\"version\":\"v1\",\"resources\":[{\"resource\":\"r\",\"responseKind\":{\"kind\":7},\"scope\":\"Cluster\"}]}]}",
		"{\"metadata\":{\"name\":\"x\"},\"versions\":[{\"version\":\"v1\",\"resources\":[{\"resource\":\"r\",\"responseKind\":{\"kind\":\"R\"}}]}]}",
		"{\"metadata\":{\"name\":\"x\"},\"versions\":[{\"version\":\"v1\",\"resources\":[{\"resource\":\"r\",\"responseKind\":{\"kind\":\"R\"},\"scope\":\"Galaxy\"}]}]}",
		"{\"metadata\":{\"name\":\"x\"},\"versions\":[{\"version\":\"v1\",\"resources\":[{\"resource\":null,\"responseKind\":{\"kind\":\"R\"},\"scope\":\"Cluster\"}]}]}",
		"{\"metadata\":{\"name\":\"x\"},\"versions\":[{\"version\":\"v1\",\"resources\":[{\"resource\":\"../../r\",\"responseKind\":{\"kind\":\"R\"},\"scope\":\"Cluster\"}]}]}",
		"{\"metadata\":{\"name\":\"x\"},\"versions\":[{\"version\":\"v1?x=1\",\"resources\":[{\"resource\":\"r\",\"responseKind\":{\"kind\":\"R\"},\"scope\":\"Cluster\"}]}]}",
		"{\"metadata\":{\"name\":5},\"versions\":[{\"version\":\"v1\",\"resources\":[]}]}",
		"{\"metadata\":[],\"versions\":[]}",
		"{\"metadata\":{\"name\":\"x\"},\"versions\":\"v1\"}",
		"{\"metadata\":{\"name\":\"x\"}}",
		"[]", "null", "\"x\"", "{}",
		"{\"metadata\":{\"name\":\"x\"},\"versions\":[7,null,[],\"v\"]}",
		"{\"metadata\":{\"name\":\"x\"},\"versions\":[{\"version\":\"v1\",\"resources\":[1,null,\"s\",[]]}]}",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct kube_client *k = bare_client();
		struct strbuf doc;

		strbuf_init(&doc, 65536);
		strbuf_addf(&doc, HEAD "%s," GOOD "]}", bad[i]);
		CHECK(parse(k, doc.buf) == 0);
		CHECK(k->nres == 1 && k->discovery_skipped >= 1);
		CHECK(kube_find(k, "apps/v1", "Deployment") != NULL);
		CHECK(kube_find(k, "x/v1", "R") == NULL);
		strbuf_release(&doc);
		kube_close(k);
	}
	/* the document itself */
	{
		static const char *const docs[] = {
			"{\"kind\":\"APIGroupDiscoveryList\",\"items\":{}}",
			"{\"kind\":\"APIGroupDiscoveryList\",\"items\":\"x\"}",
			"{\"kind\":5}", "[]", "7", "{\"items\":[]}", "not json",
		};
		struct kube_client *k = bare_client();

		for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
			CHECK(parse(k, docs[i]) < 0);
		CHECK(parse(k, "{\"kind\":\"APIGroupDiscoveryList\",\"items\":null}") == 0);
		CHECK(parse(k, "{\"kind\":\"APIGroupDiscoveryList\"}") == 0);
		CHECK(k->nres == 0);
		kube_close(k);
	}
	/* the core group has no name; the first version is preferred */
	{
		struct kube_client *k = bare_client();
		const struct kube_resource *r;

		CHECK(parse(k, HEAD "{\"metadata\":{},\"versions\":[{\"version\":\"v1\",\"resources\":[{\"resource\":\"secrets\",\"responseKind\":{\"kind\":\"Secret\"},\"scope\":\"Namespaced\"}]}]},"
		    "{\"versions\":[{\"version\":\"v2\",\"resources\":[{\"resource\":\"things\",\"responseKind\":{\"kind\":\"Thing\"},\"scope\":\"Cluster\"}]},{\"version\":\"v1\",\"resources\":[{\"resource\":\"things\",\"responseKind\":{\"kind\":\"Thing\"},\"scope\":\"Cluster\"}]}]}]}") == 0);
		r = kube_find(k, "v1", "Secret");
		CHECK(r && r->namespaced && strcmp(r->resource, "secrets") == 0);
		r = kube_find(k, "v2", "Thing");
		CHECK(r && r->preferred && !r->namespaced);
		r = kube_find(k, "v1", "Thing");
		CHECK(r && !r->preferred);
		kube_close(k);
	}
	/* verbs: the ones we use, read by type */
	{
		struct kube_client *k = bare_client();
		const struct kube_resource *r;

		CHECK(parse(k, HEAD "{\"metadata\":{\"name\":\"g\"},\"versions\":[{\"version\":\"v1\",\"resources\":["
		    "{\"resource\":\"as\",\"responseKind\":{\"kind\":\"A\"},\"scope\":\"Cluster\",\"verbs\":[\"get\",\"list\",\"patch\"]},"
		    "{\"resource\":\"bs\",\"responseKind\":{\"kind\":\"B\"},\"scope\":\"Cluster\",\"verbs\":[7,{\"x\":1},\"watch\",\"delete\"]},"
		    "{\"resource\":\"cs\",\"responseKind\":{\"kind\":\"C\"},\"scope\":\"Cluster\",\"verbs\":\"list\"}]}]}]}") == 0);
		r = kube_find(k, "g/v1", "A");
		CHECK(r && r->verbs == (KUBE_VERB_LIST | KUBE_VERB_PATCH));
		r = kube_find(k, "g/v1", "B");
		CHECK(r && r->verbs == (KUBE_VERB_WATCH | KUBE_VERB_DELETE));
		r = kube_find(k, "g/v1", "C");
		CHECK(r && r->verbs == 0);
		kube_close(k);
	}
}

static double
since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Seconds to merge (twice: the second is a refresh) n resources. */
static double
merge_time(size_t n, int *ok)
{
	struct kube_client *k = bare_client();
	struct strbuf doc;
	struct timespec t0;
	size_t i, used, found = 0;
	char kind[64];
	double t;

	strbuf_init(&doc, STRBUF_LARGE);
	strbuf_addstr(&doc, HEAD "{\"metadata\":{\"name\":\"big.example.com\"},\"versions\":[{\"version\":\"v1\",\"resources\":[");
	for (i = 0; i < n; i++)
		strbuf_addf(&doc, "%s{\"resource\":\"r%zu\",\"responseKind\":{\"kind\":\"K%zu\"},\"scope\":\"Namespaced\"}",
		    i ? "," : "", i, i);
	strbuf_addstr(&doc, "]}]}]}");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	*ok = parse(k, doc.buf) == 0;
	for (i = 0; i < n; i++) {
		snprintf(kind, sizeof(kind), "K%zu", i);
		found += kube_find(k, "big.example.com/v1", kind) != NULL;
	}
	used = k->arena.used;
	*ok = *ok && parse(k, doc.buf) == 0;
	t = since(&t0);
	/* a refresh of the same document adds nothing, not even memory */
	*ok = *ok && found == n && k->nres == n && k->arena.used == used;
	strbuf_release(&doc);
	kube_close(k);
	return t;
}

/*
 * Merging and lookups are hashed: four times the resources take about
 * four times as long (the linear merge took sixteen times as long).
 */
static void
discovery_many(void)
{
	double small = 1e9, large = 1e9, t;
	int ok, i;

	for (i = 0; i < 2; i++) {
		t = merge_time(20000, &ok);
		CHECK(ok);
		small = t < small ? t : small;
		t = merge_time(80000, &ok);
		CHECK(ok);
		large = t < large ? t : large;
	}
	printf("  kube: discovery of 20,000 resources %.2fs, of 80,000 %.2fs\n",
	    small, large);
	CHECK(large / small < 10);
}

static const struct kube_resource cms = {
	"", "v1", "ConfigMap", "configmaps", 1, 1, KUBE_VERB_LIST | KUBE_VERB_WATCH,
};

static const char *
data_n(struct watchset *ws, const char *name)
{
	const struct ynode *o = watchset_get(ws, &cms, "ns", name);

	return o ? ynode_get_string(ynode_get_map(o, "data"), "n") : NULL;
}

/*
 * A busy watch keeps one copy of each object: 20,000 changes to one
 * ConfigMap leave one object of a few hundred bytes (they piled up in
 * an arena until the next LIST).
 */
static void
watch_memory(void)
{
	struct watchset ws;
	struct watch *w;
	struct strbuf ev;
	struct s7_error err;
	size_t i;
	const char *list = "{\"kind\":\"ConfigMapList\",\"metadata\":{\"resourceVersion\":\"10\"},"
	    "\"items\":[{\"metadata\":{\"name\":\"a\",\"namespace\":\"ns\",\"resourceVersion\":\"9\"},\"data\":{\"n\":\"0\"}}]}";

	watchset_init(&ws, NULL);
	w = watchset_add(&ws, &cms, "ns");
	CHECK(watch_load_list(w, list, strlen(list), &err) == 0);
	CHECK_STR(w->rv, "10");
	CHECK_STR(data_n(&ws, "a"), "0");
	/* a list item gets its kind */
	CHECK_STR(ynode_get_string(watchset_get(&ws, &cms, "ns", "a"), "kind"),
	    "ConfigMap");
	/*
	 * A copy handed out stays valid until the next watchset_start,
	 * even when a newer one arrives (ASan would catch a read of freed
	 * memory here).
	 */
	{
		const struct ynode *held = watchset_get(&ws, &cms, "ns", "a");
		const char *e = "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"a\",\"namespace\":\"ns\"},\"data\":{\"n\":\"new\"}}}\n";

		CHECK(watch_feed(w, e, strlen(e)) == 0);
		CHECK_STR(ynode_get_string(ynode_get_map(held, "data"), "n"), "0");
		CHECK_STR(data_n(&ws, "a"), "new");
		CHECK(ws.nretired == 1);
		watchset_start(&ws);
		CHECK(ws.nretired == 0 && ws.retired_bytes == 0);
	}
	strbuf_init(&ev, STRBUF_LARGE);
	for (i = 1; i <= 20000; i++)
		strbuf_addf(&ev, "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"a\",\"namespace\":\"ns\",\"resourceVersion\":\"%zu\"},\"data\":{\"n\":\"%zu\",\"pad\":\"%0200d\"}}}\n",
		    10 + i, i, 0);
	CHECK(watch_feed(w, ev.buf, ev.len) == 0);
	CHECK_STR(data_n(&ws, "a"), "20000");
	CHECK_STR(w->rv, "20010");
	printf("  kube: after 20,000 events: %zu object, %zu bytes held\n",
	    ws.objects, ws.bytes);
	CHECK(ws.objects == 1 && ws.bytes < 2048);
	CHECK(ws.retired_bytes <= WATCH_RETIRED_MAX);
	CHECK(ws.events == 20001);
	strbuf_release(&ev);
	watchset_release(&ws);
}

/*
 * Many objects added, then half deleted in a scattered order: the hash
 * index finds exactly those left (deletion moves entries in the table).
 */
static void
watch_index(void)
{
	struct watchset ws;
	struct watch *w;
	struct strbuf ev;
	unsigned seed = 3;
	size_t i, n = 5000, ok = 0;
	char *gone = calloc(n, 1), name[32];

	watchset_init(&ws, NULL);
	w = watchset_add(&ws, &cms, "ns");
	strbuf_init(&ev, STRBUF_LARGE);
	for (i = 0; i < n; i++)
		strbuf_addf(&ev, "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"o%zu\",\"namespace\":\"ns\"},\"data\":{\"n\":\"%zu\"}}}\n",
		    i, i);
	for (i = 0; i < n; i++) {
		size_t j = rand_r(&seed) % n;

		if (gone[j])
			continue;
		gone[j] = 1;
		strbuf_addf(&ev, "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"o%zu\",\"namespace\":\"ns\"}}}\n",
		    j);
	}
	/* fed in pieces of 7 bytes: events cross every boundary */
	for (i = 0; i < ev.len; i += 7)
		CHECK(watch_feed(w, ev.buf + i, ev.len - i < 7 ? ev.len - i : 7) == 0);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "o%zu", i);
		ok += (watchset_get(&ws, &cms, "ns", name) == NULL) == gone[i];
	}
	CHECK(ok == n);
	CHECK(w->nitems == ws.objects);
	strbuf_release(&ev);
	watchset_release(&ws);
	free(gone);
}

/* Lists in pages: the first replaces every item, the next ones add. */
static const char page1[] = "{\"metadata\":{\"resourceVersion\":\"7\",\"continue\":\"tok/+=\"},\"items\":["
    "{\"metadata\":{\"name\":\"a\",\"namespace\":\"ns\"},\"data\":{\"k\":\"v\"}},{\"metadata\":{\"name\":\"b\",\"namespace\":\"ns\"}}]}";
static const char page2[] = "{\"metadata\":{\"resourceVersion\":\"7\"},\"items\":["
    "{\"metadata\":{\"name\":\"c\",\"namespace\":\"ns\"}}]}";

static int
hide_b(void *arg, const struct watch *w, struct ynode *obj)
{
	(void)w;
	(*(int *)arg)++;
	ynode_map_del(obj, "data");	/* what is left is kept */
	return strcmp(ynode_get_str(ynode_get(obj, "metadata"), "name"), "b") == 0;
}

static void
watch_pages(void)
{
	struct watchset ws;
	struct watch *w;
	struct s7_error err;
	int calls = 0;

	watchset_init(&ws, NULL);
	w = watchset_add(&ws, &cms, "ns");
	CHECK(watch_load_list(w, page1, strlen(page1), &err) == 0);
	CHECK(w->cont != NULL && strcmp(w->cont, "tok/+=") == 0);
	CHECK(watch_load_list(w, page2, strlen(page2), &err) == 0);
	CHECK(w->cont == NULL);
	CHECK(w->nitems == 3);
	CHECK(watchset_get(&ws, &cms, "ns", "a") != NULL);
	CHECK(watchset_get(&ws, &cms, "ns", "c") != NULL);
	CHECK_STR(w->rv, "7");
	/* a first page again: everything before it goes */
	CHECK(watch_load_list(w, page2, strlen(page2), &err) == 0);
	CHECK(w->nitems == 1 && watchset_get(&ws, &cms, "ns", "a") == NULL);
	/* the owner's hook sees each object first, strips it or keeps none */
	ws.seen = hide_b;
	ws.seen_arg = &calls;
	CHECK(watch_load_list(w, page1, strlen(page1), &err) == 0);
	CHECK(calls == 2);
	CHECK(watchset_get(&ws, &cms, "ns", "b") == NULL);
	CHECK(watchset_get(&ws, &cms, "ns", "a") != NULL &&
	    ynode_get(watchset_get(&ws, &cms, "ns", "a"), "data") == NULL);
	free(w->cont);
	w->cont = NULL;
	watchset_release(&ws);
}

/* Events that do not fit are ignored; a 410 ERROR event asks for a LIST. */
static void
watch_hostile(void)
{
	static const char *const ev[] = {
		"{\"type\":\"ADDED\",\"object\":\"x\"}",
		"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":5}}}",
		"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"\"}}}",
		"{\"type\":\"ADDED\",\"object\":{\"metadata\":\"m\"}}",
		"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"x\",\"namespace\":[]}}}",
		"{\"type\":\"ADDED\"}", "{\"object\":{}}", "{\"type\":7,\"object\":{}}",
		"{\"type\":\"SURPRISE\",\"object\":{\"metadata\":{\"name\":\"y\"}}}",
		"{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":[1]}}}",
		"{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}}}",
		"{\"type\":\"ERROR\",\"object\":{\"code\":\"410\"}}",
		"{not json", "[]", "null", "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"ok\",\"resourceVersion\":\"77\"}}}",
	};
	struct watchset ws;
	struct watch *w;
	size_t i;
	int stops = 0;

	watchset_init(&ws, NULL);
	w = watchset_add(&ws, &cms, "ns");
	w->want_list = 0;
	for (i = 0; i < sizeof(ev) / sizeof(ev[0]); i++) {
		char line[512];

		snprintf(line, sizeof(line), "%s\n", ev[i]);
		stops += watch_feed(w, line, strlen(line));
	}
	CHECK(w->nitems == 2);	/* "x" (namespace ignored) and "ok" */
	CHECK(watchset_get(&ws, &cms, "ns", "ok") == NULL);	/* no namespace */
	CHECK_STR(w->rv, "77");
	CHECK(stops == 1 && w->want_list == 0);	/* "410" is not the code 410 */
	CHECK(watch_feed(w, "{\"type\":\"ERROR\",\"object\":{\"code\":410}}\n", 39) == 1);
	CHECK(w->want_list == 1);
	{
		const char *e = "{\"type\":\"ERROR\",\"object\":{\"code\":500,\"message\":\"m\\u001b[2J\"}}\n";

		CHECK(watch_feed(w, e, strlen(e)) == 1);
	}
	CHECK_CONTAINS(w->error, "m\\x1b[2J");
	watchset_release(&ws);
}

static enum kstatus
eval(const char *json, char *why, size_t size)
{
	struct arena a;
	struct ynode *o;
	struct s7_error err;
	enum kstatus s;

	arena_init(&a);
	if (json_parse(&a, "o", json, strlen(json), &o, &err) < 0) {
		arena_release(&a);
		return KS_NOT_FOUND;
	}
	s = kstatus_eval(o, why, size);
	arena_release(&a);
	return s;
}

/* Readiness reads fields by type and escapes what it quotes. */
static void
readiness(void)
{
	char why[300];

	CHECK(eval("{\"kind\":\"Job\",\"status\":{\"conditions\":[{\"type\":\"Failed\",\"status\":\"True\",\"message\":\"\\u001b]0;x\\u0007 boom\"}]}}",
	    why, sizeof(why)) == KS_FAILED);
	CHECK_STR(why, "failed: \\x1b]0;x\\x07 boom");
	/* a boolean where the string "True" belongs is not True */
	CHECK(eval("{\"kind\":\"Job\",\"status\":{\"conditions\":[{\"type\":\"Complete\",\"status\":true}]}}",
	    why, sizeof(why)) == KS_IN_PROGRESS);
	/* replicas as a string: the default (1) is wanted */
	CHECK(eval("{\"kind\":\"Deployment\",\"spec\":{\"replicas\":\"5\"},\"status\":{\"updatedReplicas\":1,\"readyReplicas\":1,\"availableReplicas\":1,\"replicas\":1}}",
	    why, sizeof(why)) == KS_CURRENT);
	CHECK(eval("{\"kind\":\"Deployment\",\"spec\":{\"replicas\":99999999999999999999}}",
	    why, sizeof(why)) == KS_NOT_FOUND);	/* jansson refuses it */
	CHECK(eval("{\"kind\":[],\"status\":7,\"metadata\":\"m\"}", why,
	    sizeof(why)) == KS_CURRENT);
	CHECK(eval("{\"kind\":\"Pod\",\"status\":{\"containerStatuses\":{\"a\":1}}}",
	    why, sizeof(why)) == KS_IN_PROGRESS);
	{
		struct strbuf big;

		strbuf_init(&big, STRBUF_LARGE);
		strbuf_addstr(&big, "{\"kind\":\"Widget\",\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\",\"message\":\"");
		strbuf_addchars(&big, 'm', 1000000);
		strbuf_addstr(&big, "\"}]}}");
		CHECK(eval(big.buf, why, sizeof(why)) == KS_IN_PROGRESS);
		CHECK(strlen(why) < sizeof(why));
		strbuf_release(&big);
	}
}

/*
 * The readiness rules, kind by kind: what each live object's status
 * means, and the reason given.
 */
static const struct {
	const char *json;
	enum kstatus want;
	const char *why;
} kinds[] = {
	{ NULL, KS_NOT_FOUND, "not found" },
	{ "{\"kind\":\"Deployment\",\"metadata\":{\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"}}",
	  KS_TERMINATING, "being deleted" },
	{ "{\"kind\":\"Deployment\",\"metadata\":{\"generation\":3},\"status\":{\"observedGeneration\":2}}",
	  KS_IN_PROGRESS, "generation 3 not yet observed (2)" },
	{ "{\"kind\":\"Deployment\",\"spec\":{\"replicas\":2},\"status\":{\"updatedReplicas\":2,\"readyReplicas\":2,\"availableReplicas\":2,\"replicas\":2}}",
	  KS_CURRENT, "2/2 ready" },
	{ "{\"kind\":\"Deployment\",\"spec\":{\"replicas\":2},\"status\":{\"updatedReplicas\":1,\"replicas\":2}}",
	  KS_IN_PROGRESS, "1 of 2 updated" },
	{ "{\"kind\":\"Deployment\",\"status\":{\"updatedReplicas\":1,\"replicas\":2}}",
	  KS_IN_PROGRESS, "1 old replicas pending termination" },
	{ "{\"kind\":\"Deployment\",\"status\":{\"updatedReplicas\":1,\"replicas\":1,\"availableReplicas\":0}}",
	  KS_IN_PROGRESS, "0 of 1 available" },
	{ "{\"kind\":\"Deployment\",\"status\":{\"conditions\":[{\"type\":\"Progressing\",\"status\":\"False\",\"reason\":\"ProgressDeadlineExceeded\"}]}}",
	  KS_FAILED, "progress deadline exceeded" },
	{ "{\"kind\":\"Deployment\",\"spec\":{\"replicas\":0}}", KS_CURRENT, "0/0 ready" },
	{ "{\"kind\":\"StatefulSet\",\"spec\":{\"replicas\":1},\"status\":{\"readyReplicas\":1,\"currentRevision\":\"a\",\"updateRevision\":\"b\",\"updatedReplicas\":0}}",
	  KS_IN_PROGRESS, "0 of 1 updated to the new revision" },
	{ "{\"kind\":\"StatefulSet\",\"spec\":{\"replicas\":1},\"status\":{\"readyReplicas\":1,\"currentRevision\":\"b\",\"updateRevision\":\"b\"}}",
	  KS_CURRENT, "1/1 ready" },
	{ "{\"kind\":\"StatefulSet\",\"spec\":{\"replicas\":3,\"updateStrategy\":{\"type\":\"OnDelete\"}}}",
	  KS_CURRENT, "OnDelete strategy" },
	{ "{\"kind\":\"DaemonSet\",\"status\":{}}", KS_IN_PROGRESS, "waiting for the controller" },
	{ "{\"kind\":\"DaemonSet\",\"status\":{\"observedGeneration\":1,\"desiredNumberScheduled\":2,\"currentNumberScheduled\":2,\"updatedNumberScheduled\":2,\"numberAvailable\":1,\"numberReady\":2}}",
	  KS_IN_PROGRESS, "1 of 2 ready" },
	{ "{\"kind\":\"DaemonSet\",\"status\":{\"observedGeneration\":1,\"desiredNumberScheduled\":2,\"currentNumberScheduled\":2,\"updatedNumberScheduled\":2,\"numberAvailable\":2,\"numberReady\":2}}",
	  KS_CURRENT, "2/2 ready" },
	{ "{\"kind\":\"Pod\",\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
	  KS_CURRENT, "running" },
	{ "{\"kind\":\"Pod\",\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}]}}",
	  KS_IN_PROGRESS, "Running" },
	{ "{\"kind\":\"Pod\",\"status\":{\"phase\":\"Pending\",\"containerStatuses\":[{\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}}}]}}",
	  KS_FAILED, "CrashLoopBackOff" },
	{ "{\"kind\":\"Pod\",\"status\":{\"phase\":\"Pending\",\"containerStatuses\":[{\"state\":{\"waiting\":{\"reason\":\"ErrImageNeverPull\"}}}]}}",
	  KS_IN_PROGRESS, "ErrImageNeverPull" },
	{ "{\"kind\":\"Pod\",\"status\":{\"phase\":\"Pending\",\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"False\",\"message\":\"0/2 nodes\"}]}}",
	  KS_IN_PROGRESS, "unschedulable: 0/2 nodes" },
	{ "{\"kind\":\"Pod\",\"status\":{\"phase\":\"Succeeded\"}}", KS_CURRENT, "completed" },
	{ "{\"kind\":\"Pod\",\"status\":{\"phase\":\"Failed\"}}", KS_FAILED, "pod failed" },
	{ "{\"kind\":\"Service\",\"spec\":{\"type\":\"ClusterIP\"}}", KS_CURRENT, "service" },
	{ "{\"kind\":\"Service\",\"metadata\":{\"annotations\":{\"metallb.io/loadBalancerIPs\":\"10.0.0.200\"}},\"spec\":{\"type\":\"LoadBalancer\"}}",
	  KS_IN_PROGRESS, "no load balancer address yet, asked for 10.0.0.200" },
	{ "{\"kind\":\"Service\",\"metadata\":{\"annotations\":{\"metallb.io/loadBalancerIPs\":\"10.0.0.200\"}},\"spec\":{\"type\":\"LoadBalancer\"},\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"10.0.0.201\"}]}}}",
	  KS_FAILED, "load balancer address 10.0.0.201, but 10.0.0.200 was asked for" },
	{ "{\"kind\":\"Service\",\"spec\":{\"type\":\"LoadBalancer\"},\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"10.0.0.200\"}]}}}",
	  KS_CURRENT, "address 10.0.0.200" },
	{ "{\"kind\":\"PersistentVolumeClaim\",\"status\":{\"phase\":\"Bound\"}}", KS_CURRENT, "bound" },
	{ "{\"kind\":\"PersistentVolumeClaim\",\"status\":{\"phase\":\"Pending\"}}", KS_IN_PROGRESS, "Pending" },
	{ "{\"kind\":\"Job\",\"status\":{\"conditions\":[{\"type\":\"Complete\",\"status\":\"True\"}]}}",
	  KS_CURRENT, NULL },
	{ "{\"kind\":\"Job\",\"status\":{\"active\":1}}", KS_IN_PROGRESS, "1 running, 0 done" },
	{ "{\"kind\":\"CustomResourceDefinition\",\"status\":{\"conditions\":[{\"type\":\"Established\",\"status\":\"True\"}]}}",
	  KS_CURRENT, "established" },
	{ "{\"kind\":\"CustomResourceDefinition\",\"status\":{\"conditions\":[{\"type\":\"NamesAccepted\",\"status\":\"False\"}]}}",
	  KS_FAILED, "names not accepted" },
	{ "{\"kind\":\"CustomResourceDefinition\"}", KS_IN_PROGRESS, "not yet established" },
	{ "{\"kind\":\"ConfigMap\"}", KS_CURRENT, "exists" },
	{ "{\"kind\":\"Certificate\",\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
	  KS_CURRENT, "ready" },
	{ "{\"kind\":\"Certificate\",\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\",\"message\":\"Issuing\"}]}}",
	  KS_IN_PROGRESS, "not ready: Issuing" },
	{ "{\"kind\":\"Kustomization\",\"status\":{\"conditions\":[{\"type\":\"Stalled\",\"status\":\"True\",\"message\":\"bad\"}]}}",
	  KS_FAILED, "stalled: bad" },
	{ "{\"kind\":\"Kustomization\",\"status\":{\"conditions\":[{\"type\":\"Reconciling\",\"status\":\"True\"}]}}",
	  KS_IN_PROGRESS, "reconciling" },
	/* CloudNativePG's Database is judged by its descriptor's rule, not here */
	{ "{\"apiVersion\":\"postgresql.cnpg.io/v1\",\"kind\":\"Database\",\"status\":{\"applied\":false}}",
	  KS_CURRENT, "exists" },
};

static void
readiness_kinds(void)
{
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		char why[300];
		enum kstatus got;

		if (kinds[i].json == NULL)
			got = kstatus_eval(NULL, why, sizeof(why));
		else
			got = eval(kinds[i].json, why, sizeof(why));
		if (got != kinds[i].want || (kinds[i].why &&
		    strcmp(why, kinds[i].why) != 0))
			fprintf(stderr, "  case %zu: %s (%s), want %s (%s)\n", i,
			    kstatus_name(got), why, kstatus_name(kinds[i].want),
			    kinds[i].why ? kinds[i].why : "any");
		CHECK(got == kinds[i].want);
		if (kinds[i].why)
			CHECK_STR(why, kinds[i].why);
	}
	{
		struct arena a;
		struct ynode *o;
		struct s7_error err;
		const char *j = "{\"status\":{\"conditions\":[{\"type\":\"A\"},{\"type\":\"B\",\"status\":\"x\"}]}}";

		arena_init(&a);
		CHECK(json_parse(&a, "o", j, strlen(j), &o, &err) == 0);
		CHECK_STR(ynode_get_str(kstatus_condition(o, "B"), "status"), "x");
		CHECK(kstatus_condition(o, "C") == NULL);
		CHECK(kstatus_condition(NULL, "A") == NULL);
		arena_release(&a);
	}
}

/* A kubeconfig for the scripted server, and a client opened on it. */
static struct kube_client *
open_client(int port, char *path, size_t size)
{
	struct kube_client *k = NULL;
	struct kube_opts o;
	struct s7_error err;
	FILE *fp;

	snprintf(path, size, "/tmp/s7-kube-%d.kubeconfig", (int)getpid());
	fp = fopen(path, "w");
	fprintf(fp, "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"http://127.0.0.1:%d\"}\n"
	    "users:\n- name: u\n  user: {token: t0k3n}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n",
	    port);
	fclose(fp);
	memset(&o, 0, sizeof(o));
	o.kubeconfig = path;
	CHECK(kube_open(&k, &o, &err) == 0);
	if (k == NULL)
		fprintf(stderr, "kube_open: %s\n", err.msg);
	return k;
}

/* Requests the scripted server counted for path. */
static long
counted(struct kube_client *k, const char *path)
{
	struct arena a;
	struct ynode *c = NULL;
	struct s7_error err;
	const struct ynode *v;
	long n = -1;

	arena_init(&a);
	if (kube_call(k, "GET", "/count", NULL, NULL, 0, &a, &c, NULL, "count",
	    &err) == 0 && (v = ynode_get(c, path)) != NULL)
		n = strtol(v->str, NULL, 10);
	arena_release(&a);
	return n;
}

/*
 * Watches that end at once (an empty 200), answer 410 or 500, send a
 * 410 ERROR event, or whose LIST fails: over 8 s each costs a handful of
 * requests (the old code sent thousands: 42,000 in 80 s).  A watch full
 * of events is restarted at once and its object kept once.
 */
static void
watch_backoff(int port)
{
	static const char *const modes[] = {
		"close", "gone", "broken", "errorevent", "listfail",
	};
	char kc[256];
	struct kube_client *k = open_client(port, kc, sizeof(kc));
	struct s7_error err;
	const struct kube_resource *r;
	size_t m;

	if (k == NULL)
		return;
	CHECK(kube_discover(k, 0, &err) == 0);
	r = kube_find(k, "v1", "ConfigMap");
	CHECK(r != NULL);
	if (r == NULL) {
		kube_close(k);
		return;
	}
	for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		struct watchset ws;
		long long until = http_now_ms() + 8000;
		char path[128];
		long n;

		watchset_init(&ws, k);
		watchset_add(&ws, r, modes[m]);
		while (http_now_ms() < until) {
			watchset_start(&ws);
			http_run(k->http, 250);
		}
		snprintf(path, sizeof(path), "/api/v1/namespaces/%s/configmaps",
		    modes[m]);
		n = counted(k, path);
		printf("  kube: watch '%s': %lu requests issued, %ld served in 8 s\n",
		    modes[m], ws.requests, n);
		/* lists and watches; a failing list's own retries count */
		CHECK(n > 0 && n <= (strcmp(modes[m], "listfail") == 0 ? 14 : 10));
		watchset_release(&ws);
	}
	/* a busy watch: restarted at once after each stream of events */
	{
		struct watchset ws;
		long long until = http_now_ms() + 3000;

		watchset_init(&ws, k);
		watchset_add(&ws, r, "events");
		while (http_now_ms() < until) {
			watchset_start(&ws);
			http_run(k->http, 250);
		}
		printf("  kube: busy watch: %lu events, %zu object (%zu bytes) held\n",
		    ws.events, ws.objects, ws.bytes);
		CHECK(ws.events >= 2000 && ws.objects == 1 && ws.bytes < 2048);
		watchset_release(&ws);
	}
	kube_close(k);
	unlink(kc);
}

int
main(void)
{
	int tls, port;

	setenv("SECTOR7_NO_CACHE", "1", 1);
	discovery_hostile();
	discovery_many();
	watch_memory();
	watch_index();
	watch_pages();
	watch_hostile();
	readiness();
	readiness_kinds();
	port = httpd_start(&tls);
	CHECK(port > 0);
	if (port > 0)
		watch_backoff(port);
	return unit_done("kube");
}
