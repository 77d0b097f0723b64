/*
 * The HTTP client against a scripted server on loopback
 * (tests/http/server.py): what is retried and how long that may take,
 * the deadline, a silent and a slowloris server, Retry-After values that
 * would overflow, TLS failures not retried, a stream next to requests on
 * an HTTP/1.1 server, header values that would add headers, and errors
 * that must not quote secrets or control characters.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "httpd.h"
#include "http/http.h"
#include "kube/client.h"

static struct http_req *
get(struct http_client *c, const char *path)
{
	static struct http_req r;
	struct s7_error err;

	http_req_release(&r);
	r.method = "GET";
	r.timeout_ms = 10000;
	http_req_url(c, &r, "%s", path);
	CHECK(http_do(c, &r, &err) == 0);
	return &r;
}

/* Small limits, so the slow cases take seconds, not minutes. */
static void
quick(struct http_client *c)
{
	struct http_limits l;

	http_client_limits(c, &l);
	l.low_speed_s = 2;
	l.request_ms = 6000;
	l.retry_after_max_ms = 1000;
	http_client_set_limits(c, &l);
}

static void
retries(const char *base)
{
	struct http_client *c = NULL;
	struct http_req *r;
	struct s7_error err;
	struct http_stats st;
	long long t0;

	s7_error_clear(&err);
	CHECK(http_client_new(&c, base, NULL, &err) == 0);
	r = get(c, "/flaky");
	CHECK(r->status == 200 && r->attempts == 3);
	CHECK_STR(r->body_out.buf, "ok");

	t0 = http_now_ms();
	r = get(c, "/slow-down");
	CHECK(r->status == 200 && r->attempts == 2);
	CHECK(http_now_ms() - t0 >= 1000);	/* Retry-After: 1 */

	r = get(c, "/timeout");
	CHECK(r->status == 200 && r->attempts == 2);

	/*
	 * A connection closed without an answer.  On a fresh connection
	 * (curl itself retries a reused one that died) it is our retry.
	 */
	{
		struct http_client *c2 = NULL;

		CHECK(http_client_new(&c2, base, NULL, &err) == 0);
		r = get(c2, "/reset");
		CHECK(r->status == 200 && r->attempts == 2);
		http_req_release(r);
		http_client_free(c2);
	}

	t0 = http_now_ms();
	r = get(c, "/broken");
	CHECK(r->status == 500 && r->attempts == 6);
	/* capped exponential backoff: 0.2 + 0.4 + 0.8 + 1.6 + 3.2 s */
	CHECK(http_now_ms() - t0 >= 6000);

	r = get(c, "/missing");
	CHECK(r->status == 404 && r->attempts == 1);

	r = get(c, "/status");
	CHECK(r->status == 422 && r->attempts == 1);
	kube_req_error(r, "Deployment demo/web", &err);
	CHECK_STR(err.msg, "Deployment demo/web: the object is invalid: spec.x: Required value (HTTP 422)");
	CHECK(err.class == S7_ECLUSTER);

	http_client_stats(c, &st);
	CHECK(st.retries == 2 + 1 + 1 + 5);
	CHECK(st.protocol == 1);
	http_req_release(r);
	http_client_free(c);
}

/*
 * A server that accepts and never answers, and one that sends a header a
 * byte a second: each request gives up within its budget (6 s here) by
 * the low-speed limit, instead of 60 s per attempt times six.
 */
static void
slow_servers(const char *base)
{
	static const char *const paths[] = { "/silent", "/slowloris" };
	struct http_client *c = NULL;
	struct s7_error err;
	size_t i;

	CHECK(http_client_new(&c, base, NULL, &err) == 0);
	quick(c);
	for (i = 0; i < 2; i++) {
		long long t0 = http_now_ms(), took;
		struct http_req rr, *r = &rr;

		http_req_init(r);
		r->method = "GET";		/* the client's budget: 6 s */
		http_req_url(c, r, "%s", paths[i]);
		CHECK(http_do(c, r, &err) == 0);
		took = http_now_ms() - t0;

		printf("  http: %s gave up after %.1fs, %d attempts\n", paths[i],
		    (double)took / 1000, r->attempts);
		CHECK(r->transport_error && r->status == 0);
		CHECK(took >= 2000 && took < 8000);
		CHECK(r->attempts >= 1 && r->attempts <= 3);
		kube_req_error(r, "list", &err);
		/* the server is named */
		CHECK_CONTAINS(err.msg, base);
		http_req_release(r);
	}
	http_client_free(c);
}

/*
 * Retry-After: a 20-digit value must not overflow (UBSan stops the test
 * if it does) and is capped; a day is capped too.
 */
static void
retry_after(const char *base)
{
	struct http_client *c = NULL;
	struct http_req h;
	struct s7_error err;
	long long t0;
	struct http_req *r;
	static const struct {
		const char *line;
		long want;
	} t[] = {
		{ "Retry-After: 3\r\n", 3000 },
		{ "retry-after:   7  \r\n", 7000 },
		{ "Retry-After: 99999999999999999999\r\n", 86400000 },
		{ "Retry-After: 99999999999999999999999999999999999999999\r\n", 86400000 },
		{ "Retry-After: -5\r\n", -1 },
		{ "Retry-After: 5x\r\n", -1 },
		{ "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n", -1 },
		{ "Retry-After:\r\n", -1 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		http_req_init(&h);
		http_parse_header(&h, t[i].line, strlen(t[i].line));
		CHECK(h.retry_after_ms == t[i].want);
		http_req_release(&h);
	}
	/* status lines: only three digits make a status */
	http_req_init(&h);
	http_parse_header(&h, "HTTP/2 204\r\n", 12);
	CHECK(h.status == 204 && h.http_version == 2);
	http_parse_header(&h, "HTTP/1.1 2000 OK\r\n", 18);
	CHECK(h.status == 0 && h.http_version == 1);
	http_parse_header(&h, "HTTP/1.1 99999999999999999999\r\n", 31);
	CHECK(h.status == 0);
	http_parse_header(&h, "ETag: \"a\x01b\"\r\n", 13);
	CHECK(h.etag[0] == '\0');
	http_parse_header(&h, "ETag: \"abc\"\r\n", 13);
	CHECK_STR(h.etag, "\"abc\"");
	http_req_release(&h);

	CHECK(http_client_new(&c, base, NULL, &err) == 0);
	quick(c);
	t0 = http_now_ms();
	r = get(c, "/retry-huge");
	CHECK(r->status == 200 && r->attempts == 2);
	CHECK(http_now_ms() - t0 < 3000);	/* capped at 1 s here */
	/* a day, every time: the request's budget ends it */
	t0 = http_now_ms();
	r = get(c, "/retry-day");
	CHECK(r->status == 429);
	CHECK(http_now_ms() - t0 < 8000);
	http_req_release(r);
	http_client_free(c);
}

/*
 * One deadline for everything: a request running when it passes stops
 * then, retries are not started past it, and nothing is sent after it.
 */
static void
deadline(const char *base)
{
	struct http_client *c = NULL;
	struct http_req r;
	struct s7_error err;
	long long t0 = http_now_ms();

	CHECK(http_client_new(&c, base, NULL, &err) == 0);
	http_client_set_deadline(c, t0 + 1500);
	http_req_init(&r);
	r.method = "GET";
	http_req_url(c, &r, "/silent");
	CHECK(http_do(c, &r, &err) == 0);
	CHECK(r.deadline_hit && r.transport_error);
	CHECK(http_now_ms() - t0 >= 1400 && http_now_ms() - t0 < 5000);	/* not 60 s */
	kube_req_error(&r, "apply", &err);
	CHECK(err.class == S7_ETIMEOUT);
	CHECK_CONTAINS(err.msg, "time limit");
	http_req_release(&r);
	/* after it (the request above may end up to 50 ms before): refused
	 * at once */
	while (http_now_ms() < t0 + 1500)
		usleep(10000);
	http_req_init(&r);
	r.method = "GET";
	http_req_url(c, &r, "/ok");
	CHECK(http_submit(c, &r, &err) < 0 && err.class == S7_ETIMEOUT);
	http_req_release(&r);
	/* a retry that would end past it is not started */
	http_client_set_deadline(c, http_now_ms() + 1000);
	t0 = http_now_ms();
	http_req_init(&r);
	r.method = "GET";
	http_req_url(c, &r, "/broken");
	CHECK(http_do(c, &r, &err) == 0);
	CHECK(r.status == 500 && r.attempts < 6);
	CHECK(http_now_ms() - t0 < 3000);
	http_req_release(&r);
	/* and http_run does not wait past it */
	t0 = http_now_ms();
	http_client_set_deadline(c, t0 + 300);
	http_run(c, 5000);
	CHECK(http_now_ms() - t0 < 3000);	/* not 5 s */
	http_client_free(c);
}

/* A certificate that does not verify is not tried again. */
static void
tls(int tls_port)
{
	struct http_client *c = NULL;
	struct http_req *r;
	struct s7_error err;
	char base[64];

	if (tls_port == 0) {
		printf("  http: no TLS server (openssl missing): TLS case not run\n");
		CHECK(0);
		return;
	}
	snprintf(base, sizeof(base), "https://127.0.0.1:%d", tls_port);
	CHECK(http_client_new(&c, base, NULL, &err) == 0);
	r = get(c, "/ok");
	CHECK(r->transport_error && r->tls_error && r->attempts == 1);
	kube_req_error(r, "discovery", &err);
	CHECK_CONTAINS(err.msg, "not retried");
	CHECK_CONTAINS(err.msg, base);
	http_req_release(r);
	http_client_free(c);
}

static int stream_chunks;

static int
on_stream(struct http_req *r, const char *data, size_t len)
{
	(void)r;
	(void)data;
	(void)len;
	stream_chunks++;
	return 0;
}

/*
 * HTTP/1.1 (the scripted server, like kubectl proxy): a stream holds its
 * connection for 4 s, and a request sent meanwhile is answered at once
 * on a connection of its own.  With one connection it waited 4 s.
 */
static void
h1_stream(const char *base)
{
	struct http_client *c = NULL;
	struct http_req s, r;
	struct http_stats st;
	struct s7_error err;
	long long t0;

	CHECK(http_client_new(&c, base, NULL, &err) == 0);
	http_req_init(&s);
	s.method = "GET";
	s.on_chunk = on_stream;
	http_req_url(c, &s, "/stream");
	CHECK(http_submit(c, &s, &err) == 0);
	while (stream_chunks == 0)
		http_run(c, 1000);
	t0 = http_now_ms();
	http_req_init(&r);
	r.method = "GET";
	http_req_url(c, &r, "/ok");
	CHECK(http_do(c, &r, &err) == 0);
	CHECK(r.status == 200);
	printf("  http: a request next to an HTTP/1.1 stream: %lld ms\n",
	    http_now_ms() - t0);
	CHECK(http_now_ms() - t0 < 3000);	/* not the stream's 4 s */
	CHECK(!s.done);
	http_client_stats(c, &st);
	CHECK(st.protocol == 1 && st.connections_max >= 2);
	CHECK(!http_client_lost(c, 0));
	http_cancel(c, &s);
	http_req_release(&s);
	http_req_release(&r);
	http_client_free(c);
}

/* Header values that would end the line and add a header are refused. */
static void
headers(const char *base)
{
	struct http_client *c = NULL;
	struct http_req r;
	struct s7_error err;

	CHECK(http_client_new(&c, base, NULL, &err) == 0);
	CHECK(http_client_set_auth(c, "Bearer abc\r\nX-Injected: 1", &err) < 0);
	CHECK_CONTAINS(err.msg, "control character");
	CHECK(strstr(err.msg, "abc") == NULL);
	CHECK(http_client_set_auth(c, "Bearer abc\n", &err) < 0);
	CHECK(http_client_set_auth(c, "Bearer abc", &err) == 0);
	http_req_init(&r);
	r.method = "GET";
	r.content_type = "text/plain\r\nX-Injected: 1";
	http_req_url(c, &r, "/headers");
	CHECK(http_submit(c, &r, &err) < 0);
	CHECK_CONTAINS(err.msg, "Content-Type");
	http_req_release(&r);
	http_req_init(&r);
	r.method = "GET";
	http_req_url(c, &r, "/headers");
	CHECK(http_do(c, &r, &err) == 0 && r.status == 200);
	CHECK_CONTAINS(r.body_out.buf, "\"Authorization\": \"Bearer abc\"");
	CHECK(strstr(r.body_out.buf, "X-Injected") == NULL);
	http_req_release(&r);
	/* a secret response is whole, however it grew */
	http_req_init(&r);
	r.method = "GET";
	r.secret = 1;
	http_req_url(c, &r, "/big");
	CHECK(http_do(c, &r, &err) == 0 && r.body_out.len == 1048576);
	CHECK(memcmp(r.body_out.buf + 1048560, "0123456789abcdef", 16) == 0);
	http_req_release(&r);
	http_client_free(c);
	CHECK(http_client_new(&c, "http://127.0.0.1:1/\r\nX: y", NULL, &err) < 0);
	CHECK(c == NULL);
}

/*
 * Server messages: a Secret's are never quoted (the server echoes the
 * values it was sent), others are escaped and cut.
 */
static void
messages(const char *base)
{
	struct http_client *c = NULL;
	struct http_req r;
	struct s7_error err;
	const char *body = "{\"data\":{\"password\":\"s3cr3t-Value-That-Must-Not-Print\"}}";

	CHECK(http_client_new(&c, base, NULL, &err) == 0);
	http_req_init(&r);
	r.method = "PATCH";
	r.body = body;
	r.body_len = strlen(body);
	r.content_type = "application/merge-patch+json";
	http_req_url(c, &r, "/api/v1/namespaces/demo/secrets/creds");
	CHECK(http_do(c, &r, &err) == 0 && r.status == 422);
	/* the server did quote it */
	CHECK_CONTAINS(r.body_out.buf, "s3cr3t-Value");
	kube_req_error(&r, "Secret demo/creds", &err);
	CHECK(strstr(err.msg, "s3cr3t") == NULL);
	CHECK_STR(err.msg, "Secret demo/creds: HTTP 422 (Invalid) (the server's message is not shown: the request carries secret values)");
	http_req_release(&r);

	http_req_init(&r);
	r.method = "GET";
	r.max_attempts = 1;
	http_req_url(c, &r, "/hostile");
	CHECK(http_do(c, &r, &err) == 0 && r.status == 500);
	kube_req_error(&r, "ConfigMap a/b", &err);
	CHECK(strchr(err.msg, '\033') == NULL && strchr(err.msg, '\007') == NULL);
	CHECK_CONTAINS(err.msg, "bad \\x1b[31mred\\x1b[0m \\x1b]0;title\\x07 xxx");
	CHECK_CONTAINS(err.msg, "more bytes)");
	CHECK(strlen(err.msg) < 700);
	http_req_release(&r);
	http_client_free(c);

	CHECK(kube_path_is_secret("/api/v1/namespaces/a/secrets/b"));
	CHECK(kube_path_is_secret("/api/v1/namespaces/a/secrets"));
	CHECK(kube_path_is_secret("/api/v1/namespaces/a/secrets?limit=0"));
	CHECK(kube_path_is_secret("https://h:6443/api/v1/secrets"));
	CHECK(kube_path_is_secret("https://h:6443/api/v1/namespaces/x/secrets/y?fieldManager=z"));
	CHECK(!kube_path_is_secret("/api/v1/namespaces/secrets"));
	CHECK(!kube_path_is_secret("/api/v1/namespaces/a/configmaps/secrets"));
	CHECK(!kube_path_is_secret("/apis/apps/v1/namespaces/a/deployments/secrets"));
	CHECK(!kube_path_is_secret("/api/v1/namespaces/a/secretsx"));
	CHECK(!kube_path_is_secret(NULL));
}

/* Nobody listening: a transport error after the retry budget. */
static void
nobody(const char *base)
{
	struct http_client *c = NULL;
	struct http_req *r;
	struct s7_error err;

	httpd_stop();
	CHECK(http_client_new(&c, base, NULL, &err) == 0);
	r = get(c, "/flaky");
	CHECK(r->transport_error && r->attempts == 6);
	kube_req_error(r, "list", &err);
	CHECK_CONTAINS(err.msg, "list: ");
	CHECK_CONTAINS(err.msg, "(after 6 attempts)");
	CHECK_CONTAINS(err.msg, base);
	/* six attempts over six seconds, none answered: the server is lost */
	CHECK(http_client_lost(c, 3000));
	http_req_release(r);
	http_client_free(c);
}

int
main(void)
{
	char base[64];
	int tls_port, port = httpd_start(&tls_port);

	CHECK(port > 0);
	if (port <= 0)
		return unit_done("http");
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	retries(base);
	slow_servers(base);
	retry_after(base);
	deadline(base);
	tls(tls_port);
	h1_stream(base);
	headers(base);
	messages(base);
	nobody(base);
	return unit_done("http");
}
