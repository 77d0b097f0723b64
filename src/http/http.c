/*
 * libcurl's multi interface.  Over HTTP/2 every request of a client
 * shares one TLS connection (PIPEWAIT makes a new request wait for the
 * connection being set up rather than open a second one).  Over HTTP/1.1
 * a connection carries one request at a time, so a long-lived stream (a
 * watch) would hold the only connection for minutes: the connection
 * limit becomes the number of open streams plus HTTP_H1_CONNS.  Which
 * protocol the server speaks is known from its first answer; until then
 * requests go one at a time.
 *
 * Retries are handled here, below the Kubernetes layer, because they are
 * a property of the transport: the same request is sent again on the
 * same handle after a delay, within the request's budget and the
 * client's deadline.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http.h"
#include "../util/text.h"
#include "../util/xmalloc.h"
#include "../version.h"
#include "../util/banned.h"

#define DEFAULT_ATTEMPTS 6

enum { PROTO_UNKNOWN = 0, PROTO_H1 = 1, PROTO_H2 = 2 };

struct http_client {
	CURLM *multi;
	char *base;
	char *ca, *cert, *key;
	size_t ca_len, cert_len, key_len;
	int insecure;
	char *auth;		/* "Authorization: ..." header line */
	struct http_req *waiting;	/* retries not yet due, and held requests */
	int running;
	int inflight;		/* requests on the wire that are not streams */
	int progressed;		/* a request finished or a stream got data */
	int proto;
	unsigned long streams;	/* streams on the wire */
	long conn_limit;
	long long deadline;	/* 0: none */
	struct http_limits lim;
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

/* A header value must not end the header line or add to it. */
static int
header_ok(const char *v)
{
	for (; *v; v++)
		if (((unsigned char)*v < 0x20 && *v != '\t') || *v == 0x7f)
			return 0;
	return 1;
}

static void
set_conn_limit(struct http_client *c)
{
	long want = c->proto == PROTO_H1 ? (long)c->streams + HTTP_H1_CONNS : 1;

	if (want == c->conn_limit)
		return;
	c->conn_limit = want;
	if (want > c->st.connections_max)
		c->st.connections_max = want;
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, want);
}

int
http_client_new(struct http_client **out, const char *base_url,
    const struct http_tls *tls, struct s7_error *err)
{
	struct http_client *c;
	size_t i;

	*out = NULL;
	for (i = 0; base_url[i]; i++)
		if ((unsigned char)base_url[i] <= 0x20 || base_url[i] == 0x7f)
			return s7_error(err,
			    "the server URL contains a space or a control character");
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
	c->conn_limit = -1;
	c->base = xstrdup(base_url);
	while (*c->base && c->base[strlen(c->base) - 1] == '/')
		c->base[strlen(c->base) - 1] = '\0';
	/* Plain http is HTTP/1.1: HTTP/2 needs TLS (ALPN) here. */
	if (strncasecmp(c->base, "http://", 7) == 0) {
		c->proto = PROTO_H1;
		c->st.protocol = 1;
	}
	set_conn_limit(c);
	c->lim.connect_ms = 10000;
	c->lim.request_ms = 60000;
	c->lim.stream_ms = 300000;
	c->lim.low_speed_bytes = 64;
	c->lim.low_speed_s = 30;
	c->lim.retry_after_max_ms = 10000;
	c->lim.backoff_first_ms = 200;
	c->lim.backoff_max_ms = 5000;
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

int
http_client_set_auth(struct http_client *c, const char *value,
    struct s7_error *err)
{
	if (value && !header_ok(value))
		return s7_error(err,
		    "the credential contains a line break or another control character");
	if (c->auth)
		xfree_secret(c->auth, strlen(c->auth));
	c->auth = value ? xasprintf("Authorization: %s", value) : NULL;
	return 0;
}

void
http_client_stats(const struct http_client *c, struct http_stats *st)
{
	*st = c->st;
}

void
http_client_limits(struct http_client *c, struct http_limits *l)
{
	*l = c->lim;
}

void
http_client_set_limits(struct http_client *c, const struct http_limits *l)
{
	c->lim = *l;
}

const char *
http_client_url(const struct http_client *c)
{
	return c->base;
}

void
http_client_set_deadline(struct http_client *c, long long at_ms)
{
	c->deadline = at_ms;
}

long long
http_client_deadline(const struct http_client *c)
{
	return c->deadline;
}

int
http_client_lost(const struct http_client *c, long quiet_ms)
{
	return c->st.fail_streak >= 2 &&
	    http_now_ms() - c->st.fail_streak_since_ms >= quiet_ms &&
	    c->st.last_failure_ms > c->st.last_response_ms;
}

long
http_client_left_ms(const struct http_client *c)
{
	long long left;

	if (c->deadline == 0)
		return LONG_MAX;
	left = c->deadline - http_now_ms();
	return left < 0 ? 0 : left > LONG_MAX ? LONG_MAX : (long)left;
}

void
http_req_init(struct http_req *r)
{
	memset(r, 0, sizeof(*r));
	strbuf_init(&r->body_out, HTTP_BODY_MAX);
	r->retry_after_ms = -1;
}

/* curl keeps its own copy of each header line: wiped before it goes. */
static void
free_headers(struct curl_slist *h)
{
	struct curl_slist *p;

	for (p = h; p; p = p->next)
		if (p->data)
			explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(h);
}

void
http_req_release(struct http_req *r)
{
	if (r->easy)
		curl_easy_cleanup(r->easy);
	free_headers(r->headers);
	free(r->url);
	if (r->secret)
		strbuf_release_secret(&r->body_out);
	else
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

/*
 * Appends to a secret response: a buffer that must grow is copied into a
 * new one and the old one wiped, so no copy of the response is freed
 * unwiped.
 */
static int
add_secret(struct strbuf *sb, const char *data, size_t len)
{
	struct strbuf nb;
	size_t want;

	if (len > sb->max - sb->len) {
		sb->overflow = 1;
		return -1;
	}
	if (sb->len + len + 1 <= sb->alloc)
		return strbuf_add(sb, data, len);
	want = sb->alloc ? sb->alloc * 2 : 16384;
	while (want < sb->len + len + 1)
		want *= 2;
	if (want - 1 > sb->max)
		want = sb->max + 1;
	strbuf_init(&nb, sb->max);
	strbuf_addchars(&nb, 0, want - 1);
	strbuf_setlen(&nb, 0);
	strbuf_add(&nb, sb->buf, sb->len);
	strbuf_release_secret(sb);
	*sb = nb;
	return strbuf_add(sb, data, len);
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
	if ((r->secret ? add_secret(&r->body_out, data, len) :
	    strbuf_add(&r->body_out, data, len)) < 0) {
		r->aborted = 1;
		snprintf(r->errmsg, sizeof(r->errmsg),
		    "the answer is larger than %zu MB", HTTP_BODY_MAX >> 20);
		return 0;
	}
	return len;
}

/* Copies a header's value (trimmed) into buf; "" if it is not text. */
static void
header_value(const char *line, size_t len, size_t name_len, char *buf,
    size_t size)
{
	const char *v = line + name_len;
	const char *e = line + len;
	size_t n;

	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && isspace((unsigned char)e[-1]))
		e--;
	n = (size_t)(e - v);
	buf[0] = '\0';
	if (n >= size || text_has_control(v, n))
		return;
	memcpy(buf, v, n);
	buf[n] = '\0';
}

void
http_parse_header(struct http_req *r, const char *line, size_t len)
{
	char buf[64];

	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		/* A new response (after 100 Continue, say): start over. */
		const char *sp = memchr(line, ' ', len);
		size_t i;

		r->status = 0;
		r->http_version = len > 6 && line[5] == '2' ? 2 :
		    len > 6 && line[5] == '1' ? 1 : 0;
		if (sp && (size_t)(sp - line) + 4 <= len) {
			const char *d = sp + 1;
			long st = 0;

			for (i = 0; i < 3 && isdigit((unsigned char)d[i]); i++)
				st = st * 10 + (d[i] - '0');
			if (i == 3 && (size_t)(d + 3 - line) <= len &&
			    ((size_t)(d + 3 - line) == len ||
			    !isdigit((unsigned char)d[3])) && st >= 100)
				r->status = st;
		}
		r->etag[0] = '\0';
		r->content_type_out[0] = '\0';
		r->retry_after_ms = -1;
	} else if (len > 5 && strncasecmp(line, "etag:", 5) == 0) {
		header_value(line, len, 5, r->etag, sizeof(r->etag));
	} else if (len > 13 && strncasecmp(line, "content-type:", 13) == 0) {
		header_value(line, len, 13, r->content_type_out,
		    sizeof(r->content_type_out));
	} else if (len > 12 && strncasecmp(line, "retry-after:", 12) == 0) {
		size_t i, digits;
		long s = 0;

		/*
		 * Seconds, as digits only; a longer number than a day
		 * counts as a day (the caller caps it much lower), so no
		 * number can overflow.  An HTTP date is not honoured.
		 */
		header_value(line, len, 12, buf, sizeof(buf));
		digits = strspn(buf, "0123456789");
		if (digits == 0 || buf[digits] != '\0')
			return;
		for (i = 0; i < digits && s <= 86400; i++)
			s = s * 10 + (buf[i] - '0');
		if (s > 86400)
			s = 86400;
		r->retry_after_ms = s * 1000;
	}
}

static size_t
on_header(char *line, size_t size, size_t n, void *arg)
{
	struct http_req *r = arg;
	struct http_client *c = r->client;
	size_t len = size * n;

	http_parse_header(r, line, len);
	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0 && r->status > 0) {
		/* A status line is an answer, even from a quiet stream. */
		r->answered = 1;
		c->st.last_response_ms = http_now_ms();
		c->st.fail_streak = 0;
		if (r->http_version && c->proto == PROTO_UNKNOWN) {
			c->proto = r->http_version == 2 ? PROTO_H2 : PROTO_H1;
			c->st.protocol = r->http_version;
			set_conn_limit(c);
		}
	}
	return len;
}

/* Appends "Name: value" to r's headers; -1 if value is not one line. */
static int
add_header(struct http_req *r, const char *name, const char *value,
    struct s7_error *err)
{
	char *line;

	if (!header_ok(value))
		return s7_error(err, "HTTP header %s: the value contains a control character",
		    name);
	line = xasprintf("%s: %s", name, value);
	r->headers = curl_slist_append(r->headers, line);
	explicit_bzero(line, strlen(line));
	free(line);
	return 0;
}

static int
setup(struct http_client *c, struct http_req *r, struct s7_error *err)
{
	CURL *e;
	struct curl_blob blob;

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
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->lim.connect_ms);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 10L);
	if (r->on_chunk == NULL) {
		/* A server that all but stops sending is given up on. */
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, c->lim.low_speed_bytes);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, c->lim.low_speed_s);
	}
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
	free_headers(r->headers);
	r->headers = NULL;
	if ((r->content_type &&
	    add_header(r, "Content-Type", r->content_type, err) < 0) ||
	    add_header(r, "Accept", r->accept ? r->accept : "application/json",
	    err) < 0 || (r->if_none_match[0] &&
	    add_header(r, "If-None-Match", r->if_none_match, err) < 0))
		return -1;
	if (c->auth)
		r->headers = curl_slist_append(r->headers, c->auth);
	/* No "Expect: 100-continue" round trip before bodies. */
	r->headers = curl_slist_append(r->headers, "Expect:");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	return 0;
}

/* The request's budget: when its last attempt must be over (0: none). */
static long long
budget_end(const struct http_client *c, const struct http_req *r)
{
	long ms = r->timeout_ms;

	if (ms <= 0)
		ms = r->on_chunk ? 0 : c->lim.request_ms;
	return ms > 0 ? r->started_ms + ms : 0;
}

/* The earlier of two end times, 0 being none. */
static long long
earlier(long long a, long long b)
{
	if (a == 0)
		return b;
	if (b == 0)
		return a;
	return a < b ? a : b;
}

static void
start(struct http_client *c, struct http_req *r)
{
	long long now = http_now_ms(), end;
	long ms;

	r->status = 0;
	r->transport_error = 0;
	r->tls_error = 0;
	r->aborted = 0;
	r->answered = 0;
	r->errmsg[0] = '\0';
	r->retry_after_ms = -1;
	if (r->secret)
		strbuf_release_secret(&r->body_out);
	else
		strbuf_reset(&r->body_out);
	if (r->attempts++ == 0)
		r->started_ms = now;	/* the budget runs from here */
	/* This attempt ends by the budget, the deadline, and for a stream
	 * after stream_ms. */
	end = earlier(budget_end(c, r), c->deadline);
	if (r->on_chunk)
		end = earlier(end, now + c->lim.stream_ms);
	ms = end ? (end - now > 1 ? (long)(end - now) : 1) : 0;
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, ms);
	if (r->on_chunk && !r->streaming) {
		r->streaming = 1;
		c->streams++;
		if (c->streams > c->st.streams_max)
			c->st.streams_max = c->streams;
		set_conn_limit(c);
	}
	c->st.requests++;
	c->st.bytes_out += r->body_len;
	curl_multi_add_handle(c->multi, r->easy);
	r->wire = 1;
	c->running++;
	if (!r->on_chunk)
		c->inflight++;
}

static void
stream_gone(struct http_client *c, struct http_req *r)
{
	if (r->streaming) {
		r->streaming = 0;
		c->streams--;
		set_conn_limit(c);
	}
}

/*
 * Whether r may go on the wire now.  Until the protocol is known, one
 * request at a time.  Then requests that are not streams are capped
 * (HTTP/2: HTTP_H2_INFLIGHT, below the server's stream limit; HTTP/1.1:
 * HTTP_H1_CONNS) so that none waits inside curl, where its time limit
 * would run while it waits; the rest wait here.  Streams always go.
 */
static int
may_start(const struct http_client *c, const struct http_req *r)
{
	if (c->proto == PROTO_UNKNOWN)
		return c->running == 0;
	if (r->on_chunk)
		return 1;
	return c->inflight < (c->proto == PROTO_H2 ? HTTP_H2_INFLIGHT :
	    HTTP_H1_CONNS);
}

static void
enqueue(struct http_client *c, struct http_req *r)
{
	struct http_req **pp = &c->waiting;

	/* FIFO: held requests go out in the order they came. */
	while (*pp)
		pp = &(*pp)->next;
	r->next = NULL;
	*pp = r;
}

int
http_submit(struct http_client *c, struct http_req *r, struct s7_error *err)
{
	if (setup(c, r, err) < 0)
		return -1;
	if (c->deadline && http_now_ms() >= c->deadline) {
		r->deadline_hit = 1;
		return s7_error_class(err, S7_ETIMEOUT,
		    "the command's time limit ran out before %s %s could be sent",
		    r->method, c->base);
	}
	r->done = 0;
	r->attempts = 0;
	r->deadline_hit = 0;
	r->started_ms = 0;
	if (r->max_attempts == 0)
		r->max_attempts = r->on_chunk ? 1 : DEFAULT_ATTEMPTS;
	if (c->waiting || !may_start(c, r)) {
		r->held = 1;
		r->due_ms = 0;
		enqueue(c, r);
		return 0;
	}
	start(c, r);
	return 0;
}

/* Transport failures worth another attempt: the connection, not the peer. */
static int
transient(CURLcode code)
{
	switch (code) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_WEIRD_SERVER_REPLY:
		return 1;
	default:
		return 0;
	}
}

/* TLS or certificate failures: trying again gives the same answer. */
static int
tls_failure(CURLcode code)
{
	switch (code) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CLIENTCERT:
	case CURLE_USE_SSL_FAILED:
		return 1;
	default:
		return 0;
	}
}

int
http_retryable(const struct http_req *r)
{
	if (r->tls_error || r->aborted || r->deadline_hit)
		return 0;
	if (r->transport_error)
		return 1;
	return r->status == 408 || r->status == 429 ||
	    (r->status >= 500 && r->status != 501 && r->status != 505);
}

static long
backoff_ms(const struct http_client *c, const struct http_req *r)
{
	long ms = c->lim.backoff_first_ms;
	int i;

	if (r->retry_after_ms >= 0 && (r->status == 429 || r->status == 503))
		return r->retry_after_ms > c->lim.retry_after_max_ms ?
		    c->lim.retry_after_max_ms : r->retry_after_ms;
	for (i = 1; i < r->attempts && ms < c->lim.backoff_max_ms; i++)
		ms *= 2;
	return ms > c->lim.backoff_max_ms ? c->lim.backoff_max_ms : ms;
}

static void
complete(struct http_client *c, struct http_req *r)
{
	stream_gone(c, r);
	r->done = 1;
	c->progressed = 1;
	if (r->on_done)
		r->on_done(r);
}

static void
finish(struct http_client *c, CURL *e, CURLcode code)
{
	struct http_req *r = NULL;
	long conns = 0, version = 0;
	long long now = http_now_ms(), due, end;

	curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&r);
	curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &conns);
	curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &version);
	if (version == CURL_HTTP_VERSION_2_0)
		c->st.http2++;
	c->st.connections += (unsigned long)conns;
	curl_multi_remove_handle(c->multi, e);
	r->wire = 0;
	c->running--;
	if (!r->on_chunk)
		c->inflight--;
	if (r->status > 0)
		c->st.last_response_ms = now;
	if (code != CURLE_OK) {
		if (code == CURLE_WRITE_ERROR && r->on_chunk && !r->aborted) {
			/* the stream's consumer stopped it */
			r->transport_error = 0;
		} else {
			r->transport_error = 1;
			r->status = 0;
			r->tls_error = tls_failure(code);
			if (!transient(code) && !r->tls_error)
				r->aborted = 1;
			if (r->errmsg[0] == '\0')
				snprintf(r->errmsg, sizeof(r->errmsg), "%s",
				    curl_easy_strerror(code));
			if (c->deadline && now >= c->deadline - 50) {
				r->deadline_hit = 1;
				snprintf(r->errmsg, sizeof(r->errmsg),
				    "the command's time limit ran out");
			}
			/*
			 * A stream the server answered and a connection then
			 * broke is not a server that stopped answering.
			 */
			if (!r->answered) {
				snprintf(c->st.last_failure,
				    sizeof(c->st.last_failure), "%s", r->errmsg);
				if (c->st.fail_streak++ == 0)
					c->st.fail_streak_since_ms = now;
				else
					c->st.last_failure_ms = now;
			}
		}
	}
	if (http_retryable(r) && r->attempts < r->max_attempts) {
		due = now + backoff_ms(c, r);
		end = earlier(budget_end(c, r), c->deadline);
		/* A retry that could not finish in time is not started. */
		if (end == 0 || due + 100 < end) {
			r->due_ms = due;
			r->held = 0;
			enqueue(c, r);
			c->st.retries++;
			return;
		}
		if (c->deadline && end == c->deadline)
			r->deadline_hit = 1;
	}
	complete(c, r);
}

/* Starts what waits and may go, in order: held requests, due retries. */
static long long
release(struct http_client *c, long long now)
{
	struct http_req **pp, *r;
	long long next = -1;

	for (pp = &c->waiting; (r = *pp) != NULL; ) {
		int go = (r->held || r->due_ms <= now) && may_start(c, r);

		if (go) {
			*pp = r->next;
			r->held = 0;
			start(c, r);
			continue;
		}
		if (!r->held && (next < 0 || r->due_ms < next))
			next = r->due_ms;
		pp = &r->next;
	}
	return next;
}

/* At the deadline, what waits is finished without being sent again. */
static void
expire(struct http_client *c)
{
	struct http_req *r;

	while ((r = c->waiting) != NULL) {
		c->waiting = r->next;
		r->deadline_hit = 1;
		if (r->held || r->attempts == 0) {
			r->transport_error = 1;
			snprintf(r->errmsg, sizeof(r->errmsg),
			    "the command's time limit ran out before it was sent");
		}
		r->held = 0;
		complete(c, r);
	}
}

static int
pending(const struct http_client *c)
{
	int n = c->running;
	struct http_req *r;

	for (r = c->waiting; r; r = r->next)
		n++;
	return n;
}

int
http_run(struct http_client *c, long timeout_ms)
{
	long long start_ms = http_now_ms();
	long long until = timeout_ms >= 0 ? start_ms + timeout_ms : -1;

	if (c->deadline && (until < 0 || c->deadline < until))
		until = c->deadline;
	for (;;) {
		long long now = http_now_ms(), next;
		CURLMsg *m;
		int still = 0, left;
		long wait;

		if (c->deadline && now >= c->deadline)
			expire(c);
		next = release(c, now);
		c->progressed = 0;
		curl_multi_perform(c->multi, &still);
		while ((m = curl_multi_info_read(c->multi, &left)) != NULL)
			if (m->msg == CURLMSG_DONE)
				finish(c, m->easy_handle, m->data.result);
		if (c->progressed)
			break;		/* let the caller look at what changed */
		now = http_now_ms();
		if (until >= 0 && now >= until)
			break;
		if (c->running == 0 && c->waiting == NULL && timeout_ms < 0)
			return 0;	/* nothing to do, no time to spend */
		wait = 1000;
		if (next >= 0 && next - now < wait)
			wait = (long)(next - now);
		if (until >= 0 && until - now < wait)
			wait = (long)(until - now);
		if (wait < 0)
			wait = 0;
		if (c->running)
			curl_multi_poll(c->multi, NULL, 0, (int)wait, NULL);
		else if (wait > 0) {
			struct timespec ts = { wait / 1000, (wait % 1000) * 1000000 };

			nanosleep(&ts, NULL);
		}
	}
	return pending(c);
}

void
http_cancel(struct http_client *c, struct http_req *r)
{
	struct http_req **pp;

	for (pp = &c->waiting; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			r->held = 0;
			stream_gone(c, r);
			r->done = 1;
			return;
		}
	if (r->wire) {
		curl_multi_remove_handle(c->multi, r->easy);
		r->wire = 0;
		c->running--;
		if (!r->on_chunk)
			c->inflight--;
	}
	stream_gone(c, r);
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
