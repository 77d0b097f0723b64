/*
 * Fetching is three passes over the set: copy or download everything
 * missing into partial files, check each partial file's sha256, and
 * rename the good ones into place.  A partial file continued from an
 * earlier run that then fails the check may hold the start of another
 * file (an interrupted download of an older pin): it is thrown away and
 * that file is downloaded once more from its first byte.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "upstream.h"
#include "../http/download.h"
#include "../crypto/crypto.h"
#include "../util/fs.h"
#include "../util/strbuf.h"
#include "../util/text.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

void
up_set_init(struct up_set *s)
{
	memset(s, 0, sizeof(*s));
}

void
up_set_release(struct up_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].path);
		free(s->v[i].part);
	}
	free(s->v);
	free(s->cache);
	memset(s, 0, sizeof(*s));
}

int
upstream_is_url(const char *s)
{
	return text_has_prefix(s, "https://") || text_has_prefix(s, "http://");
}

/* sha256 and size of a file (at most UPSTREAM_FILE_MAX bytes). */
static int
hash_file(const char *path, char sum[SHA256_HEXLEN], long long *size,
    struct s7_error *err)
{
	struct strbuf sb;
	int ret;

	strbuf_init(&sb, (size_t)UPSTREAM_FILE_MAX);
	ret = fs_read(path, &sb, err);
	if (ret == 0) {
		sha256_hex(sb.buf, sb.len, sum);
		*size = (long long)sb.len;
	}
	strbuf_release(&sb);
	return ret;
}

int
upstream_scan(struct up_set *s, const struct catalog *cat, const char *cache,
    struct s7_error *err)
{
	size_t i, j, k, alloc = 0;

	s->cache = xstrdup(cache);
	while (strlen(s->cache) > 1 && s->cache[strlen(s->cache) - 1] == '/')
		s->cache[strlen(s->cache) - 1] = '\0';
	for (i = 0; i < cat->n; i++) {
		const struct component *c = &cat->c[i];

		for (j = 0; j < c->nupstream; j++) {
			const struct upstream_src *u = &c->upstream[j];
			struct up_entry *e;
			int dup = 0;

			for (k = 0; k < s->n; k++) {
				if (strcmp(s->v[k].src->file, u->file) != 0)
					continue;
				if (strcmp(s->v[k].src->sha256, u->sha256) != 0)
					return s7_error(err,
					    "components '%s' and '%s' pin '%s' with different sha256",
					    s->v[k].component, c->name, u->file);
				dup = 1;
			}
			if (dup)
				continue;
			ALLOC_GROW(s->v, s->n + 1, alloc);
			e = &s->v[s->n++];
			memset(e, 0, sizeof(*e));
			e->src = u;
			e->component = c->name;
			e->path = xasprintf("%s/%s", s->cache, u->file);
			e->part = xasprintf("%s/.partial/%s", s->cache, u->sha256);
		}
	}
	for (i = 0; i < s->n; i++) {
		struct up_entry *e = &s->v[i];
		char sum[SHA256_HEXLEN];
		struct stat st;

		if (stat(e->path, &st) < 0) {
			if (errno != ENOENT)
				return s7_error(err, "cannot read '%s': %s",
				    e->path, strerror(errno));
			e->state = UP_MISSING;
			continue;
		}
		if (!S_ISREG(st.st_mode) || st.st_size > UPSTREAM_FILE_MAX) {
			e->state = UP_WRONG;
			snprintf(e->have, sizeof(e->have), "%s",
			    S_ISREG(st.st_mode) ? "(too large)" : "(not a file)");
			continue;
		}
		if (hash_file(e->path, sum, &e->bytes, err) < 0)
			return -1;
		if (strcmp(sum, e->src->sha256) == 0) {
			e->state = UP_PRESENT;
		} else {
			e->state = UP_WRONG;
			memcpy(e->have, sum, sizeof(e->have));
		}
	}
	return 0;
}

/* Writes data to e->part (replacing it) and syncs it. */
static int
write_part(struct up_entry *e, const char *data, size_t len)
{
	int fd = open(e->part, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0644);
	size_t done = 0;

	if (fd < 0)
		goto fail;
	while (done < len) {
		ssize_t w = write(fd, data + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			close(fd);
			goto fail;
		}
		done += (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0)
		goto fail;
	return 0;
fail:
	snprintf(e->why, sizeof(e->why), "cannot write '%s': %s", e->part,
	    strerror(errno));
	unlink(e->part);
	return -1;
}

/* A copy from a mirror directory: checked before it is written. */
static void
copy_from_dir(struct up_entry *e, const char *dir)
{
	char *src = xasprintf("%s/%s", dir, e->src->file);
	char sum[SHA256_HEXLEN];
	struct strbuf sb;
	struct s7_error err;

	strbuf_init(&sb, (size_t)UPSTREAM_FILE_MAX);
	s7_error_clear(&err);
	e->result = UP_FAILED;
	e->attempts = 1;
	if (fs_read(src, &sb, &err) < 0) {
		snprintf(e->why, sizeof(e->why), "%s", err.msg);
		goto done;
	}
	sha256_hex(sb.buf, sb.len, sum);
	e->bytes = (long long)sb.len;
	if (strcmp(sum, e->src->sha256) != 0) {
		snprintf(e->why, sizeof(e->why),
		    "the mirror's copy %s has sha256 %s (%zu bytes) but the catalog pins %s",
		    src, sum, sb.len, e->src->sha256);
		goto done;
	}
	if (write_part(e, sb.buf, sb.len) == 0)
		e->result = UP_FETCHED;
done:
	strbuf_release(&sb);
	free(src);
}

/* The part file is good: into the cache with it. */
static void
install(struct up_entry *e)
{
	char *dir = xstrdup(e->path);
	struct s7_error err;

	s7_error_clear(&err);
	*strrchr(dir, '/') = '\0';
	if (fs_mkdirs(dir, 0755, &err) < 0) {
		snprintf(e->why, sizeof(e->why), "%s", err.msg);
		e->result = UP_FAILED;
		unlink(e->part);
	} else if (rename(e->part, e->path) < 0) {
		snprintf(e->why, sizeof(e->why), "cannot rename '%s' to '%s': %s",
		    e->part, e->path, strerror(errno));
		e->result = UP_FAILED;
		unlink(e->part);
	} else {
		e->state = UP_PRESENT;
	}
	free(dir);
}

struct prog {
	const struct up_fetch_opts *o;
	struct up_set *s;
	size_t done_before;	/* files already finished before the downloads */
};

static void
on_progress(void *arg, const struct dl_file *files, size_t n)
{
	struct prog *p = arg;
	struct up_progress up;
	size_t i;

	memset(&up, 0, sizeof(up));
	up.files = p->s->n;
	up.files_done = p->done_before;
	for (i = 0; i < n; i++) {
		const struct dl_file *f = &files[i];

		up.bytes_now += f->now;
		if (f->total >= 0 && up.bytes_total >= 0)
			up.bytes_total += f->total;
		else
			up.bytes_total = -1;
		if (f->active)
			up.active++;
		else if (f->attempts > 0 && (f->ok || f->errmsg[0]))
			up.files_done++;
	}
	p->o->progress(p->o->arg, &up);
}

/* Where an entry is downloaded from (the caller frees it). */
static char *
entry_url(const struct up_entry *e, const struct up_fetch_opts *o)
{
	size_t l;

	if (o->mirror == NULL)
		return xstrdup(e->src->url);
	l = strlen(o->mirror);
	while (l > 0 && o->mirror[l - 1] == '/')
		l--;
	return xasprintf("%.*s/%s", (int)l, o->mirror, e->src->file);
}

/* Downloads the entries idx[0..n) into their part files. */
static int
download(struct up_set *s, size_t *idx, size_t n,
    const struct up_fetch_opts *o, size_t done_before, struct s7_error *err)
{
	struct dl_file *files = xcalloc(n ? n : 1, sizeof(*files));
	char **urls = xcalloc(n ? n : 1, sizeof(*urls));
	struct dl_opts d;
	struct prog p;
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		struct up_entry *e = &s->v[idx[i]];

		urls[i] = entry_url(e, o);
		files[i].url = urls[i];
		files[i].part = e->part;
		files[i].max_size = UPSTREAM_FILE_MAX;
	}
	memset(&d, 0, sizeof(d));
	d.cacert = o->cacert;
	d.parallel = o->jobs;
	d.attempts = o->attempts;
	d.stall_ms = o->stall_ms;
	d.allow_http = o->mirror && text_has_prefix(o->mirror, "http://");
	p.o = o;
	p.s = s;
	p.done_before = done_before;
	if (o->progress) {
		d.progress = on_progress;
		d.arg = &p;
	}
	ret = download_all(files, n, &d, err);
	for (i = 0; ret == 0 && i < n; i++) {
		struct up_entry *e = &s->v[idx[i]];
		const struct dl_file *f = &files[i];

		e->attempts += f->attempts;
		e->bytes = f->size;
		if (f->ok) {
			e->result = UP_FETCHED;
			e->resumed_at = f->resumed_at;
			continue;
		}
		e->result = UP_FAILED;
		snprintf(e->why, sizeof(e->why), "%s", f->errmsg);
		if (f->attempts > 1)
			snprintf(e->why + strlen(e->why),
			    sizeof(e->why) - strlen(e->why),
			    " (after %d attempts)", f->attempts);
		/* What a later fetch can continue is kept; an answer that
		 * the file is not there is not worth keeping. */
		if (f->size == 0 || (f->status >= 400 && f->status < 500))
			unlink(e->part);
	}
	for (i = 0; i < n; i++)
		free(urls[i]);
	free(urls);
	free(files);
	return ret;
}

/* Checks a fetched part file; 1 good, 0 bad (e->why set, part removed). */
static int
verify(struct up_entry *e, const struct up_fetch_opts *o)
{
	char sum[SHA256_HEXLEN];
	char *from = entry_url(e, o);
	long long size = 0;
	struct s7_error err;
	int ok = 0;

	s7_error_clear(&err);
	if (hash_file(e->part, sum, &size, &err) < 0) {
		snprintf(e->why, sizeof(e->why), "%s", err.msg);
	} else if (strcmp(sum, e->src->sha256) == 0) {
		ok = 1;
	} else {
		snprintf(e->why, sizeof(e->why),
		    "refused: %s gave %lld bytes with sha256 %s, but the catalog pins sha256 %s",
		    from, size, sum, e->src->sha256);
	}
	if (!ok)
		unlink(e->part);
	free(from);
	return ok;
}

static int
lock_cache(const char *cache, int *fd_out, struct s7_error *err)
{
	char *dir = xasprintf("%s/.partial", cache);
	char *lock = xasprintf("%s/lock", dir);
	int fd = -1, ret = -1;

	if (fs_mkdirs(dir, 0755, err) < 0)
		goto done;
	fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		s7_error(err, "cannot create '%s': %s", lock, strerror(errno));
		goto done;
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		s7_error(err, "cannot lock '%s': %s", lock, strerror(errno));
		close(fd);
		fd = -1;
		goto done;
	}
	*fd_out = fd;
	ret = 0;
done:
	free(dir);
	free(lock);
	return ret;
}

int
upstream_fetch(struct up_set *s, const struct up_fetch_opts *o,
    struct s7_error *err)
{
	size_t *idx = xcalloc(s->n + 1, sizeof(*idx));
	size_t i, n = 0, again = 0, done_before = 0;
	int lockfd = -1, failed = 0, ret = -1;
	const char *mirror_dir = NULL;

	if (o->mirror && !upstream_is_url(o->mirror)) {
		struct stat st;

		if (strstr(o->mirror, "://")) {
			s7_error_class(err, S7_EUSAGE,
			    "mirror '%s': only https://, http:// or a directory",
			    o->mirror);
			goto done;
		}
		if (stat(o->mirror, &st) < 0 || !S_ISDIR(st.st_mode)) {
			s7_error_class(err, S7_EUSAGE,
			    "mirror '%s' is not a directory (nor an http(s):// URL)",
			    o->mirror);
			goto done;
		}
		mirror_dir = o->mirror;
	}
	if (lock_cache(s->cache, &lockfd, err) < 0)
		goto done;
	for (i = 0; i < s->n; i++) {
		struct up_entry *e = &s->v[i];

		e->why[0] = '\0';
		e->resumed_at = 0;
		e->attempts = 0;
		if (e->state == UP_PRESENT) {
			e->result = UP_ALREADY;
			done_before++;
		} else if (mirror_dir) {
			copy_from_dir(e, mirror_dir);
			done_before++;
		} else {
			idx[n++] = i;
		}
	}
	if (n > 0 && download(s, idx, n, o, done_before, err) < 0)
		goto done;
	/* A resumed file that fails the check is fetched once more, whole. */
	for (i = 0; i < n; i++) {
		struct up_entry *e = &s->v[idx[i]];

		if (e->result != UP_FETCHED)
			continue;
		if (verify(e, o))
			continue;
		e->result = UP_FAILED;
		if (e->resumed_at > 0)
			idx[again++] = idx[i];
	}
	if (again > 0) {
		if (download(s, idx, again, o, s->n - again, err) < 0)
			goto done;
		for (i = 0; i < again; i++) {
			struct up_entry *e = &s->v[idx[i]];

			if (e->result == UP_FETCHED &&
			    !verify(e, o))
				e->result = UP_FAILED;
		}
	}
	for (i = 0; i < s->n; i++) {
		struct up_entry *e = &s->v[i];

		if (e->result == UP_FETCHED)
			install(e);
		if (e->result == UP_FAILED)
			failed++;
	}
	ret = failed;
done:
	if (lockfd >= 0)
		close(lockfd);
	free(idx);
	return ret;
}
