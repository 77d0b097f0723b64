/*
 * The restore steps.  Objects go back with what the old cluster gave them
 * removed (uid, resourceVersion, creation time, status, a Service's
 * cluster IPs, a claim's volume name) and are created (POST), never
 * applied over something that exists.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "restore.h"
#include "internal.h"
#include "pg.h"
#include "teardown.h"
#include "../crypto/crypto.h"
#include "../json/json.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

static int
system_ns(const char *ns)
{
	return ns && (strcmp(ns, "kube-system") == 0 ||
	    strcmp(ns, "kube-public") == 0 || strcmp(ns, "kube-node-lease") == 0);
}

/* What the old cluster gave the object, removed. */
static void
clean(struct ynode *o)
{
	static const char *const md_keys[] = { "uid", "resourceVersion",
	    "creationTimestamp", "generation", "managedFields", "selfLink",
	    "deletionTimestamp", "deletionGracePeriodSeconds", NULL };
	struct ynode *md = ynode_get(o, "metadata"), *spec = ynode_get(o, "spec");
	const char *kind = ynode_get_str(o, "kind");
	size_t i;

	for (i = 0; md_keys[i]; i++)
		ynode_map_del(md, md_keys[i]);
	ynode_map_del(o, "status");
	if (kind && strcmp(kind, "Service") == 0) {
		ynode_map_del(spec, "clusterIP");
		ynode_map_del(spec, "clusterIPs");
	} else if (kind && strcmp(kind, "PersistentVolumeClaim") == 0) {
		struct ynode *an = ynode_get(md, "annotations");

		ynode_map_del(spec, "volumeName");
		ynode_map_del(an, "pv.kubernetes.io/bind-completed");
		ynode_map_del(an, "pv.kubernetes.io/bound-by-controller");
	} else if (kind && strcmp(kind, "Namespace") == 0) {
		ynode_map_del(o, "spec");
	}
}

static int
exists(struct kube_client *k, struct arena *a, const char *path, int *yes,
    struct ynode **out, struct s7_error *err)
{
	long status = 0;
	struct ynode *o = NULL;

	*yes = 0;
	if (kube_call(k, "GET", path, NULL, NULL, 0, a, &o, &status, path, err) < 0) {
		if (status == 404) {
			s7_error_clear(err);
			return 0;
		}
		return -1;
	}
	*yes = 1;
	if (out)
		*out = o;
	return 0;
}

static int
create(struct kube_client *k, struct arena *a, const char *collection,
    const struct ynode *o, const char *what, struct s7_error *err)
{
	struct strbuf sb;
	int r;

	strbuf_init(&sb, STRBUF_OBJECT);
	if (json_emit(&sb, o, 0, err) < 0) {
		strbuf_release_secret(&sb);
		return -1;
	}
	r = kube_call(k, "POST", arena_printf(a, "%s?fieldManager=sector7-restore",
	    collection), "application/json", sb.buf, sb.len, a, NULL, NULL, what, err);
	strbuf_release_secret(&sb);
	return r;
}

static int
ensure_namespace(struct kube_client *k, struct arena *a, const char *ns,
    struct restore_stats *st, struct s7_error *err)
{
	int yes = 0;
	const char *body;

	if (exists(k, a, arena_printf(a, "/api/v1/namespaces/%s", ns), &yes, NULL,
	    err) < 0)
		return -1;
	if (yes)
		return 0;
	body = arena_printf(a, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
	    "\"metadata\":{\"name\":\"%s\"}}", ns);
	if (kube_call(k, "POST", "/api/v1/namespaces", "application/json", body,
	    strlen(body), a, NULL, NULL, arena_printf(a, "namespace %s", ns), err) < 0)
		return -1;
	st->namespaces_made++;
	return 0;
}

static int
wanted_secret(const struct ynode *s)
{
	const char *type = ynode_get_str(s, "type");
	const struct ynode *md = ynode_get(s, "metadata");
	const struct ynode *owners = ynode_get(md, "ownerReferences");

	if (system_ns(ynode_get_str(md, "namespace")))
		return 0;
	if (type && strcmp(type, "kubernetes.io/service-account-token") == 0)
		return 0;
	return !(owners && owners->kind == Y_SEQ && owners->n);
}

static int
same_data(const struct ynode *a, const struct ynode *b)
{
	size_t na = a && a->kind == Y_MAP ? a->n : 0;
	size_t nb = b && b->kind == Y_MAP ? b->n : 0;

	if (na == 0 || nb == 0)
		return na == nb;
	return ynode_equal(a, b);
}

int
restore_secrets(struct kube_client *k, const struct manifest *m,
    const char *key_pem, size_t key_len, struct restore_stats *st,
    backup_note_fn fn, void *arg, struct s7_error *err)
{
	struct strbuf env, plain;
	struct arena a;
	struct ynode *list = NULL, *items;
	int *present = NULL;
	size_t i;
	int ret = -1;

	arena_init(&a);
	strbuf_init(&plain, STRBUF_LARGE);
	if (manifest_file(m, BACKUP_SECRETS) == NULL) {
		strbuf_init(&env, 1);
		s7_error_class(err, S7_EVERIFY,
		    "%s: the backup has no credentials envelope (%s): restoring it would make new credentials",
		    m->dir, BACKUP_SECRETS);
		goto done;
	}
	if (backup_read(m, BACKUP_SECRETS, STRBUF_LARGE, &env, err) < 0)
		goto done;
	if (crypto_cms_decrypt(key_pem, key_len, env.buf, env.len, &plain, err) < 0 ||
	    json_parse(&a, BACKUP_SECRETS, plain.buf, plain.len, &list, err) < 0)
		goto done;
	items = ynode_get(list, "items");
	if (!items || items->kind != Y_SEQ) {
		s7_error_class(err, S7_EVERIFY, "%s: no items", BACKUP_SECRETS);
		goto done;
	}
	present = xcalloc(items->n + 1, sizeof(*present));
	/* First every check, so a refusal writes nothing. */
	for (i = 0; i < items->n; i++) {
		struct ynode *s = items->v[i], *live = NULL;
		const struct ynode *md = ynode_get(s, "metadata");
		const char *ns = ynode_get_str(md, "namespace");
		const char *name = ynode_get_str(md, "name");
		int yes = 0;

		if (!wanted_secret(s) || !ns || !name)
			continue;
		if (exists(k, &a, arena_printf(&a, "/api/v1/namespaces/%s/secrets/%s",
		    ns, name), &yes, &live, err) < 0)
			goto done;
		if (!yes)
			continue;
		if (!same_data(ynode_get(live, "data"), ynode_get(s, "data"))) {
			s7_error_class(err, S7_EFAIL,
			    "Secret %s/%s exists with other values: this cluster has credentials of its own, and restoring would replace them (delete it first if that is meant)",
			    ns, name);
			goto done;
		}
		present[i] = 1;
	}
	for (i = 0; i < items->n; i++) {
		struct ynode *s = items->v[i];
		const struct ynode *md = ynode_get(s, "metadata");
		const char *ns = ynode_get_str(md, "namespace");
		const char *name = ynode_get_str(md, "name");

		if (!wanted_secret(s) || !ns || !name)
			continue;
		if (present[i]) {
			st->secrets_present++;
			continue;
		}
		clean(s);
		if (ensure_namespace(k, &a, ns, st, err) < 0 ||
		    create(k, &a, arena_printf(&a, "/api/v1/namespaces/%s/secrets", ns),
		    s, arena_printf(&a, "Secret %s/%s", ns, name), err) < 0)
			goto done;
		st->secrets++;
	}
	backup_note(fn, arg, "%zu Secrets restored (%zu already there)", st->secrets,
	    st->secrets_present);
	ret = 0;
done:
	/* The decrypted values are in the arena's strings and plain. */
	if (list) {
		items = ynode_get(list, "items");
		for (i = 0; items && i < items->n; i++) {
			const struct ynode *d = ynode_get(items->v[i], "data");
			size_t j;

			for (j = 0; d && d->kind == Y_MAP && j < d->n; j++)
				if (d->v[2 * j + 1]->str)
					explicit_bzero((char *)d->v[2 * j + 1]->str,
					    d->v[2 * j + 1]->len);
		}
	}
	free(present);
	strbuf_release_secret(&plain);
	strbuf_release(&env);
	arena_release(&a);
	return ret;
}

static const struct claim *
claim_listed(const struct claim *c, size_t n, const char *ns, const char *name)
{
	size_t i;

	for (i = 0; ns && name && i < n; i++)
		if (strcmp(c[i].namespace, ns) == 0 && strcmp(c[i].name, name) == 0)
			return &c[i];
	return NULL;
}

/* The rendered claim, created bound to volume pv (unless it exists). */
static int
make_claim(struct kube_client *k, struct arena *a, const struct claim *c,
    const char *pv, struct restore_stats *st, struct s7_error *err)
{
	struct ynode *o;
	int yes = 0;

	if (exists(k, a, arena_printf(a, "/api/v1/namespaces/%s/persistentvolumeclaims/%s",
	    c->namespace, c->name), &yes, NULL, err) < 0)
		return -1;
	if (yes || c->obj == NULL)
		return 0;
	o = ynode_copy(a, c->obj);
	ynode_map_set(a, ynode_get(o, "spec"), "volumeName", ynode_str(a, pv));
	if (ensure_namespace(k, a, c->namespace, st, err) < 0)
		return -1;
	return create(k, a, arena_printf(a, "/api/v1/namespaces/%s/persistentvolumeclaims",
	    c->namespace), o, arena_printf(a, "PersistentVolumeClaim %s/%s",
	    c->namespace, c->name), err);
}

/* The volume pointed at its claim again, as before teardown. */
static const char *
rebind_patch(struct arena *a, const struct ynode *pv)
{
	const char *pol = ynode_get_str(ynode_path(pv, "metadata.annotations"),
	    POLICY_ANNOTATION);

	if (pol == NULL)
		pol = ynode_get_str(ynode_get(pv, "spec"), "persistentVolumeReclaimPolicy");
	return arena_printf(a, "{\"metadata\":{\"labels\":{\"" KEEP_LABEL
	    "\":null},\"annotations\":{\"" KEEP_ANNOTATION "\":null,\""
	    POLICY_ANNOTATION "\":null}},\"spec\":{\"persistentVolumeReclaimPolicy\":\"%s\","
	    "\"claimRef\":{\"uid\":null,\"resourceVersion\":null}}}",
	    pol ? pol : "Delete");
}

int
restore_volumes(struct kube_client *k, const struct manifest *m,
    const struct claim *claims, size_t n, int recreate,
    struct restore_stats *st, backup_note_fn fn, void *arg,
    struct s7_error *err)
{
	struct arena a;
	struct ynode *list = NULL, *items;
	size_t i, j;
	int ret = -1;

	arena_init(&a);
	if (kube_call(k, "GET", "/api/v1/persistentvolumes", NULL, NULL, 0, &a,
	    &list, NULL, "list persistentvolumes", err) < 0)
		goto done;
	items = ynode_get(list, "items");
	for (i = 0; items && i < items->n; i++) {
		const struct ynode *pv = items->v[i];
		const struct ynode *ref = ynode_path(pv, "spec.claimRef");
		const char *name = ynode_get_str(ynode_get(pv, "metadata"), "name");
		const char *phase = ynode_get_str(ynode_get(pv, "status"), "phase");
		const char *pol = ynode_get_str(ynode_get(pv, "spec"),
		    "persistentVolumeReclaimPolicy");
		const char *body;

		if (!pol || strcmp(pol, "Retain") || !phase ||
		    (strcmp(phase, "Released") && strcmp(phase, "Available")) ||
		    !claim_listed(claims, n, ynode_get_str(ref, "namespace"),
		    ynode_get_str(ref, "name")))
			continue;
		body = rebind_patch(&a, pv);
		if (kube_call(k, "PATCH", arena_printf(&a, "/api/v1/persistentvolumes/%s",
		    name), "application/merge-patch+json", body, strlen(body), &a, NULL,
		    NULL, arena_printf(&a, "rebinding PersistentVolume %s", name), err) < 0 ||
		    make_claim(k, &a, claim_listed(claims, n, ynode_get_str(ref,
		    "namespace"), ynode_get_str(ref, "name")), name, st, err) < 0)
			goto done;
		backup_note(fn, arg, "PersistentVolume %s kept for %s/%s: rebound", name,
		    ynode_get_str(ref, "namespace"), ynode_get_str(ref, "name"));
		st->volumes_rebound++;
	}
	for (j = 0; recreate && j < m->nfiles; j++) {
		const struct mfile *f = &m->files[j];
		struct strbuf sb;
		struct ynode *pv = NULL, *ref, *md;
		int yes = 0;

		if (!f->kind || strcmp(f->kind, "PersistentVolume") ||
		    strcmp(f->api_version, "v1"))
			continue;
		if (exists(k, &a, arena_printf(&a, "/api/v1/persistentvolumes/%s",
		    f->name), &yes, NULL, err) < 0)
			goto done;
		if (yes)
			continue;
		if (backup_read(m, f->path, STRBUF_OBJECT, &sb, err) < 0 ||
		    json_parse(&a, f->path, sb.buf, sb.len, &pv, err) < 0) {
			strbuf_release(&sb);
			goto done;
		}
		strbuf_release(&sb);
		ref = ynode_path(pv, "spec.claimRef");
		if (!claim_listed(claims, n, ynode_get_str(ref, "namespace"),
		    ynode_get_str(ref, "name")))
			continue;
		clean(pv);
		ynode_map_del(ref, "uid");
		ynode_map_del(ref, "resourceVersion");
		md = ynode_get(pv, "metadata");
		ynode_map_del(ynode_get(md, "labels"), KEEP_LABEL);
		ynode_map_del(ynode_get(md, "annotations"), KEEP_ANNOTATION);
		ynode_map_del(ynode_get(md, "annotations"), POLICY_ANNOTATION);
		ynode_map_del(ynode_get(md, "annotations"), "pv.kubernetes.io/bound-by-controller");
		if (create(k, &a, "/api/v1/persistentvolumes", pv,
		    arena_printf(&a, "PersistentVolume %s", f->name), err) < 0 ||
		    make_claim(k, &a, claim_listed(claims, n, ynode_get_str(ref,
		    "namespace"), ynode_get_str(ref, "name")), f->name, st, err) < 0)
			goto done;
		backup_note(fn, arg, "PersistentVolume %s of %s/%s: created again from the backup",
		    f->name, ynode_get_str(ref, "namespace"), ynode_get_str(ref, "name"));
		st->volumes_recreated++;
	}
	ret = 0;
done:
	arena_release(&a);
	return ret;
}

static const struct ynode *
primary(struct kube_client *k, struct arena *a, const char *ns,
    const char *cluster, struct s7_error *err)
{
	struct ynode *list = NULL, *items;
	size_t i;

	if (kube_call(k, "GET", arena_printf(a, "/api/v1/namespaces/%s/pods?"
	    "labelSelector=cnpg.io/cluster%%3D%s,cnpg.io/instanceRole%%3Dprimary",
	    ns, cluster), NULL, NULL, 0, a, &list, NULL, "list pods", err) < 0)
		return NULL;
	items = ynode_get(list, "items");
	for (i = 0; items && i < items->n; i++) {
		const char *phase = ynode_get_str(ynode_get(items->v[i], "status"), "phase");

		if (phase && strcmp(phase, "Running") == 0)
			return items->v[i];
	}
	return NULL;
}

int
restore_databases(struct kube_client *k, const struct manifest *m,
    long timeout_s, struct restore_stats *st, backup_note_fn fn, void *arg,
    struct s7_error *err)
{
	size_t i, j;

	for (i = 0; i < m->ndbs; i++) {
		const struct mdb *d = &m->dbs[i];
		struct arena a;
		const struct ynode *pod = NULL;
		struct pg_runner pr;
		time_t t0 = time(NULL);

		arena_init(&a);
		while ((pod = primary(k, &a, d->namespace, d->cluster, err)) == NULL) {
			if (err->msg[0] || time(NULL) - t0 > timeout_s) {
				if (!err->msg[0])
					s7_error_class(err, S7_ETIMEOUT,
					    "PostgreSQL cluster %s/%s: no running primary pod after %lds, so its databases cannot be restored",
					    d->namespace, d->cluster, timeout_s);
				arena_release(&a);
				return -1;
			}
			sleep(2);
		}
		memset(&pr, 0, sizeof(pr));
		pr.k = k;
		pr.namespace = d->namespace;
		pr.pod = ynode_get_str(ynode_get(pod, "metadata"), "name");
		pr.container = "postgres";
		pr.port = "5432";
		/* CloudNativePG's socket directory; peer authentication. */
		pr.admin_host = "/controller/run";
		pr.admin_user = "postgres";
		for (j = 0; j < d->ndatabases; j++) {
			const char *rel = arena_printf(&a, "databases/%s/%s/%s.dump",
			    d->namespace, d->cluster, d->databases[j]);
			char *path = xasprintf("%s/%s", m->dir, rel);
			int fd = open(path, O_RDONLY | O_CLOEXEC), r;

			free(path);
			if (fd < 0) {
				s7_error(err, "%s/%s: %s", m->dir, rel, strerror(errno));
				arena_release(&a);
				return -1;
			}
			backup_note(fn, arg, "restoring database %s of %s/%s in pod %s",
			    d->databases[j], d->namespace, d->cluster, pr.pod);
			r = pg_restore_db(&pr, d->databases[j], fd, err);
			close(fd);
			if (r < 0) {
				arena_release(&a);
				return -1;
			}
			st->databases++;
		}
		arena_release(&a);
	}
	return 0;
}

int
restore_wanted(const struct mfile *f, const struct ynode *obj)
{
	static const char *const derived[] = { "Pod", "Event", "Endpoints",
	    "EndpointSlice", "Lease", "ControllerRevision", "Node",
	    "CertificateSigningRequest", "ReplicaSet", "PersistentVolume",
	    "VolumeAttachment", "IPAddress", "ServiceCIDR", "CSINode",
	    "APIService", "ComponentStatus", "Secret", NULL };
	const struct ynode *owners = ynode_path(obj, "metadata.ownerReferences");
	const char *g = f->api_version ? strchr(f->api_version, '/') : NULL;
	size_t i;

	if (!f->kind || system_ns(f->namespace))
		return 0;
	for (i = 0; derived[i]; i++)
		if (strcmp(f->kind, derived[i]) == 0)
			return 0;
	/* Longhorn's state is what longhorn-manager finds on its disks. */
	if (g && strncmp(f->api_version, "longhorn.io/", 12) == 0)
		return 0;
	if (owners && owners->kind == Y_SEQ && owners->n)
		return 0;
	if (strcmp(f->kind, "ConfigMap") == 0 && f->name &&
	    strcmp(f->name, "kube-root-ca.crt") == 0)
		return 0;
	return 1;
}

/* Namespaces, then CRDs, then other cluster-scoped kinds, then the rest. */
static int
rank(const struct mfile *f)
{
	if (strcmp(f->kind, "Namespace") == 0)
		return 0;
	if (strcmp(f->kind, "CustomResourceDefinition") == 0)
		return 1;
	return f->namespace ? 3 : 2;
}

int
restore_objects(struct kube_client *k, const struct manifest *m,
    struct restore_stats *st, backup_note_fn fn, void *arg,
    struct s7_error *err)
{
	struct s7_error first;
	int pass;
	size_t i;

	s7_error_clear(&first);
	for (pass = 0; pass < 4; pass++)
		for (i = 0; i < m->nfiles; i++) {
			const struct mfile *f = &m->files[i];
			struct kube_resource kr;
			struct arena a;
			struct strbuf sb;
			struct ynode *o = NULL;
			const char *slash, *path, *coll;
			int yes = 0;

			if (!f->kind || !f->resource || rank(f) != pass)
				continue;
			arena_init(&a);
			if (backup_read(m, f->path, STRBUF_OBJECT, &sb, err) < 0 ||
			    json_parse(&a, f->path, sb.buf, sb.len, &o, err) < 0) {
				strbuf_release(&sb);
				arena_release(&a);
				return -1;
			}
			strbuf_release(&sb);
			if (!restore_wanted(f, o)) {
				st->objects_skipped++;
				arena_release(&a);
				continue;
			}
			memset(&kr, 0, sizeof(kr));
			slash = strchr(f->api_version, '/');
			kr.group = slash ? arena_strndup(&a, f->api_version,
			    (size_t)(slash - f->api_version)) : "";
			kr.version = slash ? slash + 1 : f->api_version;
			kr.kind = f->kind;
			kr.resource = f->resource;
			kr.namespaced = f->namespace != NULL;
			path = kube_path(&a, &kr, f->namespace, f->name);
			coll = kube_path(&a, &kr, f->namespace, NULL);
			if (exists(k, &a, path, &yes, NULL, err) < 0) {
				/* A kind this cluster does not serve (yet). */
				if (!first.msg[0])
					first = *err;
				s7_error_clear(err);
				st->objects_failed++;
				arena_release(&a);
				continue;
			}
			if (yes) {
				st->objects_present++;
				arena_release(&a);
				continue;
			}
			clean(o);
			if (create(k, &a, coll, o, arena_printf(&a, "%s %s%s%s", f->kind,
			    f->namespace ? f->namespace : "", f->namespace ? "/" : "",
			    f->name), err) < 0) {
				backup_note(fn, arg, "not restored: %s", err->msg);
				if (!first.msg[0])
					first = *err;
				s7_error_clear(err);
				st->objects_failed++;
			} else {
				backup_note(fn, arg, "restored %s %s%s%s from the backup", f->kind,
				    f->namespace ? f->namespace : "", f->namespace ? "/" : "",
				    f->name);
				st->objects_created++;
			}
			arena_release(&a);
		}
	if (st->objects_failed) {
		*err = first;
		s7_error_prefix(err, "%zu object%s not restored; the first", st->objects_failed,
		    st->objects_failed == 1 ? "" : "s");
		err->class = S7_ECLUSTER;
		return -1;
	}
	return 0;
}
