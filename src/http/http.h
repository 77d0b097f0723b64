/*
 * HTTP over one reused connection: the only module that includes libcurl.
 *
 * A client holds a curl multi handle set to multiplex every request over a
 * single HTTP/2 connection (TLS always verified unless the caller says
 * insecure).  Requests are submitted and driven by http_run; http_do is the
 * synchronous form.  Transient failures (connection errors, 408, 429,
 * 5xx) are retried with capped exponential backoff, honouring Retry-After,
 * until the request's retry budget is spent; the response then carries the
 * last outcome.
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

#define HTTP_BODY_MAX ((size_t)256 * 1024 * 1024)

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
	long timeout_ms;		/* 0: no limit (watches) */
	int max_attempts;		/* 0: the client's default */
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
	char errmsg[256];
	int done;

	/* the client's */
	void *easy;
	struct curl_slist *headers;
	struct http_client *client;
	long retry_after_ms;
	long long due_ms;		/* when a pending retry may start */
	struct http_req *next;
};

struct http_stats {
	long long last_response_ms;	/* when an HTTP answer last came */
	long long last_failure_ms;	/* when a request last got none */
	char last_failure[256];		/* and why */
	unsigned long requests;		/* sent, retries included */
	unsigned long http2;		/* of those answered over HTTP/2 */
	unsigned long retries;
	unsigned long connections;	/* opened */
	unsigned long long bytes_in, bytes_out;
};

int http_client_new(struct http_client **out, const char *base_url,
    const struct http_tls *tls, struct s7_error *err);
void http_client_free(struct http_client *c);
/* Sets (or clears, with NULL) the Authorization header of every request. */
void http_client_set_auth(struct http_client *c, const char *header_value);
void http_client_stats(const struct http_client *c, struct http_stats *st);

void http_req_init(struct http_req *r);
void http_req_release(struct http_req *r);
/* Sets r->url to the client's base URL followed by path (printf). */
void http_req_url(struct http_client *c, struct http_req *r,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Queues r; it runs during http_run. */
int http_submit(struct http_client *c, struct http_req *r,
    struct s7_error *err);
/*
 * Drives queued requests, calling their on_done, until one finishes or a
 * stream delivers data, or timeout_ms passes (-1: no limit), or nothing
 * is left.  Returns the number still running or waiting to retry.
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

#endif
