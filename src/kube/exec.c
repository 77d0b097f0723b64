/*
 * The exec protocol over a WebSocket.  stdin is sent in pieces of 32 KiB,
 * with what the server sent in between taken first, so neither side's
 * buffers fill while the other waits.  The outcome arrives on channel 3
 * as a Status: "Success", or "Failure" with reason NonZeroExitCode and the
 * code in details.causes[reason=ExitCode].message; then the server closes
 * the connection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec.h"
#include "../http/ws.h"
#include "../json/json.h"
#include "../util/strnum.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

#define IN_CHUNK 32768
#define STATUS_MAX 65536

enum { CH_STDIN = 0, CH_STDOUT = 1, CH_STDERR = 2, CH_ERROR = 3,
	CH_CLOSE = 255 };

void
url_query_escape(struct strbuf *sb, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
		    ch == '.' || ch == '~') {
			strbuf_addch(sb, ch);
		} else {
			strbuf_addch(sb, '%');
			strbuf_addch(sb, hex[ch >> 4]);
			strbuf_addch(sb, hex[ch & 15]);
		}
	}
}

/* The outcome from the Status of channel 3. */
static int
outcome(const struct strbuf *st, int *exit_code, struct s7_error *err)
{
	struct arena a;
	struct ynode *root = NULL;
	const struct ynode *causes;
	const char *status, *reason, *msg;
	size_t i;
	int ret = -1;

	arena_init(&a);
	if (st->len == 0) {
		s7_error_class(err, S7_ECLUSTER,
		    "exec: the stream ended without the command's outcome");
		goto done;
	}
	if (json_parse(&a, "exec status", st->buf, st->len, &root, err) < 0) {
		err->class = S7_ECLUSTER;
		goto done;
	}
	status = ynode_get_str(root, "status");
	if (status && strcmp(status, "Success") == 0) {
		*exit_code = 0;
		ret = 0;
		goto done;
	}
	reason = ynode_get_str(root, "reason");
	msg = ynode_get_str(root, "message");
	causes = ynode_path(root, "details.causes");
	if (reason && strcmp(reason, "NonZeroExitCode") == 0) {
		for (i = 0; causes && causes->kind == Y_SEQ && i < causes->n; i++) {
			const char *r = ynode_get_str(causes->v[i], "reason");
			const char *m = ynode_get_str(causes->v[i], "message");
			const char *bad = NULL;
			long long code = m ? s7_strtonum(m, 0, 255, &bad) : 0;

			if (r && m && strcmp(r, "ExitCode") == 0 && bad == NULL) {
				*exit_code = (int)code;
				ret = 0;
				goto done;
			}
		}
	}
	s7_error_class(err, S7_ECLUSTER, "exec: %s", msg ? msg : "the command failed");
done:
	arena_release(&a);
	return ret;
}

/* Takes one message from the server; 1 message, 0 closed, -1 error. */
static int
take(struct ws_conn *c, struct strbuf *msg, const struct exec_io *io,
    struct strbuf *status, long timeout_ms, struct s7_error *err)
{
	int op = 0, r;

	r = ws_recv(c, msg, &op, timeout_ms, err);
	if (r <= 0)
		return r;
	if (op != WS_BINARY)
		return s7_error_class(err, S7_ECLUSTER,
		    "exec: a text message on a binary protocol");
	if (msg->len == 0)
		return 1;
	switch ((unsigned char)msg->buf[0]) {
	case CH_STDOUT:
		if (io->out && msg->len > 1 &&
		    io->out(io->out_arg, msg->buf + 1, msg->len - 1) != 0)
			return s7_error(err, "exec: stopped while writing the command's output");
		break;
	case CH_STDERR:
		if (io->err_out && msg->len > 1) {
			size_t room = io->err_out->max - io->err_out->len;
			size_t n = msg->len - 1 > room ? room : msg->len - 1;

			strbuf_add(io->err_out, msg->buf + 1, n);
		}
		break;
	case CH_ERROR:
		if (strbuf_add(status, msg->buf + 1, msg->len - 1) < 0)
			return s7_error_class(err, S7_ECLUSTER,
			    "exec: the outcome is over %zu bytes", status->max);
		break;
	default:
		break;		/* resize and unknown channels: nothing for us */
	}
	return 1;
}

static int
send_channel(struct ws_conn *c, int ch, const void *data, size_t len,
    struct s7_error *err)
{
	unsigned char *buf = xmalloc(len + 1);
	int r;

	buf[0] = (unsigned char)ch;
	if (len)
		memcpy(buf + 1, data, len);
	r = ws_send(c, WS_BINARY, buf, len + 1, err);
	explicit_bzero(buf, len + 1);
	free(buf);
	return r;
}

/* What the server sent while we were sending: taken without waiting. */
static int
drain(struct ws_conn *c, struct strbuf *msg, const struct exec_io *io,
    struct strbuf *status, int *closed, struct s7_error *err)
{
	while (!*closed && ws_pending(c)) {
		int r = take(c, msg, io, status, 60000, err);

		if (r < 0)
			return -1;
		if (r == 0)
			*closed = 1;
	}
	return 0;
}

static int
converse(struct ws_conn *c, const struct exec_io *io, int *exit_code,
    struct s7_error *err)
{
	struct strbuf msg, status;
	char *chunk = xmalloc(IN_CHUNK);
	long idle = io->idle_timeout_ms ? io->idle_timeout_ms : 600000;
	int closed = 0, r, ret = -1;

	strbuf_init(&msg, WS_MESSAGE_MAX);
	strbuf_init(&status, STATUS_MAX);
	if (io->in && io->in_len &&
	    send_channel(c, CH_STDIN, io->in, io->in_len, err) < 0)
		goto done;
	while (io->in_fd >= 0 && !closed) {
		ssize_t n = read(io->in_fd, chunk, IN_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			s7_error(err, "exec: reading the command's input: %s",
			    strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		if (send_channel(c, CH_STDIN, chunk, (size_t)n, err) < 0 ||
		    drain(c, &msg, io, &status, &closed, err) < 0)
			goto done;
	}
	/* v5: stdin ends here (the command sees end of file). */
	if (!closed) {
		unsigned char eof[2] = { CH_CLOSE, CH_STDIN };

		if (ws_send(c, WS_BINARY, eof, sizeof(eof), err) < 0)
			goto done;
	}
	while (!closed) {
		r = take(c, &msg, io, &status, idle, err);
		if (r < 0)
			goto done;
		if (r == 0)
			closed = 1;
	}
	ret = outcome(&status, exit_code, err);
done:
	free(chunk);
	strbuf_release_secret(&msg);
	strbuf_release(&status);
	return ret;
}

int
kube_exec_url(const char *url, const struct http_tls *tls, const char *auth,
    const struct exec_io *io, int *exit_code, struct s7_error *err)
{
	struct ws_opts o;
	struct ws_conn *c = NULL;
	long status = 0;
	int ret;

	memset(&o, 0, sizeof(o));
	o.url = url;
	o.tls = tls;
	o.auth = auth;
	o.protocol = EXEC_PROTOCOL;
	if (ws_connect(&c, &o, &status, err) < 0)
		return -1;
	ret = converse(c, io, exit_code, err);
	ws_free(c);
	return ret;
}

int
kube_exec(struct kube_client *k, const char *namespace, const char *pod,
    const char *container, const char *const *argv, const struct exec_io *io,
    int *exit_code, struct s7_error *err)
{
	struct strbuf url;
	char *auth = NULL;
	size_t i;
	int ret;

	strbuf_init(&url, STRBUF_SMALL);
	strbuf_addstr(&url, k->kc.server);
	while (url.len && url.buf[url.len - 1] == '/')
		strbuf_setlen(&url, url.len - 1);
	strbuf_addstr(&url, "/api/v1/namespaces/");
	url_query_escape(&url, namespace);
	strbuf_addstr(&url, "/pods/");
	url_query_escape(&url, pod);
	strbuf_addstr(&url, "/exec?stdin=true&stdout=true&stderr=true");
	if (container) {
		strbuf_addstr(&url, "&container=");
		url_query_escape(&url, container);
	}
	for (i = 0; argv[i]; i++) {
		strbuf_addstr(&url, "&command=");
		url_query_escape(&url, argv[i]);
	}
	if (url.overflow) {
		strbuf_release(&url);
		return s7_error(err, "exec: the command is too long for a URL");
	}
	if (k->kc.token)
		auth = xasprintf("Bearer %s", k->kc.token);
	ret = kube_exec_url(url.buf, &k->kc.tls, auth, io, exit_code, err);
	if (ret < 0)
		s7_error_prefix(err, "pod %s/%s", namespace, pod);
	if (auth)
		xfree_secret(auth, strlen(auth));
	strbuf_release(&url);
	return ret;
}
