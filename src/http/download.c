/*
 * One curl multi handle drives up to `parallel` easy handles; the rest
 * wait in order.  A file's transfer state lives in a struct xfer beside
 * its dl_file.  Each attempt opens the partial file, asks for the bytes
 * after what it holds (Range), and decides on the first byte of the
 * body whether the server honoured the range (206: append) or not (200:
 * start over).  Failures that another attempt may cure (no connection,
 * a body cut short, 408, 429, 5xx, a stalled transfer) are retried after
 * a short, growing pause; anything else (404, a certificate that does
 * not verify) fails the file at once.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "download.h"
#include "../util/xmalloc.h"
#include "../version.h"
#include "../util/banned.h"

#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_MS 4000
#define PROGRESS_EVERY_MS 100

enum xstate { X_QUEUED, X_RUNNING, X_WAITING, X_DONE };

struct xfer {
	struct dl_file *f;
	const struct dl_opts *o;
	enum xstate state;
	CURL *easy;
	struct curl_slist *hdrs;
	int fd;
	long long offset;	/* bytes in the partial file before this attempt */
	long long got;		/* body bytes written by this attempt */
	int body_started;
	int write_failed;	/* errmsg already says why */
	int restart;		/* errmsg says why; try again from byte 0 */
	long long range_first;	/* from Content-Range, -1: none */
	long long range_total;
	char range[32];
	long long due_ms;	/* when a waiting retry may start */
	char errbuf[CURL_ERROR_SIZE];
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *
download_version(void)
{
	return curl_version();
}

static void
close_part(struct xfer *x)
{
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
}

/* The first body byte of a response: keep or drop what the file holds. */
static int
start_body(struct xfer *x)
{
	long code = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	x->body_started = 1;
	x->f->status = code;
	if (code == 206 && x->offset > 0) {
		if (x->range_first == x->offset)
			return 0;
		/* Not what was asked for: drop the partial file and let
		 * the next attempt ask for the whole file. */
		snprintf(x->f->errmsg, sizeof(x->f->errmsg),
		    "asked for the bytes from %lld, the server sent them from %lld",
		    x->offset, x->range_first);
		if (ftruncate(x->fd, 0) < 0)
			x->write_failed = 1;
		else
			x->restart = 1;
		return -1;
	}
	if (code < 200 || code >= 300)
		return 0;	/* an error page: not written, see on_write */
	/* 200: the whole file, whatever was asked for */
	if (x->offset > 0) {
		if (ftruncate(x->fd, 0) < 0 || lseek(x->fd, 0, SEEK_SET) < 0) {
			snprintf(x->f->errmsg, sizeof(x->f->errmsg),
			    "cannot start '%s' over: %s", x->f->part,
			    strerror(errno));
			x->write_failed = 1;
			return -1;
		}
		x->offset = 0;
	}
	x->f->resumed_at = 0;
	return 0;
}

static size_t
on_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * nmemb, done = 0;

	if (!x->body_started && start_body(x) < 0)
		return 0;
	if (x->f->status < 200 || x->f->status >= 300)
		return len;	/* error bodies are dropped */
	if (x->offset + x->got + (long long)len > x->f->max_size) {
		snprintf(x->f->errmsg, sizeof(x->f->errmsg),
		    "larger than %lld bytes: not a file sector7 pins",
		    x->f->max_size);
		x->write_failed = 1;
		return 0;
	}
	while (done < len) {
		ssize_t w = write(x->fd, data + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			snprintf(x->f->errmsg, sizeof(x->f->errmsg),
			    "cannot write '%s': %s", x->f->part, strerror(errno));
			x->write_failed = 1;
			return 0;
		}
		done += (size_t)w;
	}
	x->got += (long long)len;
	return len;
}

/* Content-Range: bytes FIRST-LAST/TOTAL (a new response resets it). */
static size_t
on_header(char *line, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * nmemb;
	char buf[128];
	const char *slash;

	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		x->range_first = -1;
		x->range_total = -1;
		x->body_started = 0;
		return len;
	}
	if (len < 14 || strncasecmp(line, "content-range:", 14) != 0)
		return len;
	snprintf(buf, sizeof(buf), "%.*s", (int)(len - 14), line + 14);
	{
		const char *p = strstr(buf, "bytes");

		if (p && (p = strpbrk(p, "0123456789")) != NULL)
			x->range_first = strtoll(p, NULL, 10);
	}
	slash = strchr(buf, '/');
	if (slash && slash[1] >= '0' && slash[1] <= '9')
		x->range_total = strtoll(slash + 1, NULL, 10);
	return len;
}

static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct xfer *x = arg;

	(void)dltotal;
	(void)ultotal;
	(void)ulnow;
	x->f->now = x->offset + (long long)dlnow;
	if (dltotal > 0)
		x->f->total = x->offset + (long long)dltotal;
	return 0;
}

static int
start(CURLM *multi, struct xfer *x)
{
	const struct dl_opts *o = x->o;
	struct dl_file *f = x->f;
	const char *protos = o->allow_http ? "https,http" : "https";
	struct stat st;
	CURL *e;

	x->fd = open(f->part, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0644);
	if (x->fd < 0 || fstat(x->fd, &st) < 0) {
		snprintf(f->errmsg, sizeof(f->errmsg), "cannot open '%s': %s",
		    f->part, strerror(errno));
		close_part(x);
		return -1;
	}
	x->offset = st.st_size;
	if (x->offset > f->max_size) {
		if (ftruncate(x->fd, 0) < 0) {
			snprintf(f->errmsg, sizeof(f->errmsg),
			    "cannot truncate '%s': %s", f->part, strerror(errno));
			close_part(x);
			return -1;
		}
		x->offset = 0;
	}
	lseek(x->fd, x->offset, SEEK_SET);
	x->got = 0;
	x->body_started = 0;
	x->write_failed = 0;
	x->restart = 0;
	x->range_first = -1;
	x->range_total = -1;
	x->errbuf[0] = '\0';
	f->attempts++;
	f->resumed_at = x->offset;
	f->now = x->offset;
	f->status = 0;
	f->errmsg[0] = '\0';
	f->active = 1;

	if (x->easy == NULL)
		x->easy = curl_easy_init();
	else
		curl_easy_reset(x->easy);
	e = x->easy;
	if (e == NULL) {
		snprintf(f->errmsg, sizeof(f->errmsg), "cannot create a transfer");
		close_part(x);
		return -1;
	}
	curl_easy_setopt(e, CURLOPT_URL, f->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, protos);
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, protos);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->cacert)
		curl_easy_setopt(e, CURLOPT_CAINFO, o->cacert);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 15000L);
	/* A transfer that moves nothing for stall_ms is cut and retried. */
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME,
	    o->stall_ms > 0 ? (long)((o->stall_ms + 999) / 1000) : 30L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "sector7/" SECTOR7_VERSION);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(e, CURLOPT_XFERINFODATA, x);
	/* A Range header of our own, not CURLOPT_RESUME_FROM: a server that
	 * ignores it answers 200 and the file starts over (start_body). */
	if (x->offset > 0) {
		snprintf(x->range, sizeof(x->range), "%lld-", x->offset);
		curl_easy_setopt(e, CURLOPT_RANGE, x->range);
	}
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	if (curl_multi_add_handle(multi, e) != CURLM_OK) {
		snprintf(f->errmsg, sizeof(f->errmsg), "cannot start a transfer");
		close_part(x);
		return -1;
	}
	x->state = X_RUNNING;
	return 0;
}

static int
retryable_code(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_PARTIAL_FILE:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

/* A transfer ended with rc: done, failed, or to be tried again. */
static void
finish(CURLM *multi, struct xfer *x, CURLcode rc)
{
	struct dl_file *f = x->f;
	long code = 0;
	int again = 0;
	struct stat st;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	curl_multi_remove_handle(multi, x->easy);
	f->status = code;
	f->active = 0;
	if (rc == CURLE_OK && code >= 200 && code < 300) {
		curl_off_t cl = -1;

		if (fsync(x->fd) < 0 || fstat(x->fd, &st) < 0) {
			snprintf(f->errmsg, sizeof(f->errmsg),
			    "cannot write '%s': %s", f->part, strerror(errno));
			close_part(x);
			x->state = X_DONE;
			return;
		}
		curl_easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
		    &cl);
		f->size = st.st_size;
		f->total = code == 206 && x->range_total >= 0 ? x->range_total :
		    cl >= 0 ? x->offset + (long long)cl : -1;
		f->now = f->size;
		if (code == 200)
			f->resumed_at = 0;
		close_part(x);
		if (f->total >= 0 && f->size != f->total) {
			snprintf(f->errmsg, sizeof(f->errmsg),
			    "received %lld bytes but the server announced %lld",
			    f->size, f->total);
			again = 1;
		} else {
			f->ok = 1;
			x->state = X_DONE;
			return;
		}
	} else if (x->restart) {
		again = 1;
	} else if (x->write_failed) {
		/* errmsg says why (a full disk, a file too large) */
		close_part(x);
		x->state = X_DONE;
		return;
	} else if (rc == CURLE_OK || rc == CURLE_HTTP_RETURNED_ERROR) {
		if (code == 416) {
			/* The partial file is not a prefix the server can
			 * continue: start over. */
			if (ftruncate(x->fd, 0) < 0) {
				snprintf(f->errmsg, sizeof(f->errmsg),
				    "cannot truncate '%s': %s", f->part,
				    strerror(errno));
				close_part(x);
				x->state = X_DONE;
				return;
			}
			snprintf(f->errmsg, sizeof(f->errmsg),
			    "HTTP 416: the server cannot continue from byte %lld",
			    x->offset);
			again = 1;
		} else {
			snprintf(f->errmsg, sizeof(f->errmsg), "HTTP %ld from %s",
			    code, f->url);
			again = code == 408 || code == 429 || code >= 500;
		}
	} else {
		char *eff = NULL;

		curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &eff);
		snprintf(f->errmsg, sizeof(f->errmsg), "%s (%s)",
		    x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc),
		    eff ? eff : f->url);
		again = retryable_code(rc);
	}
	if (x->fd >= 0 && fstat(x->fd, &st) == 0)
		f->size = st.st_size;
	close_part(x);
	if (again && f->attempts < x->o->attempts) {
		long long pause = BACKOFF_FIRST_MS;
		int i;

		for (i = 1; i < f->attempts && pause < BACKOFF_MAX_MS; i++)
			pause *= 2;
		x->state = X_WAITING;
		x->due_ms = now_ms() + (pause > BACKOFF_MAX_MS ?
		    BACKOFF_MAX_MS : pause);
		return;
	}
	x->state = X_DONE;
}

int
download_all(struct dl_file *files, size_t n, const struct dl_opts *o,
    struct s7_error *err)
{
	struct xfer *xs;
	CURLM *multi;
	size_t i, left = n;
	int running = 0, parallel = o->parallel > 0 ? o->parallel : 1;
	long long last_progress = 0;

	if (n == 0)
		return 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return s7_error(err, "cannot initialise libcurl");
	multi = curl_multi_init();
	if (multi == NULL) {
		curl_global_cleanup();
		return s7_error(err, "cannot initialise libcurl");
	}
	xs = xcalloc(n, sizeof(*xs));
	for (i = 0; i < n; i++) {
		xs[i].f = &files[i];
		xs[i].o = o;
		xs[i].fd = -1;
		xs[i].state = X_QUEUED;
		files[i].ok = 0;
		files[i].size = 0;
		files[i].total = -1;
		files[i].resumed_at = 0;
		files[i].attempts = 0;
		files[i].errmsg[0] = '\0';
	}
	while (left > 0) {
		long long t = now_ms();
		struct CURLMsg *m;
		int q, wait_ms = 100;

		/* Start what may start, in order. */
		for (i = 0; i < n && running < parallel; i++) {
			struct xfer *x = &xs[i];

			if (x->state == X_WAITING && x->due_ms > t)
				continue;
			if (x->state != X_QUEUED && x->state != X_WAITING)
				continue;
			if (start(multi, x) < 0) {
				x->state = X_DONE;
				left--;
				continue;
			}
			running++;
		}
		curl_multi_perform(multi, &q);
		while ((m = curl_multi_info_read(multi, &q)) != NULL) {
			struct xfer *x = NULL;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
			    (char **)&x);
			running--;
			finish(multi, x, m->data.result);
			if (x->state == X_DONE)
				left--;
		}
		if (o->progress && t - last_progress >= PROGRESS_EVERY_MS) {
			o->progress(o->arg, files, n);
			last_progress = t;
		}
		if (left == 0)
			break;
		if (running == 0) {
			/* only retries waiting: sleep until the first is due */
			long long due = -1;

			for (i = 0; i < n; i++)
				if (xs[i].state == X_WAITING &&
				    (due < 0 || xs[i].due_ms < due))
					due = xs[i].due_ms;
			if (due > t)
				wait_ms = (int)(due - t < 100 ? due - t : 100);
			else
				wait_ms = 0;
		}
		if (wait_ms > 0)
			curl_multi_poll(multi, NULL, 0, wait_ms, NULL);
	}
	if (o->progress)
		o->progress(o->arg, files, n);
	for (i = 0; i < n; i++) {
		close_part(&xs[i]);
		if (xs[i].easy)
			curl_easy_cleanup(xs[i].easy);
	}
	free(xs);
	curl_multi_cleanup(multi);
	curl_global_cleanup();
	return 0;
}
