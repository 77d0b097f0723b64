/*
 * Fuzz target: what a watch reads.  The first byte picks a LIST answer
 * or a stream of watch events and how the stream is cut into pieces;
 * then every object held is evaluated for readiness.  Checked: the
 * objects held match the count and bytes the watchset keeps, and every
 * item is found again by its namespace and name.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kstatus.h"
#include "kube/watch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct kube_resource res = {
	"apps", "v1", "Deployment", "deployments", 1, 1, KUBE_VERB_LIST | KUBE_VERB_WATCH,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct watchset ws;
	struct watch *w;
	struct s7_error err;
	size_t i, piece, bytes = 0;
	char why[300];

	if (size < 1)
		return 0;
	watchset_init(&ws, NULL);
	w = watchset_add(&ws, &res, "ns");
	piece = 1 + (data[0] & 0x3f);
	if (data[0] & 0x80) {
		watch_load_list(w, (const char *)data + 1, size - 1, &err);
	} else {
		for (i = 1; i < size; i += piece)
			if (watch_feed(w, (const char *)data + i,
			    size - i < piece ? size - i : piece))
				break;
	}
	if (w->nitems != ws.objects)
		abort();
	for (i = 0; i < w->nitems; i++) {
		const struct watch_item *it = &w->items[i];

		bytes += it->bytes;
		if (strcmp(it->namespace, "ns") == 0 &&
		    watchset_get(&ws, &res, "ns", it->name) != it->obj)
			abort();
		kstatus_eval(it->obj, why, sizeof(why));
		if (strlen(why) >= sizeof(why))
			abort();
	}
	if (bytes != ws.bytes)
		abort();
	watchset_release(&ws);
	return 0;
}
