/*
 * Fuzz target: aggregated discovery documents as a server sends them,
 * merged twice (a refresh), every resource looked up again; plus the
 * same bytes as the body of an error answer (a Status).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "kube/client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kube_client *k = calloc(1, sizeof(*k));
	struct s7_error err;
	struct http_req r;
	size_t i, n;
	char av[600];

	arena_init(&k->arena);
	kubeconfig_init(&k->kc);
	kube_discovery_parse(k, (const char *)data, size, "fuzz", &err);
	n = k->nres;
	kube_discovery_parse(k, (const char *)data, size, "fuzz", &err);
	if (k->nres != n)
		abort();	/* a refresh adds nothing */
	for (i = 0; i < k->nres; i++) {
		const struct kube_resource *res = k->res[i];
		struct arena a;

		if (res->group[0])
			snprintf(av, sizeof(av), "%.280s/%.280s", res->group,
			    res->version);
		else
			snprintf(av, sizeof(av), "%.280s", res->version);
		if (kube_find(k, av, res->kind) == NULL)
			abort();
		arena_init(&a);
		kube_path(&a, res, "ns", "name");
		arena_release(&a);
	}
	kube_close(k);

	/* The same bytes as an error answer's body. */
	http_req_init(&r);
	r.status = 422;
	r.url = strdup("https://h/api/v1/namespaces/a/configmaps/b");
	strbuf_add(&r.body_out, data, size);
	kube_req_error(&r, "ConfigMap a/b", &err);
	if (strlen(err.msg) >= sizeof(err.msg))
		abort();
	http_req_release(&r);
	return 0;
}
