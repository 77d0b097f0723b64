/*
 * Reading a backup back: the manifest, and every file against it.  Files
 * are hashed in pieces, so a dump of any size costs 64 KiB of memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup.h"
#include "pg.h"
#include "../crypto/crypto.h"
#include "../json/json.h"
#include "../util/fs.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

void
manifest_init(struct manifest *m)
{
	memset(m, 0, sizeof(*m));
	arena_init(&m->arena);
}

void
manifest_release(struct manifest *m)
{
	free(m->files);
	free(m->dbs);
	arena_release(&m->arena);
	memset(m, 0, sizeof(*m));
}

/* A relative path of plain components (no "", "." or ".."). */
static int
safe_path(const char *p)
{
	if (p == NULL || *p == '/' || *p == '\0')
		return 0;
	while (*p) {
		const char *s = strchr(p, '/');
		size_t n = s ? (size_t)(s - p) : strlen(p);

		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		p += n + (s != NULL);
		if (s && *p == '\0')
			return 0;
	}
	return 1;
}

static const char *
str(const struct ynode *n, const char *path)
{
	const struct ynode *v = ynode_path(n, path);

	return v && v->kind == Y_SCALAR && v->type != YT_NULL ? v->str : NULL;
}

int
manifest_load(struct manifest *m, const char *dir, struct s7_error *err)
{
	char *path = xasprintf("%s/%s", dir, BACKUP_MANIFEST);
	struct strbuf sb;
	const struct ynode *files, *dbs, *c;
	size_t i;
	int ret = -1;

	strbuf_init(&sb, STRBUF_LARGE);
	m->dir = arena_strdup(&m->arena, dir);
	if (fs_read(path, &sb, err) < 0) {
		err->class = S7_EVERIFY;
		s7_error_prefix(err, "not a complete backup");
		goto done;
	}
	if (json_parse(&m->arena, path, sb.buf, sb.len, &m->root, err) < 0) {
		err->class = S7_EVERIFY;
		goto done;
	}
	if (!str(m->root, "format") || strcmp(str(m->root, "format"), BACKUP_FORMAT)) {
		s7_error_class(err, S7_EVERIFY, "%s: not a %s manifest", path,
		    BACKUP_FORMAT);
		goto done;
	}
	c = ynode_get(m->root, "complete");
	m->complete = c && c->type == YT_BOOL && strcmp(c->str, "true") == 0;
	if (!m->complete) {
		s7_error_class(err, S7_EVERIFY, "%s: the backup is not marked complete", path);
		goto done;
	}
	m->site_name = str(m->root, "site.name");
	m->site_domain = str(m->root, "site.domain");
	m->site_id = str(m->root, "site.id");
	m->site_sha256 = str(m->root, "site.sha256");
	m->cluster_uid = str(m->root, "cluster.uid");
	m->server = str(m->root, "cluster.server");
	m->started = str(m->root, "started");
	m->finished = str(m->root, "finished");
	if (!m->site_id || !m->cluster_uid || !m->finished ||
	    parse_rfc3339(m->finished, &m->finished_t) < 0) {
		s7_error_class(err, S7_EVERIFY, "%s: site, cluster or finished time missing",
		    path);
		goto done;
	}
	c = ynode_path(m->root, "databases.skipped");
	m->databases_skipped = c && c->str && strcmp(c->str, "true") == 0;
	c = ynode_path(m->root, "secrets.count");
	m->nsecrets = c && c->str ? strtoul(c->str, NULL, 10) : 0;
	files = ynode_get(m->root, "files");
	if (!files || files->kind != Y_SEQ) {
		s7_error_class(err, S7_EVERIFY, "%s: no file list", path);
		goto done;
	}
	m->files = xcalloc(files->n + 1, sizeof(*m->files));
	for (i = 0; i < files->n; i++) {
		const struct ynode *f = files->v[i];
		struct mfile *mf = &m->files[m->nfiles++];
		const char *size = str(f, "size");

		mf->path = str(f, "path");
		mf->sha256 = str(f, "sha256");
		mf->size = size ? strtoull(size, NULL, 10) : 0;
		mf->api_version = str(f, "apiVersion");
		mf->kind = str(f, "kind");
		mf->resource = str(f, "resource");
		mf->namespace = str(f, "namespace");
		mf->name = str(f, "name");
		mf->cluster = str(f, "cluster");
		mf->database = str(f, "database");
		if (!safe_path(mf->path) || !mf->sha256 || !size) {
			s7_error_class(err, S7_EVERIFY, "%s: file entry %zu is malformed",
			    path, i + 1);
			goto done;
		}
	}
	dbs = ynode_path(m->root, "databases.clusters");
	m->dbs = xcalloc(dbs && dbs->kind == Y_SEQ ? dbs->n + 1 : 1, sizeof(*m->dbs));
	for (i = 0; dbs && dbs->kind == Y_SEQ && i < dbs->n; i++) {
		const struct ynode *d = dbs->v[i], *l = ynode_get(d, "databases");
		struct mdb *md = &m->dbs[m->ndbs++];
		size_t j;

		md->namespace = str(d, "namespace");
		md->cluster = str(d, "cluster");
		md->pod = str(d, "pod");
		md->databases = arena_array(&m->arena, l && l->kind == Y_SEQ ?
		    l->n + 1 : 1, sizeof(*md->databases));
		for (j = 0; l && l->kind == Y_SEQ && j < l->n; j++)
			md->databases[md->ndatabases++] = l->v[j]->str;
	}
	ret = 0;
done:
	strbuf_release(&sb);
	free(path);
	return ret;
}

const struct mfile *
manifest_file(const struct manifest *m, const char *path)
{
	size_t i;

	for (i = 0; i < m->nfiles; i++)
		if (strcmp(m->files[i].path, path) == 0)
			return &m->files[i];
	return NULL;
}

/* The file's sha256 and size, reading it in pieces. */
static int
hash_file(const char *path, char sha[SHA256_HEXLEN], unsigned long long *size,
    struct s7_error *err)
{
	struct crypto_sha256_ctx *c;
	char buf[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	*size = 0;
	if (fd < 0)
		return s7_error_class(err, S7_EVERIFY, "%s: %s", path,
		    errno == ENOENT ? "missing" : strerror(errno));
	c = crypto_sha256_begin();
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			crypto_sha256_end(c, sha);
			close(fd);
			return s7_error_class(err, S7_EVERIFY, "%s: %s", path,
			    strerror(e));
		}
		if (n == 0)
			break;
		crypto_sha256_add(c, buf, (size_t)n);
		*size += (unsigned long long)n;
	}
	crypto_sha256_end(c, sha);
	close(fd);
	return 0;
}

static int
check_file(const struct manifest *m, const struct mfile *f,
    struct s7_error *err)
{
	char *path = xasprintf("%s/%s", m->dir, f->path);
	char sha[SHA256_HEXLEN];
	unsigned long long size;
	int ret = -1;

	if (hash_file(path, sha, &size, err) < 0)
		goto done;
	if (size != f->size) {
		s7_error_class(err, S7_EVERIFY, "%s: %llu bytes, the manifest says %llu",
		    path, size, f->size);
		goto done;
	}
	if (strcmp(sha, f->sha256) != 0) {
		s7_error_class(err, S7_EVERIFY, "%s: sha256 %.16s..., the manifest says %.16s...",
		    path, sha, f->sha256);
		goto done;
	}
	ret = 0;
done:
	free(path);
	return ret;
}

/* SHA256SUMS lists every file with the manifest's sum, and manifest.json's. */
static int
check_sums(const struct manifest *m, struct s7_error *err)
{
	char *path = xasprintf("%s/SHA256SUMS", m->dir);
	char *mpath = xasprintf("%s/%s", m->dir, BACKUP_MANIFEST);
	char msha[SHA256_HEXLEN];
	unsigned long long msize;
	struct strbuf sb;
	const char *p;
	size_t lines = 0;
	int ret = -1, manifest_seen = 0;

	strbuf_init(&sb, STRBUF_LARGE);
	if (fs_read(path, &sb, err) < 0) {
		err->class = S7_EVERIFY;
		goto done;
	}
	if (hash_file(mpath, msha, &msize, err) < 0)
		goto done;
	for (p = sb.buf; *p; ) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *line = xstrndup(p, len);
		const struct mfile *f;

		if (len < 67 || line[64] != ' ' || line[65] != ' ') {
			free(line);
			s7_error_class(err, S7_EVERIFY, "%s: line %zu is malformed", path,
			    lines + 1);
			goto done;
		}
		line[64] = '\0';
		if (strcmp(line + 66, BACKUP_MANIFEST) == 0) {
			manifest_seen = 1;
			if (strcmp(line, msha) != 0) {
				free(line);
				s7_error_class(err, S7_EVERIFY, "%s: sha256 differs from SHA256SUMS",
				    mpath);
				goto done;
			}
		} else if ((f = manifest_file(m, line + 66)) == NULL ||
		    strcmp(f->sha256, line) != 0) {
			s7_error_class(err, S7_EVERIFY, "%s/%s: SHA256SUMS and the manifest disagree",
			    m->dir, line + 66);
			free(line);
			goto done;
		}
		free(line);
		lines++;
		p += len + (nl != NULL);
	}
	if (!manifest_seen || lines != m->nfiles + 1) {
		s7_error_class(err, S7_EVERIFY, "%s: lists %zu files, the manifest %zu",
		    path, lines, m->nfiles + 1);
		goto done;
	}
	ret = 0;
done:
	strbuf_release(&sb);
	free(path);
	free(mpath);
	return ret;
}

int
backup_verify(struct manifest *m, const struct verify_opts *o,
    struct s7_error *err)
{
	size_t i;

	if (check_sums(m, err) < 0)
		return -1;
	for (i = 0; i < m->nfiles; i++)
		if (check_file(m, &m->files[i], err) < 0)
			return -1;
	if (m->nsecrets && manifest_file(m, BACKUP_SECRETS) == NULL)
		return s7_error_class(err, S7_EVERIFY,
		    "%s/%s: the manifest lists %zu Secrets but not their envelope",
		    m->dir, BACKUP_SECRETS, m->nsecrets);
	for (i = 0; o && o->pg_restore && i < m->nfiles; i++) {
		const struct mfile *f = &m->files[i];
		char *path;
		size_t n = 0;
		int fd, r;

		if (f->database == NULL)
			continue;
		path = xasprintf("%s/%s", m->dir, f->path);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			s7_error_class(err, S7_EVERIFY, "%s: %s", path, strerror(errno));
			free(path);
			return -1;
		}
		r = pg_restore_list(o->pg_restore, fd, &n, err);
		close(fd);
		if (r < 0) {
			err->class = S7_EVERIFY;
			s7_error_prefix(err, "%s", path);
			free(path);
			return -1;
		}
		if (o->note) {
			char msg[1024];

			snprintf(msg, sizeof(msg), "%s: %zu entries", f->path, n);
			o->note(o->arg, msg);
		}
		free(path);
	}
	return 0;
}

int
backup_read(const struct manifest *m, const char *path, size_t cap,
    struct strbuf *out, struct s7_error *err)
{
	const struct mfile *f = manifest_file(m, path);
	char *full = xasprintf("%s/%s", m->dir, path);
	char sha[SHA256_HEXLEN];
	int ret = -1;

	strbuf_init(out, cap);
	if (f == NULL) {
		s7_error_class(err, S7_EVERIFY, "%s: not in the manifest", full);
		goto done;
	}
	if (fs_read(full, out, err) < 0) {
		err->class = S7_EVERIFY;
		goto done;
	}
	sha256_hex(out->buf, out->len, sha);
	if (out->len != f->size || strcmp(sha, f->sha256) != 0) {
		s7_error_class(err, S7_EVERIFY, "%s: changed since it was verified", full);
		goto done;
	}
	ret = 0;
done:
	free(full);
	return ret;
}
