/*
 * HTTP for the Kubernetes client: the only module that includes libcurl.
 *
 * A client holds a curl multi handle.  Over HTTP/2 every request shares
 * one TLS connection (streams multiplexed); a server that speaks only
 * HTTP/1.1 (kubectl proxy, some load balancers) gets one connection per
 * open stream plus HTTP_H1_CONNS for the other requests, so a watch
 * never holds up a request.  Until the first answer says which protocol
 * the server speaks, one request runs at a time.  TLS is always verified
 * unless the caller says insecure.
 *
 * Requests that are not streams go on the wire at most HTTP_H2_INFLIGHT
 * (HTTP/2) or HTTP_H1_CONNS (HTTP/1.1) at a time; the rest wait here, in
 * order, not inside curl.
 *
 * Time is bounded three ways: the client's deadline (one per command:
 * every request, retry and wait stops there), each request's budget
 * (timeout_ms covers all of its attempts, from the first one's start),
 * and a low-speed limit (a server that sends almost nothing for
 * low_speed_s is given up on).
 *
 * Transient failures (connection errors, 408, 429, 5xx) are retried with
 * capped exponential backoff, honouring a bounded Retry-After, while the
 * request's budget lasts; TLS and certificate failures are not retried.
 *
 * Header values are checked: one holding a control character (a token
 * with a line break, say) is refused, so nothing can add a header.  A
 * request marked secret has its response wiped when released; curl's
 * header lists are wiped too (they hold the Authorization header).
 *
 * The client owns its curl handles and copies of the TLS material; a
 * request owns its URL, headers and response body.  The caller owns the
 * request struct and the request body it points to.
 */
#ifndef S7_HTTP_H
#define S7_HTTP_H

#include <stddef.h>

#include "../util/error.h"
#include "../util/strbuf.h"

#define HTTP_BODY_MAX ((size_t)64 * 1024 * 1024)
#define HTTP_H1_CONNS 8			/* HTTP/1.1: for requests other than streams */
#define HTTP_H2_INFLIGHT 100		/* HTTP/2: requests on the wire at once */

struct http_tls {
	const char *ca;		/* PEM trust anchors; NULL: the system's */
	size_t ca_len;
	const char *cert;	/* PEM client certificate, or NULL */
	size_t cert_len;
	const char *key;	/* PEM client key, or NULL (wiped by the caller) */
	size_t key_len;
	const char *server_name;	/* expected name in the certificate */
	int insecure;		/* skip verification: the kubeconfig said so */
};

/* The client's time limits; http_client_new sets the defaults shown. */
struct http_limits {
	long connect_ms;	/* 10000: to set up a connection */
	long request_ms;	/* 60000: a request's budget, retries included */
	long stream_ms;		/* 300000: one attempt of a stream (a watch) */
	long low_speed_bytes;	/* 64: slower than this ... */
	long low_speed_s;	/* 30: ... for this long, and it is given up */
	long retry_after_max_ms;	/* 10000: longest Retry-After honoured */
	long backoff_first_ms, backoff_max_ms;	/* 200, 5000 */
};

struct http_client;
struct http_req;

/* Called for each piece of a streamed body; non-zero aborts the request. */
typedef int (*http_chunk_fn)(struct http_req *r, const char *data,
    size_t len);
/* Called once when a request is finished (after any retries). */
typedef void (*http_done_fn)(struct http_req *r);

struct http_req {
	/* what to send */
	const char *method;		/* GET, POST, PUT, PATCH, DELETE */
	char *url;			/* owned: set with http_req_url() */
	const char *content_type;
	const char *accept;
	const char *body;		/* not owned */
	size_t body_len;
	char if_none_match[256];	/* ETag to revalidate, or "" */
	long timeout_ms;		/* budget, retries included; 0: the
					   client's (streams: none but the
					   deadline and stream_ms per attempt) */
	int max_attempts;		/* 0: the client's default */
	int secret;			/* the body sent or received holds
					   secrets: wiped, never quoted */
	http_chunk_fn on_chunk;		/* stream instead of buffering */
	http_done_fn on_done;
	void *arg;

	/* what came back */
	long status;			/* 0: no HTTP response */
	struct strbuf body_out;		/* unless streamed */
	char etag[256];
	char content_type_out[128];
	int attempts;
	int transport_error;		/* 1: no response (see errmsg) */
	int deadline_hit;		/* 1: the client's deadline stopped it */
	int tls_error;			/* 1: TLS or certificate failure */
	int http_version;		/* 1 or 2: of the last answer */
	char errmsg[256];
	int done;

	/* the client's */
	void *easy;
	struct curl_slist *headers;
	struct http_client *client;
	long retry_after_ms;
	long long started_ms;		/* the first attempt */
	long long due_ms;		/* when a pending retry may start */
	int held;			/* waits until the protocol is known */
	int aborted;			/* stopped by us: errmsg says why */
	int answered;			/* this attempt got a status line */
	int streaming;			/* counted as an open stream */
	int wire;			/* added to the multi handle */
	struct http_req *next;
};

struct http_stats {
	long long last_response_ms;	/* when an HTTP answer (a status line,
					   or a stream's data) last came */
	long long last_failure_ms;	/* when a second request in a row
					   got no answer (one stalled or cut
					   request is not a lost server) */
	char last_failure[256];		/* why the last one got none */
	unsigned long fail_streak;	/* requests without an answer since
					   the last answer */
	long long fail_streak_since_ms;	/* the first of those */
	unsigned long requests;		/* sent, retries included */
	unsigned long http2;		/* of those answered over HTTP/2 */
	unsigned long retries;
	unsigned long connections;	/* opened */
	unsigned long long bytes_in, bytes_out;
	int protocol;			/* 0 not known yet, 1 HTTP/1.x, 2 HTTP/2 */
	unsigned long streams_max;	/* most streams open at once */
	long connections_max;		/* the highest connection limit set */
};

int http_client_new(struct http_client **out, const char *base_url,
    const struct http_tls *tls, struct s7_error *err);
void http_client_free(struct http_client *c);
/*
 * Sets (or clears, with NULL) the Authorization header of every request.
 * A value holding a control character is refused (-1): what names it is
 * for the caller's message.
 */
int http_client_set_auth(struct http_client *c, const char *header_value,
    struct s7_error *err);
void http_client_stats(const struct http_client *c, struct http_stats *st);
void http_client_limits(struct http_client *c, struct http_limits *l);
void http_client_set_limits(struct http_client *c, const struct http_limits *l);
/*
 * Whether the server has stopped answering: at least two attempts in a
 * row got no answer at all, the first quiet_ms or more ago, and nothing
 * answered since.  A quiet stretch without requests, or a stream cut
 * after the server answered it, is not "lost".
 */
int http_client_lost(const struct http_client *c, long quiet_ms);
/* The base URL (the server), as given to http_client_new. */
const char *http_client_url(const struct http_client *c);

/*
 * The deadline: an absolute time on the http_now_ms() clock (0: none).
 * Requests running then are stopped (deadline_hit), none is started or
 * retried after it, and http_run returns by it.
 */
void http_client_set_deadline(struct http_client *c, long long at_ms);
long long http_client_deadline(const struct http_client *c);
/* Milliseconds left before the deadline (LONG_MAX when there is none). */
long http_client_left_ms(const struct http_client *c);

void http_req_init(struct http_req *r);
/* Releases what r owns (wiping its response when r->secret). */
void http_req_release(struct http_req *r);
/* Sets r->url to the client's base URL followed by path (printf). */
void http_req_url(struct http_client *c, struct http_req *r,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Queues r; it runs during http_run.  Fails when a header value holds a
 * control character, or when the deadline has passed (class S7_ETIMEOUT).
 */
int http_submit(struct http_client *c, struct http_req *r,
    struct s7_error *err);
/*
 * Drives queued requests, calling their on_done, until one finishes or a
 * stream delivers data, or timeout_ms passes (-1: no limit but the
 * deadline), or the deadline passes.  With nothing to drive it waits
 * timeout_ms (but not past the deadline) so that a caller's loop does not
 * spin.  Returns the number still running or waiting to retry.
 */
int http_run(struct http_client *c, long timeout_ms);
/* Stops a queued or running request (no on_done). */
void http_cancel(struct http_client *c, struct http_req *r);
/* Submits r and runs until it is done. */
int http_do(struct http_client *c, struct http_req *r, struct s7_error *err);

/* Whether a finished request should be retried. */
int http_retryable(const struct http_req *r);
/* Milliseconds since an arbitrary start (monotonic). */
long long http_now_ms(void);

/*
 * Parses one response header line into r (status line, ETag,
 * Content-Type, Retry-After).  Used by the client for each line curl
 * hands over; exposed for the fuzzer.
 */
void http_parse_header(struct http_req *r, const char *line, size_t len);

#endif
