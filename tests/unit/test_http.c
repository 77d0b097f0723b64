/*
 * The HTTP client's retries, against a scripted server on loopback
 * (tests/http/server.py): 503, 408 and a reset connection are retried,
 * 429 waits for Retry-After, a 500 that never ends gives up after the
 * retry budget, and 404 or 422 are not retried, their Status message kept.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "http/http.h"
#include "kube/client.h"

static pid_t server;

static int
start_server(void)
{
	int fd[2];
	char buf[32] = "";
	size_t len = 0;
	ssize_t n;

	if (pipe(fd) < 0)
		return -1;
	server = fork();
	if (server == 0) {
		dup2(fd[1], 1);
		close(fd[0]);
		execl("/usr/bin/python3", "python3", "tests/http/server.py",
		    (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	/*
	 * The whole line: the port may come in more than one write (Python
	 * writes "print"'s end separately when unbuffered), and closing the
	 * pipe before the last one kills the server with EPIPE.
	 */
	while (len < sizeof(buf) - 1 && memchr(buf, '\n', len) == NULL) {
		n = read(fd[0], buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(fd[0]);
	return len > 0 ? atoi(buf) : -1;
}

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

int
main(void)
{
	struct http_client *c = NULL;
	struct http_req *r;
	struct s7_error err;
	struct http_stats st;
	char base[64];
	long long t0;
	int port = start_server();

	CHECK(port > 0);
	if (port <= 0)
		return unit_done("http");
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
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
	http_req_release(r);
	http_client_free(c);

	/* Nobody listening: a transport error after the retry budget. */
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);
	CHECK(http_client_new(&c, base, NULL, &err) == 0);
	r = get(c, "/flaky");
	CHECK(r->transport_error && r->attempts == 6);
	kube_req_error(r, "list", &err);
	CHECK_CONTAINS(err.msg, "list: ");
	CHECK_CONTAINS(err.msg, "(after 6 attempts)");
	http_req_release(r);
	http_client_free(c);
	return unit_done("http");
}
