/*
 * backup_run: every listable resource (aggregated discovery, its verbs),
 * each LISTed cluster-wide in pages of 500, each object written to its
 * own file; Secrets into one CMS envelope; PostgreSQL through pg.c; the
 * manifest and SHA256SUMS last; then the rename that makes it complete.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backup.h"
#include "internal.h"
#include "pg.h"
#include "../crypto/crypto.h"
#include "../json/json.h"
#include "../util/base64.h"
#include "../util/fs.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

#define PAGE 500

void
backup_site_id(const char *name, const char *domain, char out[65])
{
	struct strbuf sb;

	strbuf_init(&sb, 1024);
	strbuf_addf(&sb, "%s\n%s", name, domain);
	sha256_hex(sb.buf, sb.len, out);
	strbuf_release(&sb);
}

void
rfc3339(time_t t, char out[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
parse_rfc3339(const char *s, time_t *t)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = s ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
	if (end == NULL || *end)
		return -1;
	*t = timegm(&tm);
	return 0;
}

void
backup_note(backup_note_fn fn, void *arg, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (fn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fn(arg, buf);
}

/* mkdir -p under the backup's root, remembering what it made (to sync). */
static int
mkdirs(struct brun *b, const char *rel, struct s7_error *err)
{
	char *path = xasprintf("%s/%s", b->root, rel), *p;
	int ret = 0;

	for (p = path + strlen(b->root) + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		{
			char c = *p;

			*p = '\0';
			if (mkdir(path, 0700) == 0) {
				ALLOC_GROW(b->dirs, b->ndirs + 1, b->adirs);
				b->dirs[b->ndirs++] = xstrdup(path);
			} else if (errno != EEXIST) {
				ret = s7_error(err, "cannot create '%s': %s", path,
				    strerror(errno));
				*p = c;
				break;
			}
			*p = c;
		}
		if (*p == '\0')
			break;
	}
	free(path);
	return ret;
}

static struct mfile *
add_file(struct brun *b, const char *rel, const char *sha, unsigned long long size)
{
	struct mfile *f;

	ALLOC_GROW(b->files, b->nfiles + 1, b->afiles);
	f = &b->files[b->nfiles++];
	memset(f, 0, sizeof(*f));
	f->path = arena_strdup(&b->arena, rel);
	f->sha256 = arena_strdup(&b->arena, sha);
	f->size = size;
	b->st->files++;
	b->st->bytes += size;
	return f;
}

/* Opens root/rel for writing (new, 0600), making its directory. */
static int
create(struct brun *b, const char *rel, struct s7_error *err)
{
	char *dir = xstrdup(rel), *slash = strrchr(dir, '/');
	char *path;
	int fd;

	if (slash) {
		*slash = '\0';
		if (mkdirs(b, dir, err) < 0) {
			free(dir);
			return -1;
		}
	}
	free(dir);
	path = xasprintf("%s/%s", b->root, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		s7_error(err, "cannot create '%s': %s", path, strerror(errno));
	free(path);
	return fd;
}

static int
finish_fd(int fd, const char *rel, struct s7_error *err)
{
	if (fsync(fd) < 0) {
		int e = errno;

		close(fd);
		return s7_error(err, "cannot sync '%s': %s", rel, strerror(e));
	}
	if (close(fd) < 0)
		return s7_error(err, "cannot write '%s': %s", rel, strerror(errno));
	return 0;
}

struct mfile *
brun_put(struct brun *b, const char *rel, const void *data, size_t len,
    struct s7_error *err)
{
	const char *p = data;
	size_t left = len;
	char sha[SHA256_HEXLEN];
	int fd = create(b, rel, err);

	if (fd < 0)
		return NULL;
	while (left > 0) {
		ssize_t n = write(fd, p, left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			s7_error(err, "cannot write '%s': %s", rel, strerror(errno));
			close(fd);
			return NULL;
		}
		p += n;
		left -= (size_t)n;
	}
	if (finish_fd(fd, rel, err) < 0)
		return NULL;
	sha256_hex(data, len, sha);
	return add_file(b, rel, sha, len);
}

/* ---- discovery ---------------------------------------------------------- */

/* Every listable kind, in the version the server prefers; not Events. */
static int
discover(struct brun *b, struct s7_error *err)
{
	size_t i;

	if (kube_discover(b->k, 1, err) < 0)
		return -1;
	for (i = 0; i < b->k->nres; i++) {
		const struct kube_resource *r = b->k->res[i];

		/* Events of either API group are history, not state. */
		if (!r->preferred || !(r->verbs & KUBE_VERB_LIST) ||
		    strcmp(r->kind, "Event") == 0)
			continue;
		ALLOC_GROW(b->res, b->nres + 1, b->ares);
		b->res[b->nres++] = r;
	}
	return 0;
}

/* ---- objects ------------------------------------------------------------ */

static const char *
api_version(struct brun *b, const struct kube_resource *r)
{
	return r->group[0] ? arena_printf(&b->arena, "%s/%s", r->group,
	    r->version) : r->version;
}

/* A name as a file name: itself, or cut with a hash when too long. */
static const char *
file_name(struct brun *b, const char *name)
{
	char sha[SHA256_HEXLEN];

	if (strlen(name) <= 200)
		return arena_printf(&b->arena, "%s.json", name);
	sha256_hex(name, strlen(name), sha);
	return arena_printf(&b->arena, "%.180s-%.16s.json", name, sha);
}

static int
write_object(struct brun *b, const struct kube_resource *r, struct ynode *obj,
    struct s7_error *err)
{
	struct ynode *md = ynode_get(obj, "metadata");
	const char *ns = ynode_get_str(md, "namespace");
	const char *name = ynode_get_str(md, "name");
	const char *rel;
	struct strbuf sb;
	struct mfile *f;

	if (name == NULL)
		return 0;
	ynode_map_del(md, "managedFields");
	strbuf_init(&sb, STRBUF_OBJECT);
	if (json_emit(&sb, obj, JSON_PRETTY, err) < 0) {
		strbuf_release(&sb);
		return -1;
	}
	rel = arena_printf(&b->arena, "objects/%s/%s/%s/%s",
	    ns ? ns : "_cluster", r->group[0] ? r->group : "core", r->resource,
	    file_name(b, name));
	f = brun_put(b, rel, sb.buf, sb.len, err);
	strbuf_release(&sb);
	if (f == NULL)
		return -1;
	f->api_version = api_version(b, r);
	f->kind = r->kind;
	f->group = r->group;
	f->resource = r->resource;
	f->namespace = ns ? arena_strdup(&b->arena, ns) : NULL;
	f->name = arena_strdup(&b->arena, name);
	b->st->objects++;
	return 0;
}

/* Kept from the lists for later steps: Secrets, pods, Clusters. */
static void
keep(struct brun *b, const struct kube_resource *r, struct ynode *obj)
{
	if (strcmp(r->kind, "Secret") == 0 && r->group[0] == '\0') {
		ynode_map_del(ynode_get(obj, "metadata"), "managedFields");
		ynode_push(&b->arena, b->secrets, obj);
		b->st->secrets++;
	} else if (strcmp(r->kind, "Pod") == 0 && r->group[0] == '\0') {
		ynode_push(&b->arena, b->pods, obj);
	} else if (strcmp(r->kind, "Cluster") == 0 &&
	    strcmp(r->group, "postgresql.cnpg.io") == 0) {
		ynode_push(&b->arena, b->clusters, obj);
	} else if (strcmp(r->kind, "Namespace") == 0 && r->group[0] == '\0') {
		ynode_push(&b->arena, b->namespaces, obj);
	}
}

static int
list_resource(struct brun *b, const struct kube_resource *r, struct s7_error *err)
{
	struct kube_resource kr;
	const char *cont = NULL;
	size_t i;

	memset(&kr, 0, sizeof(kr));
	kr.group = r->group;
	kr.version = r->version;
	kr.kind = r->kind;
	kr.resource = r->resource;
	kr.namespaced = r->namespaced;
	do {
		struct strbuf path;
		struct ynode *list = NULL, *items;
		long status = 0;

		strbuf_init(&path, 8192);
		strbuf_addf(&path, "%s?limit=%d", kube_path(&b->arena, &kr, NULL,
		    NULL), PAGE);
		if (cont) {
			strbuf_addstr(&path, "&continue=");
			url_query_escape(&path, cont);
		}
		if (kube_call(b->k, "GET", path.buf, NULL, NULL, 0, &b->arena, &list,
		    &status, arena_printf(&b->arena, "list %s", r->resource), err)
		    < 0) {
			strbuf_release(&path);
			/* An aggregated API whose server is down, or a resource
			 * that went away: nothing to keep, said in the manifest. */
			if (status == 503 || status == 404) {
				struct ynode *s = ynode_map(&b->arena);

				ynode_map_set(&b->arena, s, "resource", ynode_strf(&b->arena,
				    "%s%s%s", r->resource, r->group[0] ? "." : "", r->group));
				ynode_map_set(&b->arena, s, "reason", ynode_str(&b->arena,
				    err->msg));
				ynode_push(&b->arena, b->skipped, s);
				b->st->skipped++;
				backup_note(b->o->note, b->o->arg, "skipped %s: %s", r->resource, err->msg);
				s7_error_clear(err);
				return 0;
			}
			return -1;
		}
		strbuf_release(&path);
		items = ynode_get(list, "items");
		for (i = 0; items && items->kind == Y_SEQ && i < items->n; i++) {
			struct ynode *o = items->v[i];

			if (o->kind != Y_MAP)
				continue;
			ynode_map_set(&b->arena, o, "apiVersion", ynode_str(&b->arena,
			    api_version(b, r)));
			ynode_map_set(&b->arena, o, "kind", ynode_str(&b->arena, r->kind));
			if (!(strcmp(r->kind, "Secret") == 0 && r->group[0] == '\0') &&
			    write_object(b, r, o, err) < 0)
				return -1;
			keep(b, r, o);
		}
		cont = ynode_get_str(ynode_get(list, "metadata"), "continue");
		if (cont && !*cont)
			cont = NULL;
	} while (cont);
	return 0;
}

/* ---- secrets ------------------------------------------------------------ */

static int
write_secrets(struct brun *b, struct s7_error *err)
{
	struct ynode *list = ynode_map(&b->arena);
	struct strbuf plain, env;
	struct mfile *f;
	size_t i;
	int ret = -1;

	ynode_map_set(&b->arena, list, "apiVersion", ynode_str(&b->arena, "v1"));
	ynode_map_set(&b->arena, list, "kind", ynode_str(&b->arena, "List"));
	ynode_map_set(&b->arena, list, "items", b->secrets);
	strbuf_init(&plain, STRBUF_LARGE);
	strbuf_init(&env, STRBUF_LARGE);
	if (json_emit(&plain, list, JSON_PRETTY, err) < 0 ||
	    crypto_cms_encrypt(b->o->recipient, b->o->recipient_len, plain.buf,
	    plain.len, &env, err) < 0)
		goto done;
	if ((f = brun_put(b, BACKUP_SECRETS, env.buf, env.len, err)) == NULL)
		goto done;
	/* The manifest names them (no values, no hashes of values). */
	for (i = 0; i < b->secrets->n; i++) {
		const struct ynode *s = b->secrets->v[i];
		const struct ynode *md = ynode_get(s, "metadata");
		const struct ynode *data = ynode_get(s, "data");
		struct ynode *e = ynode_map(&b->arena), *keys = ynode_seq(&b->arena);
		size_t j;

		ynode_map_set(&b->arena, e, "namespace", ynode_str(&b->arena,
		    ynode_get_str(md, "namespace") ? ynode_get_str(md, "namespace") : ""));
		ynode_map_set(&b->arena, e, "name", ynode_str(&b->arena,
		    ynode_get_str(md, "name") ? ynode_get_str(md, "name") : ""));
		ynode_map_set(&b->arena, e, "type", ynode_str(&b->arena,
		    ynode_get_str(s, "type") ? ynode_get_str(s, "type") : "Opaque"));
		for (j = 0; data && data->kind == Y_MAP && j < data->n; j++)
			ynode_push(&b->arena, keys, ynode_str(&b->arena,
			    data->v[2 * j]->str));
		ynode_map_set(&b->arena, e, "keys", keys);
		ynode_push(&b->arena, b->secret_index, e);
	}
	ret = 0;
done:
	strbuf_release_secret(&plain);
	strbuf_release(&env);
	return ret;
}

/* The decoded value of key in a Secret object (wiped by the caller). */
char *
secret_value(const struct ynode *secret, const char *key)
{
	const char *v = ynode_get_str(ynode_get(secret, "data"), key);
	struct strbuf sb;

	if (v == NULL)
		return NULL;
	strbuf_init(&sb, 65536);
	if (base64_decode(&sb, v, strlen(v)) < 0) {
		strbuf_release_secret(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

static const struct ynode *
find_secret(struct brun *b, const char *ns, const char *name)
{
	size_t i;

	for (i = 0; i < b->secrets->n; i++) {
		const struct ynode *md = ynode_get(b->secrets->v[i], "metadata");
		const char *n = ynode_get_str(md, "name");
		const char *s = ynode_get_str(md, "namespace");

		if (n && s && strcmp(n, name) == 0 && strcmp(s, ns) == 0)
			return b->secrets->v[i];
	}
	return NULL;
}

static const char *
label(const struct ynode *obj, const char *key)
{
	return ynode_get_str(ynode_path(obj, "metadata.labels"), key);
}

/* ---- databases ---------------------------------------------------------- */

static int
dump_to(struct brun *b, const char *rel, const struct pg_runner *pr,
    const char *user, const char *pw, const char *db, struct mfile **out,
    struct s7_error *err)
{
	struct pg_sink s;
	char sha[SHA256_HEXLEN];
	int fd = create(b, rel, err), r;

	*out = NULL;
	if (fd < 0)
		return -1;
	s.fd = fd;
	s.sha = crypto_sha256_begin();
	s.size = 0;
	r = db ? pg_dump_db(pr, user, pw, db, &s, err) :
	    pg_dump_globals(pr, user, pw, &s, err);
	crypto_sha256_end(s.sha, sha);
	if (r < 0) {
		close(fd);
		return -1;
	}
	if (finish_fd(fd, rel, err) < 0)
		return -1;
	*out = add_file(b, rel, sha, s.size);
	return 0;
}

int
backup_dump_cluster(struct brun *b, const struct pg_runner *pr,
    const char *ns, const char *cluster, const char *user, const char *pw,
    struct ynode *record, struct s7_error *err)
{
	const char **dbs = NULL;
	struct ynode *list = ynode_seq(&b->arena);
	struct mfile *f;
	size_t n = 0, i;
	const char *base = arena_printf(&b->arena, "databases/%s/%s", ns, cluster);

	if (pg_databases(pr, user, pw, &b->arena, &dbs, &n, err) < 0)
		return -1;
	if (dump_to(b, arena_printf(&b->arena, "%s/globals.sql", base), pr, user,
	    pw, NULL, &f, err) < 0)
		return -1;
	f->cluster = arena_printf(&b->arena, "%s/%s", ns, cluster);
	for (i = 0; i < n; i++) {
		backup_note(b->o->note, b->o->arg, "dumping database %s of %s/%s", dbs[i], ns, cluster);
		if (dump_to(b, arena_printf(&b->arena, "%s/%s.dump", base, dbs[i]),
		    pr, user, pw, dbs[i], &f, err) < 0)
			return -1;
		f->database = dbs[i];
		f->cluster = arena_printf(&b->arena, "%s/%s", ns, cluster);
		ynode_push(&b->arena, list, ynode_str(&b->arena, dbs[i]));
		b->st->databases++;
	}
	ynode_map_set(&b->arena, record, "namespace", ynode_str(&b->arena, ns));
	ynode_map_set(&b->arena, record, "cluster", ynode_str(&b->arena, cluster));
	ynode_map_set(&b->arena, record, "databases", list);
	return 0;
}

static const struct ynode *
primary_pod(struct brun *b, const char *ns, const char *cluster)
{
	size_t i;

	for (i = 0; i < b->pods->n; i++) {
		const struct ynode *p = b->pods->v[i];
		const char *pns = ynode_get_str(ynode_get(p, "metadata"), "namespace");
		const char *c = label(p, "cnpg.io/cluster");
		const char *role = label(p, "cnpg.io/instanceRole");
		const char *phase = ynode_get_str(ynode_get(p, "status"), "phase");

		if (role == NULL)
			role = label(p, "role");
		if (pns && c && role && phase && strcmp(pns, ns) == 0 &&
		    strcmp(c, cluster) == 0 && strcmp(role, "primary") == 0 &&
		    strcmp(phase, "Running") == 0)
			return p;
	}
	return NULL;
}

static int
dump_clusters(struct brun *b, struct s7_error *err)
{
	size_t i;

	for (i = 0; i < b->clusters->n; i++) {
		const struct ynode *md = ynode_get(b->clusters->v[i], "metadata");
		const char *ns = ynode_get_str(md, "namespace");
		const char *name = ynode_get_str(md, "name");
		const char *secret = arena_printf(&b->arena, "%s-dump", name);
		const struct ynode *pod = primary_pod(b, ns, name), *s;
		struct ynode *rec = ynode_map(&b->arena);
		struct pg_runner pr;
		char *user = NULL, *pw = NULL;
		int r;

		if (pod == NULL)
			return s7_error_class(err, S7_ECLUSTER,
			    "PostgreSQL cluster %s/%s has no running primary pod (label cnpg.io/instanceRole=primary) to dump from; --skip-databases makes a backup without dumps",
			    ns, name);
		s = find_secret(b, ns, secret);
		if (s == NULL || (user = secret_value(s, "username")) == NULL ||
		    (pw = secret_value(s, "password")) == NULL) {
			if (user)
				xfree_secret(user, strlen(user));
			return s7_error_class(err, S7_ECLUSTER,
			    "PostgreSQL cluster %s/%s: no Secret %s/%s with username and password (the read-only dump role)",
			    ns, name, ns, secret);
		}
		memset(&pr, 0, sizeof(pr));
		pr.k = b->k;
		pr.namespace = ns;
		pr.pod = ynode_get_str(ynode_get(pod, "metadata"), "name");
		pr.container = "postgres";
		pr.host = "localhost";
		pr.port = "5432";
		backup_note(b->o->note, b->o->arg, "dumping PostgreSQL cluster %s/%s in pod %s", ns, name, pr.pod);
		r = backup_dump_cluster(b, &pr, ns, name, user, pw, rec, err);
		xfree_secret(user, strlen(user));
		xfree_secret(pw, strlen(pw));
		if (r < 0)
			return -1;
		ynode_map_set(&b->arena, rec, "pod", ynode_str(&b->arena, pr.pod));
		ynode_push(&b->arena, b->dbs, rec);
	}
	return 0;
}

/* A container of the legacy deployment that runs PostgreSQL. */
static const char *
postgres_container(const struct ynode *pod)
{
	const struct ynode *cs = ynode_path(pod, "spec.containers");
	size_t i;

	for (i = 0; cs && cs->kind == Y_SEQ && i < cs->n; i++) {
		const char *img = ynode_get_str(cs->v[i], "image");
		const char *slash = img ? strrchr(img, '/') : NULL;
		const char *base = slash ? slash + 1 : img;

		if (base && strncmp(base, "postgres", 8) == 0)
			return ynode_get_str(cs->v[i], "name");
	}
	return NULL;
}

static int
dump_legacy(struct brun *b, struct s7_error *err)
{
	const char *ns = b->o->legacy_namespace;
	size_t i, found = 0;

	if (ns == NULL)
		return 0;
	for (i = 0; i < b->namespaces->n; i++)
		if (strcmp(ynode_get_str(ynode_get(b->namespaces->v[i], "metadata"),
		    "name"), ns) == 0)
			found = 1;
	if (!found)
		return 0;
	found = 0;
	for (i = 0; i < b->pods->n; i++) {
		const struct ynode *p = b->pods->v[i];
		const struct ynode *md = ynode_get(p, "metadata");
		const char *pns = ynode_get_str(md, "namespace");
		const char *phase = ynode_get_str(ynode_get(p, "status"), "phase");
		const char *c = postgres_container(p);
		struct pg_runner pr;
		struct pg_sink s;
		struct mfile *f;
		struct ynode *rec;
		char sha[SHA256_HEXLEN];
		const char *rel;
		int fd, r;

		if (!pns || strcmp(pns, ns) || !c || !phase || strcmp(phase, "Running"))
			continue;
		memset(&pr, 0, sizeof(pr));
		pr.k = b->k;
		pr.namespace = ns;
		pr.pod = ynode_get_str(md, "name");
		pr.container = c;
		backup_note(b->o->note, b->o->arg, "dumping the legacy PostgreSQL in %s/%s", ns, pr.pod);
		rel = arena_printf(&b->arena, "databases/legacy/%s/%s.sql", ns, pr.pod);
		if ((fd = create(b, rel, err)) < 0)
			return -1;
		s.fd = fd;
		s.sha = crypto_sha256_begin();
		s.size = 0;
		r = pg_dump_legacy(&pr, &s, err);
		crypto_sha256_end(s.sha, sha);
		if (r < 0) {
			close(fd);
			return -1;
		}
		if (finish_fd(fd, rel, err) < 0)
			return -1;
		f = add_file(b, rel, sha, s.size);
		f->cluster = arena_printf(&b->arena, "legacy/%s/%s", ns, pr.pod);
		rec = ynode_map(&b->arena);
		ynode_map_set(&b->arena, rec, "namespace", ynode_str(&b->arena, ns));
		ynode_map_set(&b->arena, rec, "pod", ynode_str(&b->arena, pr.pod));
		ynode_map_set(&b->arena, rec, "container", ynode_str(&b->arena, c));
		ynode_map_set(&b->arena, rec, "file", ynode_str(&b->arena, rel));
		ynode_push(&b->arena, b->legacy, rec);
		found++;
	}
	if (!found)
		return s7_error_class(err, S7_ECLUSTER,
		    "namespace %s (the legacy deployment) exists but no running pod has a PostgreSQL container to dump",
		    ns);
	return 0;
}

/* ---- the manifest ------------------------------------------------------- */

static struct ynode *
str_or_null(struct arena *a, const char *s)
{
	return s ? ynode_str(a, s) : ynode_null(a);
}

static int
write_manifest(struct brun *b, struct s7_error *err)
{
	struct arena *a = &b->arena;
	struct ynode *m = ynode_map(a), *site = ynode_map(a), *cl = ynode_map(a);
	struct ynode *files = ynode_seq(a), *sec = ynode_map(a), *dbs = ynode_map(a);
	struct ynode *rc = ynode_map(a), *vers = ynode_map(a);
	struct strbuf sb, sums;
	char t[32], sha[SHA256_HEXLEN];
	size_t i;
	int ret = -1;

	ynode_map_set(a, m, "format", ynode_str(a, BACKUP_FORMAT));
	ynode_map_set(a, m, "complete", ynode_bool(a, 1));
	ynode_map_set(a, vers, "sector7", ynode_str(a, b->o->version));
	ynode_map_set(a, vers, "kubernetes", str_or_null(a, b->kversion));
	ynode_map_set(a, m, "versions", vers);
	ynode_map_set(a, site, "name", ynode_str(a, b->o->site.name));
	ynode_map_set(a, site, "domain", ynode_str(a, b->o->site.domain));
	ynode_map_set(a, site, "id", ynode_str(a, b->o->site.id));
	ynode_map_set(a, site, "sha256", ynode_str(a, b->o->site.text_sha256));
	ynode_map_set(a, m, "site", site);
	ynode_map_set(a, cl, "uid", ynode_str(a, b->uid));
	ynode_map_set(a, cl, "server", ynode_str(a, b->k->kc.server));
	ynode_map_set(a, m, "cluster", cl);
	rfc3339(b->started, t);
	ynode_map_set(a, m, "started", ynode_str(a, t));
	rfc3339(time(NULL), t);
	ynode_map_set(a, m, "finished", ynode_str(a, t));
	ynode_map_set(a, rc, "subject", ynode_str(a, b->subject));
	ynode_map_set(a, rc, "sha256", ynode_str(a, b->cert_sha));
	ynode_map_set(a, sec, "file", ynode_str(a, BACKUP_SECRETS));
	ynode_map_set(a, sec, "recipient", rc);
	ynode_map_set(a, sec, "count", ynode_int(a, (long long)b->secrets->n));
	ynode_map_set(a, sec, "items", b->secret_index);
	ynode_map_set(a, m, "secrets", sec);
	ynode_map_set(a, dbs, "skipped", ynode_bool(a, b->o->skip_databases));
	ynode_map_set(a, dbs, "clusters", b->dbs);
	ynode_map_set(a, dbs, "legacy", b->legacy);
	ynode_map_set(a, m, "databases", dbs);
	ynode_map_set(a, m, "skipped", b->skipped);
	for (i = 0; i < b->nfiles; i++) {
		const struct mfile *f = &b->files[i];
		struct ynode *e = ynode_map(a);

		ynode_map_set(a, e, "path", ynode_str(a, f->path));
		ynode_map_set(a, e, "sha256", ynode_str(a, f->sha256));
		ynode_map_set(a, e, "size", ynode_int(a, (long long)f->size));
		if (f->kind) {
			ynode_map_set(a, e, "apiVersion", ynode_str(a, f->api_version));
			ynode_map_set(a, e, "kind", ynode_str(a, f->kind));
			ynode_map_set(a, e, "resource", ynode_str(a, f->resource));
			if (f->namespace)
				ynode_map_set(a, e, "namespace", ynode_str(a, f->namespace));
			ynode_map_set(a, e, "name", ynode_str(a, f->name));
		}
		if (f->cluster)
			ynode_map_set(a, e, "cluster", ynode_str(a, f->cluster));
		if (f->database)
			ynode_map_set(a, e, "database", ynode_str(a, f->database));
		ynode_push(a, files, e);
	}
	ynode_map_set(a, m, "files", files);
	strbuf_init(&sb, STRBUF_LARGE);
	strbuf_init(&sums, STRBUF_LARGE);
	if (json_emit(&sb, m, JSON_PRETTY, err) < 0)
		goto done;
	for (i = 0; i < b->nfiles; i++)
		strbuf_addf(&sums, "%s  %s\n", b->files[i].sha256, b->files[i].path);
	sha256_hex(sb.buf, sb.len, sha);
	strbuf_addf(&sums, "%s  %s\n", sha, BACKUP_MANIFEST);
	if (brun_put(b, BACKUP_MANIFEST, sb.buf, sb.len, err) == NULL ||
	    brun_put(b, "SHA256SUMS", sums.buf, sums.len, err) == NULL)
		goto done;
	ret = 0;
done:
	strbuf_release(&sb);
	strbuf_release(&sums);
	return ret;
}

static int
sync_dir(const char *path, struct s7_error *err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return s7_error(err, "cannot open '%s': %s", path, strerror(errno));
	if (fsync(fd) < 0) {
		int e = errno;

		close(fd);
		return s7_error(err, "cannot sync '%s': %s", path, strerror(e));
	}
	close(fd);
	return 0;
}

int
cluster_uid(struct kube_client *k, struct arena *a, const char **uid,
    struct s7_error *err)
{
	struct ynode *ns = NULL;

	if (kube_call(k, "GET", "/api/v1/namespaces/kube-system", NULL, NULL, 0,
	    a, &ns, NULL, "namespace kube-system", err) < 0)
		return -1;
	*uid = ynode_get_str(ynode_get(ns, "metadata"), "uid");
	if (*uid == NULL)
		return s7_error_class(err, S7_ECLUSTER, "namespace kube-system has no uid");
	return 0;
}

void
brun_init(struct brun *b, struct kube_client *k, const struct backup_opts *o,
    struct backup_stats *st)
{
	memset(b, 0, sizeof(*b));
	arena_init(&b->arena);
	b->k = k;
	b->o = o;
	b->st = st;
	b->secrets = ynode_seq(&b->arena);
	b->secret_index = ynode_seq(&b->arena);
	b->pods = ynode_seq(&b->arena);
	b->clusters = ynode_seq(&b->arena);
	b->namespaces = ynode_seq(&b->arena);
	b->skipped = ynode_seq(&b->arena);
	b->dbs = ynode_seq(&b->arena);
	b->legacy = ynode_seq(&b->arena);
}

void
brun_release(struct brun *b)
{
	size_t i;

	for (i = 0; i < b->ndirs; i++)
		free(b->dirs[i]);
	free(b->dirs);
	free(b->files);
	free(b->res);
	free(b->root);
	/* Secret objects were parsed into the arena: wipe their text. */
	for (i = 0; b->secrets && i < b->secrets->n; i++) {
		const struct ynode *d = ynode_get(b->secrets->v[i], "data");
		size_t j;

		for (j = 0; d && d->kind == Y_MAP && j < d->n; j++)
			if (d->v[2 * j + 1]->str)
				explicit_bzero((char *)d->v[2 * j + 1]->str,
				    d->v[2 * j + 1]->len);
	}
	arena_release(&b->arena);
}

int
backup_run(struct kube_client *k, const struct backup_opts *o,
    struct backup_stats *st, struct s7_error *err)
{
	struct brun b;
	struct ynode *ver = NULL;
	double t0 = (double)http_now_ms() / 1000;
	size_t i;
	int ret = -1, made = 0;

	memset(st, 0, sizeof(*st));
	brun_init(&b, k, o, st);
	b.started = time(NULL);
	if (crypto_cert_info(o->recipient, o->recipient_len, b.subject,
	    b.cert_sha, err) < 0) {
		err->class = S7_EINPUT;
		goto done;
	}
	if (fs_exists(o->dir)) {
		s7_error_class(err, S7_EUSAGE, "'%s' exists: a backup goes to a new directory", o->dir);
		goto done;
	}
	if (cluster_uid(k, &b.arena, &b.uid, err) < 0 ||
	    kube_call(k, "GET", "/version", NULL, NULL, 0, &b.arena, &ver, NULL,
	    "version", err) < 0)
		goto done;
	b.kversion = ynode_get_str(ver, "gitVersion");
	if (discover(&b, err) < 0)
		goto done;
	b.root = xasprintf("%s.partial-%ld", o->dir, (long)getpid());
	if (mkdir(b.root, 0700) < 0) {
		s7_error(err, "cannot create '%s': %s", b.root, strerror(errno));
		goto done;
	}
	made = 1;
	backup_note(o->note, o->arg, "listing %zu resources", b.nres);
	for (i = 0; i < b.nres; i++)
		if (list_resource(&b, b.res[i], err) < 0)
			goto done;
	backup_note(o->note, o->arg, "%zu objects, %zu secrets", st->objects, st->secrets);
	if (write_secrets(&b, err) < 0)
		goto done;
	if (!o->skip_databases && (dump_clusters(&b, err) < 0 ||
	    dump_legacy(&b, err) < 0))
		goto done;
	if (write_manifest(&b, err) < 0)
		goto done;
	for (i = b.ndirs; i > 0; i--)
		if (sync_dir(b.dirs[i - 1], err) < 0)
			goto done;
	if (sync_dir(b.root, err) < 0)
		goto done;
	if (rename(b.root, o->dir) < 0) {
		s7_error(err, "cannot rename '%s' to '%s': %s", b.root, o->dir,
		    strerror(errno));
		goto done;
	}
	made = 0;
	{
		char *parent = xstrdup(o->dir), *slash = strrchr(parent, '/');

		if (slash && slash != parent)
			*slash = '\0';
		else if (slash)
			slash[1] = '\0';
		else {
			free(parent);
			parent = xstrdup(".");
		}
		ret = sync_dir(parent, err);
		free(parent);
	}
done:
	if (made) {
		struct s7_error ignore;

		fs_remove_tree(b.root, &ignore);
		rmdir(b.root);
	}
	brun_release(&b);
	st->seconds = (double)http_now_ms() / 1000 - t0;
	return ret;
}
