/*
 * An entry is one file: a header of text lines, then the documents' bytes.
 *
 *   sector7-parsed 1 BUILD SHA256 COMPONENT N\n
 *   KIND\tAPIVERSION\tNAME\tNAMESPACE\tYOFF\tYLEN\tJOFF\tJLEN\tYSUM\n   (N times)
 *   \n
 *   bytes...  (offsets are from the first byte after the blank line)
 *
 * The build id (a hash of sector7's sources, made by the Makefile) is in
 * the name and the header: another build's emitter may write other text.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parsed.h"
#include "buildid.h"
#include "../util/fs.h"
#include "../util/strbuf.h"
#include "../util/strnum.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

#define PARSED_MAX ((size_t)256 * 1024 * 1024)
#define DOCS_MAX 100000

const char *
parsed_dir(void)
{
	static char buf[4096];
	const char *e = getenv("SECTOR7_PARSED_CACHE"), *xdg, *home;

	if (e && *e)
		return e;
	xdg = getenv("XDG_CACHE_HOME");
	home = getenv("HOME");
	if (xdg && *xdg)
		xsnprintf(buf, sizeof(buf), "%s/sector7/parsed", xdg);
	else if (home && *home)
		xsnprintf(buf, sizeof(buf), "%s/.cache/sector7/parsed", home);
	else
		return NULL;
	return buf;
}

/* A component name is [a-z0-9-]: safe in a file name as it is. */
static char *
entry_path(const char *sha256, const char *component)
{
	const char *dir = parsed_dir();

	if (dir == NULL || strlen(sha256) != 64 ||
	    strspn(component, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
	    strlen(component))
		return NULL;
	return xasprintf("%s/%s-%s-%s", dir, sha256, component,
	    S7_BUILD_ID);
}

void
parsed_close(struct parsed *p)
{
	if (p->fd >= 0)
		close(p->fd);
	memset(p, 0, sizeof(*p));
	p->fd = -1;
}

int
parsed_read(const struct parsed *p, size_t off, size_t len, struct strbuf *sb,
    struct s7_error *err)
{
	char buf[65536];

	while (len > 0) {
		size_t want = len < sizeof(buf) ? len : sizeof(buf);
		ssize_t got = pread(p->fd, buf, want, (off_t)off);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return s7_error(err, "the parsed-upstream cache entry is unreadable (%s): remove %s",
			    got < 0 ? strerror(errno) : "it ends early", parsed_dir());
		if (strbuf_add(sb, buf, (size_t)got) < 0)
			return s7_error(err, "an upstream object is larger than %zu bytes",
			    sb->max);
		off += (size_t)got;
		len -= (size_t)got;
	}
	return 0;
}

/* The next tab- or newline-ended field of [*s, end), NUL-terminated in a. */
static const char *
field(struct arena *a, const char **s, const char *end, char stop)
{
	const char *p = *s;

	while (p < end && *p != stop && *p != '\n')
		p++;
	if (p >= end || *p != stop)
		return NULL;
	{
		const char *f = arena_strndup(a, *s, (size_t)(p - *s));

		*s = p + 1;
		return f;
	}
}

static int
number(const char *s, size_t max, size_t *out)
{
	const char *why;
	long long v;

	if (s == NULL)
		return -1;
	v = s7_strtonum(s, 0, (long long)max, &why);
	if (why)
		return -1;
	*out = (size_t)v;
	return 0;
}

/* Reads the header: everything up to and with the blank line. */
static int
read_header(int fd, struct strbuf *sb)
{
	char buf[16384];
	ssize_t got;

	for (;;) {
		char *end;

		got = read(fd, buf, sizeof(buf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0 || strbuf_add(sb, buf, (size_t)got) < 0)
			return -1;
		if ((end = strstr(sb->buf, "\n\n")) != NULL) {
			strbuf_setlen(sb, (size_t)(end - sb->buf) + 2);
			return 0;
		}
	}
}

int
parsed_open(struct arena *a, const char *sha256, const char *component,
    struct parsed *p)
{
	char *path = entry_path(sha256, component);
	const char *s, *end;
	struct strbuf hb;
	struct stat st;
	size_t n, i, blob;
	int ret = -1;
	char head[512];

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	strbuf_init(&hb, 16 * 1024 * 1024);
	if (path == NULL)
		goto done;
	p->fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (p->fd < 0 || fstat(p->fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size <= 0 || (size_t)st.st_size > PARSED_MAX ||
	    read_header(p->fd, &hb) < 0)
		goto done;
	p->size = (size_t)st.st_size;
	s = hb.buf;
	end = s + hb.len;
	xsnprintf(head, sizeof(head), "sector7-parsed 1 %s %s %s ", S7_BUILD_ID,
	    sha256, component);
	if (hb.len < strlen(head) || memcmp(s, head, strlen(head)) != 0)
		goto done;
	s += strlen(head);
	if (number(field(a, &s, end, '\n'), DOCS_MAX, &n) < 0)
		goto done;
	p->docs = arena_array(a, n + 1, sizeof(*p->docs));
	blob = hb.len;
	for (i = 0; i < n; i++) {
		struct parsed_doc *d = &p->docs[i];

		if ((d->kind = field(a, &s, end, '\t')) == NULL ||
		    (d->api_version = field(a, &s, end, '\t')) == NULL ||
		    (d->name = field(a, &s, end, '\t')) == NULL ||
		    (d->namespace = field(a, &s, end, '\t')) == NULL ||
		    number(field(a, &s, end, '\t'), PARSED_MAX, &d->yaml_off) < 0 ||
		    number(field(a, &s, end, '\t'), PARSED_MAX, &d->yaml_len) < 0 ||
		    number(field(a, &s, end, '\t'), PARSED_MAX, &d->json_off) < 0 ||
		    number(field(a, &s, end, '\t'), PARSED_MAX, &d->json_len) < 0 ||
		    (d->yaml_sum = field(a, &s, end, '\n')) == NULL ||
		    strlen(d->yaml_sum) != 64)
			goto done;
		if (d->namespace[0] == '\0')
			d->namespace = NULL;
		d->yaml_off += blob;
		d->json_off += blob;
		if (d->yaml_off > p->size || d->yaml_len > p->size - d->yaml_off ||
		    d->json_off > p->size || d->json_len > p->size - d->json_off)
			goto done;
	}
	if (s >= end || *s != '\n')
		goto done;
	p->n = n;
	ret = 0;
done:
	strbuf_release(&hb);
	if (ret < 0)
		parsed_close(p);
	free(path);
	return ret;
}

int
parsed_write(const char *sha256, const char *component,
    const struct parsed_in *docs, size_t n)
{
	char *path = entry_path(sha256, component);
	struct strbuf head, blob;
	struct s7_error err;
	size_t i;
	int ret = -1;

	if (path == NULL)
		return -1;
	strbuf_init(&head, PARSED_MAX);
	strbuf_init(&blob, PARSED_MAX);
	strbuf_addf(&head, "sector7-parsed 1 %s %s %s %zu\n", S7_BUILD_ID,
	    sha256, component, n);
	for (i = 0; i < n; i++) {
		const struct parsed_in *d = &docs[i];
		char sum[SHA256_HEXLEN];
		size_t yo = blob.len, jo;

		if (strpbrk(d->kind, "\t\n") || strpbrk(d->api_version, "\t\n") ||
		    strpbrk(d->name, "\t\n") ||
		    (d->namespace && strpbrk(d->namespace, "\t\n")))
			goto done;	/* not representable: parse each time */
		strbuf_add(&blob, d->yaml, d->yaml_len);
		jo = blob.len;
		strbuf_add(&blob, d->json, d->json_len);
		sha256_hex(d->yaml, d->yaml_len, sum);
		strbuf_addf(&head, "%s\t%s\t%s\t%s\t%zu\t%zu\t%zu\t%zu\t%s\n",
		    d->kind, d->api_version, d->name,
		    d->namespace ? d->namespace : "", yo, d->yaml_len, jo,
		    d->json_len, sum);
	}
	strbuf_addch(&head, '\n');
	strbuf_add(&head, blob.buf, blob.len);
	if (head.overflow || blob.overflow)
		goto done;
	*strrchr(path, '/') = '\0';
	if (fs_mkdirs(path, 0700, &err) < 0)
		goto done;
	path[strlen(path)] = '/';
	ret = fs_write_atomic(path, head.buf, head.len, 0600, &err);
done:
	strbuf_release(&head);
	strbuf_release(&blob);
	free(path);
	return ret;
}
