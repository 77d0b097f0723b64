/*
 * Teardown's requests are few and slow to take effect (a namespace goes
 * when its controllers have removed everything in it), so they are plain
 * synchronous calls and polls once a second.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "teardown.h"
#include "internal.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

void
teardown_plan_init(struct teardown_plan *p)
{
	memset(p, 0, sizeof(*p));
	arena_init(&p->arena);
}

void
teardown_plan_release(struct teardown_plan *p)
{
	arena_release(&p->arena);
	memset(p, 0, sizeof(*p));
}

static int
get(struct kube_client *k, struct arena *a, const char *path,
    struct ynode **out, struct s7_error *err)
{
	long status = 0;

	if (kube_call(k, "GET", path, NULL, NULL, 0, a, out, &status, path, err) < 0) {
		if (status == 404) {
			*out = NULL;
			s7_error_clear(err);
			return 0;
		}
		return -1;
	}
	return 0;
}

int
teardown_plan_make(struct kube_client *k, const char *const *order, size_t n,
    struct teardown_plan *p, struct s7_error *err)
{
	struct ynode *pvs = NULL, *items;
	size_t i, j;

	p->namespaces = arena_array(&p->arena, n + 1, sizeof(*p->namespaces));
	for (i = 0; i < n; i++) {
		struct ynode *ns = NULL;

		if (get(k, &p->arena, arena_printf(&p->arena, "/api/v1/namespaces/%s",
		    order[i]), &ns, err) < 0)
			return -1;
		if (ns)
			p->namespaces[p->nns++] = arena_strdup(&p->arena, order[i]);
	}
	if (kube_call(k, "GET", "/api/v1/persistentvolumes", NULL, NULL, 0,
	    &p->arena, &pvs, NULL, "list persistentvolumes", err) < 0)
		return -1;
	items = ynode_get(pvs, "items");
	p->pvs = arena_array(&p->arena, items ? items->n + 1 : 1, sizeof(*p->pvs));
	for (i = 0; items && i < items->n; i++) {
		const struct ynode *pv = items->v[i];
		const struct ynode *ref = ynode_path(pv, "spec.claimRef");
		const char *phase = ynode_get_str(ynode_get(pv, "status"), "phase");
		const char *cns = ynode_get_str(ref, "namespace");

		if (!phase || strcmp(phase, "Bound") || !cns)
			continue;
		for (j = 0; j < p->nns; j++)
			if (strcmp(p->namespaces[j], cns) == 0) {
				struct tpv *t = &p->pvs[p->npvs++];

				t->name = ynode_get_str(ynode_get(pv, "metadata"), "name");
				t->claim_namespace = cns;
				t->claim_name = ynode_get_str(ref, "name");
				t->policy = ynode_get_str(ynode_get(pv, "spec"),
				    "persistentVolumeReclaimPolicy");
				break;
			}
	}
	return 0;
}

int
teardown_keep(struct kube_client *k, const struct teardown_plan *p,
    time_t until, struct s7_error *err)
{
	struct arena a;
	size_t i;
	int ret = -1;

	arena_init(&a);
	for (i = 0; i < p->npvs; i++) {
		const struct tpv *t = &p->pvs[i];
		const char *path = arena_printf(&a, "/api/v1/persistentvolumes/%s", t->name);
		char when[32];
		const char *body;
		struct ynode *pv = NULL;
		const char *pol, *lab;

		rfc3339(until, when);
		/* The annotation keeps the policy it had, for a restore. */
		body = arena_printf(&a, "{\"metadata\":{\"labels\":{\"" KEEP_LABEL
		    "\":\"%lld\"},\"annotations\":{\"" KEEP_ANNOTATION "\":\"%s\",\""
		    POLICY_ANNOTATION "\":\"%s\"}},\"spec\":{"
		    "\"persistentVolumeReclaimPolicy\":\"Retain\"}}", (long long)until,
		    when, t->policy ? t->policy : "Delete");
		if (kube_call(k, "PATCH", path, "application/merge-patch+json", body,
		    strlen(body), &a, &pv, NULL, arena_printf(&a,
		    "keeping PersistentVolume %s", t->name), err) < 0)
			goto done;
		pol = ynode_get_str(ynode_get(pv, "spec"), "persistentVolumeReclaimPolicy");
		lab = ynode_get_str(ynode_path(pv, "metadata.labels"), KEEP_LABEL);
		if (!pol || strcmp(pol, "Retain") || !lab) {
			s7_error_class(err, S7_ECLUSTER,
			    "PersistentVolume %s is not Retain and labelled after the patch", t->name);
			goto done;
		}
	}
	ret = 0;
done:
	arena_release(&a);
	return ret;
}

int
teardown_delete(struct kube_client *k, const struct teardown_plan *p,
    long timeout_s, backup_note_fn fn, void *arg, struct s7_error *err)
{
	size_t i;

	for (i = 0; i < p->nns; i++) {
		struct arena a;
		const char *path;
		long status = 0;
		time_t t0 = time(NULL), last = 0;

		/* Each namespace has timeout_s; its requests stop a little later
		 * so that the wait, not a request, reports the time out. */
		kube_set_deadline(k, http_now_ms() + (timeout_s + 10) * 1000LL);
		arena_init(&a);
		path = arena_printf(&a, "/api/v1/namespaces/%s", p->namespaces[i]);
		backup_note(fn, arg, "deleting namespace %s (%zu of %zu)", p->namespaces[i],
		    i + 1, p->nns);
		if (kube_call(k, "DELETE", path, NULL, NULL, 0, &a, NULL, &status,
		    arena_printf(&a, "delete namespace %s", p->namespaces[i]), err) < 0 &&
		    status != 404) {
			arena_release(&a);
			return -1;
		}
		s7_error_clear(err);
		for (;;) {
			struct ynode *ns = NULL;
			time_t now;

			if (get(k, &a, path, &ns, err) < 0) {
				arena_release(&a);
				return -1;
			}
			if (ns == NULL)
				break;
			now = time(NULL);
			if (now - t0 >= timeout_s) {
				const struct ynode *c = ynode_path(ns, "status.conditions");
				const char *why = NULL;
				size_t j;

				for (j = 0; c && c->kind == Y_SEQ && j < c->n; j++) {
					const char *st = ynode_get_str(c->v[j], "status");

					if (st && strcmp(st, "True") == 0)
						why = ynode_get_str(c->v[j], "message");
				}
				s7_error_class(err, S7_ETIMEOUT,
				    "namespace %s still terminating after %lds%s%s (nothing is forced: see what holds it with kubectl get all -n %s)",
				    p->namespaces[i], timeout_s, why ? ": " : "",
				    why ? why : "", p->namespaces[i]);
				arena_release(&a);
				return -1;
			}
			if (now - last >= 10) {
				if (last)
					backup_note(fn, arg, "  %s: still terminating (%lds)",
					    p->namespaces[i], (long)(now - t0));
				last = now;
			}
			sleep(1);
		}
		arena_release(&a);
	}
	return 0;
}

int
teardown_expired(struct kube_client *k, time_t now, long timeout_s,
    backup_note_fn fn, void *arg, size_t *deleted, struct s7_error *err)
{
	struct arena a;
	struct ynode *list = NULL, *items;
	size_t i;
	int ret = -1;

	*deleted = 0;
	arena_init(&a);
	if (kube_call(k, "GET", "/api/v1/persistentvolumes?labelSelector="
	    KEEP_LABEL, NULL, NULL, 0, &a, &list, NULL, "list kept volumes", err) < 0)
		goto done;
	items = ynode_get(list, "items");
	for (i = 0; items && i < items->n; i++) {
		const struct ynode *pv = items->v[i];
		const char *name = ynode_get_str(ynode_get(pv, "metadata"), "name");
		const char *until = ynode_get_str(ynode_path(pv, "metadata.labels"), KEEP_LABEL);
		const char *phase = ynode_get_str(ynode_get(pv, "status"), "phase");
		const char *path = arena_printf(&a, "/api/v1/persistentvolumes/%s", name);
		const char *body = "{\"spec\":{\"persistentVolumeReclaimPolicy\":\"Delete\"}}";
		char *end = NULL;
		long long t = until ? strtoll(until, &end, 10) : 0;
		time_t t0;

		if (!until || !end || *end || t <= 0) {
			backup_note(fn, arg, "PersistentVolume %s: keep-until '%s' is not a unix time: left alone",
			    name, until ? until : "");
			continue;
		}
		if ((time_t)t > now)
			continue;
		if (phase && strcmp(phase, "Bound") == 0) {
			backup_note(fn, arg, "PersistentVolume %s is past its date but bound again: left alone",
			    name);
			continue;
		}
		kube_set_deadline(k, http_now_ms() + (2 * timeout_s + 10) * 1000LL);
		backup_note(fn, arg, "deleting PersistentVolume %s (kept until %lld)", name, t);
		if (kube_call(k, "PATCH", path, "application/merge-patch+json", body,
		    strlen(body), &a, NULL, NULL, arena_printf(&a,
		    "PersistentVolume %s", name), err) < 0)
			goto done;
		/* The provisioner frees the storage, then removes the object;
		 * without one, the object is deleted here after the wait. */
		{
			int stage, gone = 0;

			for (stage = 0; stage < 2 && !gone; stage++) {
				if (stage == 1) {
					long status = 0;

					if (kube_call(k, "DELETE", path, NULL, NULL, 0, &a,
					    NULL, &status, arena_printf(&a,
					    "delete PersistentVolume %s", name), err) < 0 &&
					    status != 404)
						goto done;
					s7_error_clear(err);
				}
				for (t0 = time(NULL); time(NULL) - t0 < timeout_s; sleep(1)) {
					struct ynode *cur = NULL;

					if (get(k, &a, path, &cur, err) < 0)
						goto done;
					if (cur == NULL) {
						gone = 1;
						break;
					}
				}
			}
			if (!gone) {
				s7_error_class(err, S7_ETIMEOUT,
				    "PersistentVolume %s is still there %lds after it was deleted",
				    name, 2 * timeout_s);
				goto done;
			}
		}
		(*deleted)++;
	}
	ret = 0;
done:
	arena_release(&a);
	return ret;
}
