/*
 * libcurl's multi interface with HTTP/2 multiplexing: every request of a
 * client shares one TLS connection (PIPEWAIT makes a new request wait for
 * the connection being set up rather than open a second one).  Retries
 * are handled here, below the Kubernetes layer, because they are a
 * property of the transport: the same request is sent again on the same
 * handle after a delay.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http.h"
#include "../util/xmalloc.h"
#include "../version.h"
#include "../util/banned.h"

#define DEFAULT_ATTEMPTS 6
#define BACKOFF_FIRST_MS 200
#define BACKOFF_MAX_MS 5000
#define RETRY_AFTER_MAX_MS 30000

struct http_client {
	CURLM *multi;
	char *base;
	char *ca, *cert, *key;
	size_t ca_len, cert_len, key_len;
	int insecure;
	char *auth;		/* "Authorization: ..." header line */
	struct http_req *waiting;	/* retries not yet due */
	int running;
	int progressed;		/* a request finished or a stream got data */
	struct http_stats st;
};

static int curl_ready;

long long
http_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *
dup_mem(const char *p, size_t n)
{
	char *d;

	if (p == NULL)
		return NULL;
	d = xmalloc(n + 1);
	memcpy(d, p, n);
	d[n] = '\0';
	return d;
}

int
http_client_new(struct http_client **out, const char *base_url,
    const struct http_tls *tls, struct s7_error *err)
{
	struct http_client *c;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return s7_error(err, "cannot initialise libcurl");
		curl_ready = 1;
	}
	c = xcalloc(1, sizeof(*c));
	c->multi = curl_multi_init();
	if (c->multi == NULL) {
		free(c);
		return s7_error(err, "cannot initialise libcurl");
	}
	curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 1L);
	c->base = xstrdup(base_url);
	while (*c->base && c->base[strlen(c->base) - 1] == '/')
		c->base[strlen(c->base) - 1] = '\0';
	if (tls) {
		c->ca = dup_mem(tls->ca, tls->ca_len);
		c->ca_len = tls->ca_len;
		c->cert = dup_mem(tls->cert, tls->cert_len);
		c->cert_len = tls->cert_len;
		c->key = dup_mem(tls->key, tls->key_len);
		c->key_len = tls->key_len;
		c->insecure = tls->insecure;
	}
	*out = c;
	return 0;
}

void
http_client_free(struct http_client *c)
{
	if (c == NULL)
		return;
	curl_multi_cleanup(c->multi);
	free(c->base);
	free(c->ca);
	free(c->cert);
	if (c->key)
		xfree_secret(c->key, c->key_len);
	if (c->auth)
		xfree_secret(c->auth, strlen(c->auth));
	free(c);
}

void
http_client_set_auth(struct http_client *c, const char *value)
{
	if (c->auth)
		xfree_secret(c->auth, strlen(c->auth));
	c->auth = value ? xasprintf("Authorization: %s", value) : NULL;
}

void
http_client_stats(const struct http_client *c, struct http_stats *st)
{
	*st = c->st;
}

void
http_req_init(struct http_req *r)
{
	memset(r, 0, sizeof(*r));
	strbuf_init(&r->body_out, HTTP_BODY_MAX);
	r->retry_after_ms = -1;
}

void
http_req_release(struct http_req *r)
{
	if (r->easy)
		curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	free(r->url);
	strbuf_release(&r->body_out);
	http_req_init(r);
}

void
http_req_url(struct http_client *c, struct http_req *r, const char *fmt, ...)
{
	struct strbuf sb;
	va_list ap;

	strbuf_init(&sb, 64 * 1024);
	strbuf_addstr(&sb, c->base);
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	free(r->url);
	r->url = strbuf_detach(&sb, NULL);
}

static size_t
on_write(char *data, size_t size, size_t n, void *arg)
{
	struct http_req *r = arg;
	size_t len = size * n;

	r->client->st.bytes_in += len;
	if (r->on_chunk && r->status >= 200 && r->status < 300) {
		r->client->progressed = 1;
		r->client->st.last_response_ms = http_now_ms();
		return r->on_chunk(r, data, len) == 0 ? len : 0;
	}
	if (strbuf_add(&r->body_out, data, len) < 0)
		return 0;
	return len;
}

/* Copies a header's value (trimmed) into buf. */
static void
header_value(const char *line, size_t len, size_t name_len, char *buf,
    size_t size)
{
	const char *v = line + name_len;
	const char *e = line + len;

	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && isspace((unsigned char)e[-1]))
		e--;
	snprintf(buf, size, "%.*s", (int)(e - v), v);
}

static size_t
on_header(char *line, size_t size, size_t n, void *arg)
{
	struct http_req *r = arg;
	size_t len = size * n;
	char buf[64];

	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		/* A new response (after 100 Continue, say): start over. */
		const char *sp = memchr(line, ' ', len);

		r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		r->etag[0] = '\0';
		r->content_type_out[0] = '\0';
		r->retry_after_ms = -1;
	} else if (len > 5 && strncasecmp(line, "etag:", 5) == 0) {
		header_value(line, len, 5, r->etag, sizeof(r->etag));
	} else if (len > 13 && strncasecmp(line, "content-type:", 13) == 0) {
		header_value(line, len, 13, r->content_type_out,
		    sizeof(r->content_type_out));
	} else if (len > 12 && strncasecmp(line, "retry-after:", 12) == 0) {
		char *end;
		long s;

		header_value(line, len, 12, buf, sizeof(buf));
		s = strtol(buf, &end, 10);
		if (end != buf && *end == '\0' && s >= 0)
			r->retry_after_ms = s * 1000 > RETRY_AFTER_MAX_MS ?
			    RETRY_AFTER_MAX_MS : s * 1000;
	}
	return len;
}

static int
setup(struct http_client *c, struct http_req *r, struct s7_error *err)
{
	CURL *e;
	struct curl_blob blob;
	char line[512];

	if (r->easy == NULL) {
		r->easy = curl_easy_init();
		if (r->easy == NULL)
			return s7_error(err, "cannot create an HTTP request");
	}
	e = r->easy;
	r->client = c;
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, r->timeout_ms);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errmsg);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "sector7/" SECTOR7_VERSION);
	if (strcmp(r->method, "GET") == 0) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
		if (r->body) {
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)r->body_len);
		}
	}
	if (c->ca) {
		blob.data = c->ca;
		blob.len = c->ca_len;
		blob.flags = CURL_BLOB_NOCOPY;
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (c->cert && c->key) {
		blob.data = c->cert;
		blob.len = c->cert_len;
		blob.flags = CURL_BLOB_NOCOPY;
		curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &blob);
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
		blob.data = c->key;
		blob.len = c->key_len;
		curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &blob);
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	}
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->insecure ? 0L : 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->insecure ? 0L : 2L);
	curl_slist_free_all(r->headers);
	r->headers = NULL;
	if (r->content_type) {
		snprintf(line, sizeof(line), "Content-Type: %s", r->content_type);
		r->headers = curl_slist_append(r->headers, line);
	}
	snprintf(line, sizeof(line), "Accept: %s",
	    r->accept ? r->accept : "application/json");
	r->headers = curl_slist_append(r->headers, line);
	if (r->if_none_match[0]) {
		snprintf(line, sizeof(line), "If-None-Match: %s",
		    r->if_none_match);
		r->headers = curl_slist_append(r->headers, line);
	}
	if (c->auth)
		r->headers = curl_slist_append(r->headers, c->auth);
	/* No "Expect: 100-continue" round trip before bodies. */
	r->headers = curl_slist_append(r->headers, "Expect:");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	return 0;
}

static void
start(struct http_client *c, struct http_req *r)
{
	r->status = 0;
	r->transport_error = 0;
	r->errmsg[0] = '\0';
	r->retry_after_ms = -1;
	strbuf_reset(&r->body_out);
	r->attempts++;
	c->st.requests++;
	c->st.bytes_out += r->body_len;
	curl_multi_add_handle(c->multi, r->easy);
	c->running++;
}

int
http_submit(struct http_client *c, struct http_req *r, struct s7_error *err)
{
	if (setup(c, r, err) < 0)
		return -1;
	r->done = 0;
	r->attempts = 0;
	if (r->max_attempts == 0)
		r->max_attempts = r->on_chunk ? 1 : DEFAULT_ATTEMPTS;
	start(c, r);
	return 0;
}

int
http_retryable(const struct http_req *r)
{
	if (r->transport_error)
		return 1;
	return r->status == 408 || r->status == 429 || r->status >= 500;
}

static long
backoff_ms(const struct http_req *r)
{
	long ms = BACKOFF_FIRST_MS;
	int i;

	if (r->retry_after_ms >= 0 && (r->status == 429 || r->status == 503))
		return r->retry_after_ms;
	for (i = 1; i < r->attempts && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	return ms > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ms;
}

static void
finish(struct http_client *c, CURL *e, CURLcode code)
{
	struct http_req *r = NULL;
	long conns = 0;

	long version = 0;

	curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&r);
	curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &conns);
	curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &version);
	if (version == CURL_HTTP_VERSION_2_0)
		c->st.http2++;
	c->st.connections += (unsigned long)conns;
	curl_multi_remove_handle(c->multi, e);
	c->running--;
	if (r->status > 0)
		c->st.last_response_ms = http_now_ms();
	if (code != CURLE_OK) {
		if (code == CURLE_WRITE_ERROR && r->on_chunk) {
			/* the stream's consumer stopped it */
			r->transport_error = 0;
		} else {
			r->transport_error = 1;
			if (r->errmsg[0] == '\0')
				snprintf(r->errmsg, sizeof(r->errmsg), "%s",
				    curl_easy_strerror(code));
			c->st.last_failure_ms = http_now_ms();
			snprintf(c->st.last_failure, sizeof(c->st.last_failure),
			    "%s", r->errmsg);
		}
	}
	if (http_retryable(r) && r->attempts < r->max_attempts) {
		r->due_ms = http_now_ms() + backoff_ms(r);
		r->next = c->waiting;
		c->waiting = r;
		c->st.retries++;
		return;
	}
	r->done = 1;
	c->progressed = 1;
	if (r->on_done)
		r->on_done(r);
}

int
http_run(struct http_client *c, long timeout_ms)
{
	long long deadline = timeout_ms >= 0 ? http_now_ms() + timeout_ms : -1;

	for (;;) {
		struct http_req **pp, *r;
		long long now = http_now_ms(), next = -1;
		CURLMsg *m;
		int still = 0, left;
		long wait;

		/* Retries that are due go back on the wire. */
		for (pp = &c->waiting; (r = *pp) != NULL; ) {
			if (r->due_ms <= now) {
				*pp = r->next;
				start(c, r);
			} else {
				if (next < 0 || r->due_ms < next)
					next = r->due_ms;
				pp = &r->next;
			}
		}
		c->progressed = 0;
		curl_multi_perform(c->multi, &still);
		while ((m = curl_multi_info_read(c->multi, &left)) != NULL)
			if (m->msg == CURLMSG_DONE)
				finish(c, m->easy_handle, m->data.result);
		if (c->running == 0 && c->waiting == NULL)
			return 0;
		if (c->progressed)
			break;		/* let the caller look at what changed */
		now = http_now_ms();
		if (deadline >= 0 && now >= deadline)
			break;
		wait = 1000;
		if (c->running == 0 && next >= 0)
			wait = (long)(next - now);
		else if (next >= 0 && next - now < wait)
			wait = (long)(next - now);
		if (deadline >= 0 && deadline - now < wait)
			wait = (long)(deadline - now);
		if (wait < 0)
			wait = 0;
		if (c->running)
			curl_multi_poll(c->multi, NULL, 0, (int)wait, NULL);
		else if (wait > 0) {
			struct timespec ts = { wait / 1000, (wait % 1000) * 1000000 };

			nanosleep(&ts, NULL);
		}
	}
	{
		int n = c->running;
		struct http_req *r;

		for (r = c->waiting; r; r = r->next)
			n++;
		return n;
	}
}

void
http_cancel(struct http_client *c, struct http_req *r)
{
	struct http_req **pp;

	for (pp = &c->waiting; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			return;
		}
	if (r->easy && !r->done) {
		if (curl_multi_remove_handle(c->multi, r->easy) == CURLM_OK)
			c->running--;
	}
	r->done = 1;
}

int
http_do(struct http_client *c, struct http_req *r, struct s7_error *err)
{
	if (http_submit(c, r, err) < 0)
		return -1;
	while (!r->done)
		http_run(c, 1000);
	return 0;
}
