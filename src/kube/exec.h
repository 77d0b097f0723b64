/*
 * Running a command in a pod's container through the API server, as
 * kubectl exec does: a WebSocket (src/http/ws.h) upgrade of
 * GET .../pods/NAME/exec with subprotocol v5.channel.k8s.io.  Every
 * message is binary and starts with its channel: 0 stdin, 1 stdout,
 * 2 stderr, 3 the command's outcome (a Status), 255 "close channel N"
 * (v5: how the client says stdin has ended).
 *
 * The caller's stdin comes from a buffer then a file descriptor, stdout
 * goes to a callback as it arrives (a dump can be gigabytes), stderr to a
 * capped buffer.  Nothing here keeps what it passes on.
 */
#ifndef S7_KUBE_EXEC_H
#define S7_KUBE_EXEC_H

#include <stddef.h>

#include "client.h"
#include "../util/strbuf.h"

#define EXEC_PROTOCOL "v5.channel.k8s.io"

/* Gets each piece of stdout; non-zero stops the command (an error). */
typedef int (*exec_out_fn)(void *arg, const void *data, size_t len);

struct exec_io {
	const void *in;			/* sent first (a password line), or NULL */
	size_t in_len;
	int in_fd;			/* then this until its end; -1: none */
	exec_out_fn out;		/* stdout; NULL: dropped */
	void *out_arg;
	struct strbuf *err_out;		/* stderr, up to its cap; or NULL */
	long idle_timeout_ms;		/* no message for this long: an error (0: 10 min) */
};

/*
 * Runs argv in namespace/pod's container (NULL: the pod's only or
 * default container) and waits for it to end.  *exit_code gets its exit
 * status (0 when it succeeded).  -1 when it could not run or the stream
 * broke (err says why; the API server's message when it refused).
 */
int kube_exec(struct kube_client *k, const char *namespace, const char *pod,
    const char *container, const char *const *argv, const struct exec_io *io,
    int *exit_code, struct s7_error *err);

/*
 * The same exchange over a connection the caller opened: the URL is the
 * exec endpoint's, with its query.  For tests against a server that
 * speaks the protocol.
 */
int kube_exec_url(const char *url, const struct http_tls *tls,
    const char *auth, const struct exec_io *io, int *exit_code,
    struct s7_error *err);

/* Appends s to sb percent-encoded for a URL query value. */
void url_query_escape(struct strbuf *sb, const char *s);

#endif
