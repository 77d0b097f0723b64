#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"
#include "xmalloc.h"
#include "banned.h"

int
fs_read(const char *path, struct strbuf *sb, struct s7_error *err)
{
	char buf[65536];
	struct stat st;
	int fd, ret = -1;
	ssize_t n;

	/*
	 * O_NONBLOCK: opening a FIFO with no writer would block forever.
	 * Only regular files are read (no FIFO, device or directory), and
	 * never more than sb->max bytes.
	 */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return s7_error(err, "cannot open '%s': %s", path,
		    strerror(errno));
	if (fstat(fd, &st) < 0) {
		s7_error(err, "cannot read '%s': %s", path, strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		s7_error(err, "'%s' is not a regular file (%s)", path,
		    S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ?
		    "a FIFO" : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ?
		    "a device" : S_ISSOCK(st.st_mode) ? "a socket" :
		    "not a file");
		goto done;
	}
	if ((size_t)st.st_size > sb->max - sb->len) {
		s7_error(err, "'%s' is larger than %zu bytes", path, sb->max);
		goto done;
	}
	/*
	 * Room for the whole file at once: a buffer that grows leaves
	 * copies behind, and the file may hold a key or a token.
	 */
	if (st.st_size > 0) {
		size_t had = sb->len;

		strbuf_addchars(sb, 0, (size_t)st.st_size);
		strbuf_setlen(sb, had);
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		s7_error(err, "cannot read '%s': %s", path, strerror(errno));
		goto done;
	}
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			s7_error(err, "cannot read '%s': %s", path,
			    strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		if (strbuf_add(sb, buf, (size_t)n) < 0) {
			s7_error(err, "'%s' is larger than %zu bytes", path,
			    sb->max);
			goto done;
		}
	}
	ret = 0;
done:
	close(fd);
	return ret;
}

int
fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
    struct s7_error *err)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	const char *p = data;
	int fd, ret = -1;

	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd < 0) {
		s7_error(err, "cannot create '%s': %s", tmp, strerror(errno));
		goto done;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			s7_error(err, "cannot write '%s': %s", path,
			    strerror(errno));
			close(fd);
			unlink(tmp);
			goto done;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fchmod(fd, mode) < 0 || close(fd) < 0) {
		s7_error(err, "cannot write '%s': %s", path, strerror(errno));
		unlink(tmp);
		goto done;
	}
	if (rename(tmp, path) < 0) {
		s7_error(err, "cannot rename '%s' to '%s': %s", tmp, path,
		    strerror(errno));
		unlink(tmp);
		goto done;
	}
	ret = 0;
done:
	free(tmp);
	return ret;
}

int
fs_mkdirs(const char *dir, mode_t mode, struct s7_error *err)
{
	char *p = xstrdup(dir), *q;
	int ret = -1;

	for (q = p + 1; ; q++) {
		if (*q == '/' || *q == '\0') {
			char c = *q;

			*q = '\0';
			if (mkdir(p, mode) < 0 && errno != EEXIST) {
				s7_error(err, "cannot create directory '%s': %s",
				    p, strerror(errno));
				goto done;
			}
			*q = c;
			if (c == '\0')
				break;
		}
	}
	{
		struct stat st;
		if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
			s7_error(err, "'%s' is not a directory", dir);
			goto done;
		}
	}
	ret = 0;
done:
	free(p);
	return ret;
}

int
fs_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int
fs_remove_tree(const char *dir, struct s7_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int ret = 0;

	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		return s7_error(err, "cannot open directory '%s': %s", dir,
		    strerror(errno));
	}
	while (ret == 0 && (e = readdir(d)) != NULL) {
		char *p;
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		p = xasprintf("%s/%s", dir, e->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			ret = fs_remove_tree(p, err);
		else if (unlink(p) < 0)
			ret = s7_error(err, "cannot remove '%s': %s", p,
			    strerror(errno));
		free(p);
	}
	closedir(d);
	if (ret == 0 && rmdir(dir) < 0)
		ret = s7_error(err, "cannot remove '%s': %s", dir,
		    strerror(errno));
	return ret;
}

/* Whether the file at path begins with prefix (read no further). */
static int
begins_with(const char *path, const char *prefix)
{
	size_t n = strlen(prefix), got = 0;
	char buf[256];
	int fd;

	if (n > sizeof(buf) || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	return got == n && memcmp(buf, prefix, n) == 0;
}

int
fs_replaceable_dir(const char *dir, const char *marker, const char *prefix,
    const char *what, int *exists, struct s7_error *err)
{
	struct stat st;
	char *path;
	int ok;

	*exists = 0;
	if (lstat(dir, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return s7_error(err, "cannot use '%s': %s", dir, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return s7_error(err, "'%s' exists and is not a directory", dir);
	*exists = 1;
	if (rmdir(dir) == 0) {
		*exists = 0;
		return 0;
	}
	path = xasprintf("%s/%s", dir, marker);
	ok = prefix ? begins_with(path, prefix) : fs_exists(path);
	free(path);
	if (!ok)
		return s7_error(err, "refusing to replace '%s': it is not empty and holds no %s",
		    dir, what);
	return 0;
}

int
fs_swap_dir(const char *tmp, const char *dir, int exists, struct s7_error *err)
{
	char *old = xasprintf("%s.old-%ld", dir, (long)getpid());
	int ret = -1;

	if (exists && rename(dir, old) < 0) {
		s7_error(err, "cannot move '%s' aside: %s", dir, strerror(errno));
		goto done;
	}
	if (rename(tmp, dir) < 0) {
		s7_error(err, "cannot rename '%s' to '%s': %s", tmp, dir,
		    strerror(errno));
		if (exists)
			rename(old, dir);
		goto done;
	}
	ret = exists ? fs_remove_tree(old, err) : 0;
	if (ret < 0)
		ret = 1;	/* in place; only the old copy is left over */
done:
	free(old);
	return ret;
}
