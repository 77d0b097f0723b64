/*
 * The WebSocket client.  libcurl sets up the connection and stops there
 * (CONNECT_ONLY); everything after it is bytes through curl_easy_send and
 * curl_easy_recv, which go through the TLS session when there is one.  A
 * receive that would block (CURLE_AGAIN) waits in poll(2) on the socket;
 * TLS data already decrypted is always asked for first, so none waits in
 * OpenSSL's buffer while poll sleeps.
 */
#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ws.h"
#include "../crypto/crypto.h"
#include "../util/base64.h"
#include "../util/xmalloc.h"
#include "../version.h"
#include "../util/banned.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define HEAD_MAX ((size_t)64 * 1024)
#define CONTROL_MAX 125

struct ws_conn {
	CURL *e;
	curl_socket_t fd;
	struct strbuf in;	/* bytes received, not yet parsed */
	size_t max;
	char protocol[128];
	int close_sent, close_seen, close_code;
	char errbuf[CURL_ERROR_SIZE];
};

static int curl_ready;

static long long
now_ms(void)
{
	return http_now_ms();
}

/* Milliseconds left until deadline (-1: no deadline), at least 0. */
static int
left(long long deadline)
{
	long long l;

	if (deadline < 0)
		return -1;
	l = deadline - now_ms();
	return l < 0 ? 0 : l > 60000 ? 60000 : (int)l;
}

/*
 * Reads what is there into c->in; waits up to the deadline for something.
 * 1: got bytes, 0: the peer closed the connection, -1: error or timeout.
 */
static int
fill(struct ws_conn *c, long long deadline, struct s7_error *err)
{
	char buf[65536];

	for (;;) {
		size_t got = 0;
		CURLcode rc = curl_easy_recv(c->e, buf, sizeof(buf), &got);
		struct pollfd p;
		int w;

		if (rc == CURLE_OK) {
			if (got == 0)
				return 0;
			if (strbuf_add(&c->in, buf, got) < 0)
				return s7_error(err, "websocket: more than %zu bytes buffered",
				    c->in.max);
			return 1;
		}
		if (rc != CURLE_AGAIN)
			return s7_error(err, "websocket: receive: %s",
			    curl_easy_strerror(rc));
		p.fd = c->fd;
		p.events = POLLIN;
		p.revents = 0;
		w = left(deadline);
		if (w == 0)
			return s7_error(err, "websocket: timed out waiting for the server");
		if (poll(&p, 1, w) < 0 && errno != EINTR)
			return s7_error(err, "websocket: poll: %s", strerror(errno));
	}
}

static int
send_all(struct ws_conn *c, const void *data, size_t len, struct s7_error *err)
{
	const char *p = data;
	long long deadline = now_ms() + 300000;

	while (len > 0) {
		size_t sent = 0;
		CURLcode rc = curl_easy_send(c->e, p, len, &sent);
		struct pollfd pf;

		if (rc == CURLE_OK) {
			p += sent;
			len -= sent;
			continue;
		}
		if (rc != CURLE_AGAIN)
			return s7_error(err, "websocket: send: %s",
			    curl_easy_strerror(rc));
		if (left(deadline) == 0)
			return s7_error(err, "websocket: the server took nothing for 300 s");
		pf.fd = c->fd;
		pf.events = POLLOUT;
		pf.revents = 0;
		if (poll(&pf, 1, left(deadline)) < 0 && errno != EINTR)
			return s7_error(err, "websocket: poll: %s", strerror(errno));
	}
	return 0;
}

int
ws_frame(struct strbuf *out, int fin, int opcode, const unsigned char mask[4],
    const void *data, size_t len)
{
	unsigned char h[14];
	size_t n = 0, i;
	const unsigned char *d = data;

	h[n++] = (unsigned char)((fin ? 0x80 : 0) | (opcode & 0x0f));
	if (len < 126) {
		h[n++] = (unsigned char)(0x80 | len);
	} else if (len <= 0xffff) {
		h[n++] = 0x80 | 126;
		h[n++] = (unsigned char)(len >> 8);
		h[n++] = (unsigned char)len;
	} else {
		h[n++] = 0x80 | 127;
		for (i = 0; i < 8; i++)
			h[n++] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
	}
	memcpy(h + n, mask, 4);
	n += 4;
	if (strbuf_add(out, h, n) < 0)
		return -1;
	for (i = 0; i < len; i++)
		if (strbuf_addch(out, d[i] ^ mask[i & 3]) < 0)
			return -1;
	return 0;
}

int
ws_send(struct ws_conn *c, int opcode, const void *data, size_t len,
    struct s7_error *err)
{
	const unsigned char *d = data;
	unsigned char mask[4];
	size_t off = 0;
	int ret = 0;

	if (c->close_sent)
		return s7_error(err, "websocket: send after close");
	/* Large messages go out in pieces of one frame, so the frame's
	 * masked copy stays small. */
	do {
		struct strbuf f;
		size_t n = len - off > 1024 * 1024 ? 1024 * 1024 : len - off;
		int fin = off + n == len;

		if (crypto_random(mask, sizeof(mask), err) < 0)
			return -1;
		strbuf_init(&f, n + 14);
		ws_frame(&f, fin, off == 0 ? opcode : WS_CONT, mask, d + off, n);
		ret = send_all(c, f.buf, f.len, err);
		strbuf_release_secret(&f);
		if (ret < 0)
			return -1;
		off += n;
	} while (off < len);
	if (opcode == WS_CLOSE)
		c->close_sent = 1;
	return 0;
}

/*
 * The next frame's header from c->in, waiting for its bytes.  Returns 1,
 * 0 (the connection closed before a frame started) or -1.
 */
static int
read_header(struct ws_conn *c, int *fin, int *opcode, uint64_t *len,
    size_t *hlen, long long deadline, struct s7_error *err)
{
	const unsigned char *h;
	size_t need = 2, i;
	int r;

	for (;;) {
		h = (const unsigned char *)c->in.buf;
		if (c->in.len >= 2) {
			need = 2 + ((h[1] & 0x7f) == 126 ? 2 :
			    (h[1] & 0x7f) == 127 ? 8 : 0) + ((h[1] & 0x80) ? 4 : 0);
			if (c->in.len >= need)
				break;
		}
		r = fill(c, deadline, err);
		if (r < 0)
			return -1;
		if (r == 0) {
			if (c->in.len == 0)
				return 0;
			return s7_error(err, "websocket: the connection was cut in the middle of a frame");
		}
	}
	if (h[0] & 0x70)
		return s7_error(err, "websocket: reserved bits set in a frame (no extension was agreed)");
	if (h[1] & 0x80)
		return s7_error(err, "websocket: the server masked a frame");
	*fin = (h[0] & 0x80) != 0;
	*opcode = h[0] & 0x0f;
	*len = h[1] & 0x7f;
	if (*len == 126)
		*len = (uint64_t)h[2] << 8 | h[3];
	else if (*len == 127)
		for (*len = 0, i = 0; i < 8; i++)
			*len = *len << 8 | h[2 + i];
	if (*opcode >= 0x8) {
		if (!*fin || *len > CONTROL_MAX)
			return s7_error(err, "websocket: control frame fragmented or over 125 bytes");
		if (*opcode != WS_CLOSE && *opcode != WS_PING && *opcode != WS_PONG)
			return s7_error(err, "websocket: unknown opcode 0x%x", *opcode);
	} else if (*opcode != WS_CONT && *opcode != WS_TEXT &&
	    *opcode != WS_BINARY) {
		return s7_error(err, "websocket: unknown opcode 0x%x", *opcode);
	}
	*hlen = need;
	return 1;
}

/* The payload of the frame whose header is hlen bytes, appended to out. */
static int
read_payload(struct ws_conn *c, size_t hlen, uint64_t len, struct strbuf *out,
    long long deadline, struct s7_error *err)
{
	int r;

	while ((uint64_t)(c->in.len - hlen) < len) {
		r = fill(c, deadline, err);
		if (r < 0)
			return -1;
		if (r == 0)
			return s7_error(err, "websocket: the connection was cut in the middle of a frame");
	}
	if (strbuf_add(out, c->in.buf + hlen, (size_t)len) < 0)
		return s7_error(err, "websocket: a message over the %zu-byte limit",
		    c->max);
	memmove(c->in.buf, c->in.buf + hlen + len, c->in.len - hlen - len);
	strbuf_setlen(&c->in, c->in.len - hlen - (size_t)len);
	return 0;
}

int
ws_recv(struct ws_conn *c, struct strbuf *msg, int *opcode, long timeout_ms,
    struct s7_error *err)
{
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	int started = 0;

	strbuf_reset(msg);
	*opcode = 0;
	if (c->close_seen) {
		*opcode = WS_CLOSE;
		return 0;
	}
	for (;;) {
		uint64_t len = 0;
		size_t hlen = 0;
		int fin = 0, op = 0, r;

		r = read_header(c, &fin, &op, &len, &hlen, deadline, err);
		if (r < 0)
			return -1;
		if (r == 0)
			return s7_error(err, "websocket: the server closed the connection without a close frame");
		if (op >= 0x8) {
			struct strbuf ctl;

			strbuf_init(&ctl, CONTROL_MAX);
			if (read_payload(c, hlen, len, &ctl, deadline, err) < 0) {
				strbuf_release(&ctl);
				return -1;
			}
			if (op == WS_PING)
				r = c->close_sent ? 0 :
				    ws_send(c, WS_PONG, ctl.buf, ctl.len, err);
			if (op == WS_CLOSE) {
				c->close_seen = 1;
				c->close_code = ctl.len >= 2 ?
				    ((unsigned char)ctl.buf[0] << 8 |
				    (unsigned char)ctl.buf[1]) : 1005;
				/* Echo the code, as RFC 6455 5.5.1 asks. */
				r = c->close_sent ? 0 : ws_send(c, WS_CLOSE,
				    ctl.buf, ctl.len >= 2 ? 2 : 0, err);
			}
			strbuf_release(&ctl);
			if (r < 0)
				return -1;
			if (op == WS_CLOSE) {
				*opcode = WS_CLOSE;
				return 0;
			}
			continue;
		}
		if (op == WS_CONT && !started)
			return s7_error(err, "websocket: a continuation frame with no message to continue");
		if (op != WS_CONT && started)
			return s7_error(err, "websocket: a new message before the last one ended");
		if (!started) {
			*opcode = op;
			started = 1;
		}
		if (len > (uint64_t)(c->max - msg->len))
			return s7_error(err, "websocket: a message of more than %zu bytes (the limit)",
			    c->max);
		if (read_payload(c, hlen, len, msg, deadline, err) < 0)
			return -1;
		if (fin)
			return 1;
	}
}

int
ws_pending(struct ws_conn *c)
{
	struct pollfd p;

	if (c->in.len)
		return 1;
	p.fd = c->fd;
	p.events = POLLIN;
	p.revents = 0;
	return poll(&p, 1, 0) > 0;
}

int
ws_close_code(const struct ws_conn *c)
{
	return c->close_code;
}

int
ws_close(struct ws_conn *c, int code, long timeout_ms, struct s7_error *err)
{
	unsigned char b[2];
	struct strbuf m;
	int op = 0, r = 0;

	b[0] = (unsigned char)(code >> 8);
	b[1] = (unsigned char)code;
	if (!c->close_sent && ws_send(c, WS_CLOSE, b, 2, err) < 0)
		return -1;
	strbuf_init(&m, c->max);
	while (!c->close_seen && (r = ws_recv(c, &m, &op, timeout_ms, err)) == 1)
		;
	strbuf_release(&m);
	return r < 0 ? -1 : 0;
}

void
ws_free(struct ws_conn *c)
{
	if (c == NULL)
		return;
	if (c->e)
		curl_easy_cleanup(c->e);
	strbuf_release_secret(&c->in);
	free(c);
}

const char *
ws_protocol(const struct ws_conn *c)
{
	return c->protocol;
}

/* The value of header name in the response head, or NULL (in a). */
static const char *
header(const char *head, const char *name, char *buf, size_t size)
{
	const char *p = strstr(head, "\r\n");
	size_t n = strlen(name);

	while (p && p[2] != '\r') {
		const char *line = p + 2, *end = strstr(line, "\r\n");

		if (end == NULL)
			break;
		if ((size_t)(end - line) > n && strncasecmp(line, name, n) == 0 &&
		    line[n] == ':') {
			const char *v = line + n + 1;
			size_t l;

			while (*v == ' ' || *v == '\t')
				v++;
			l = (size_t)(end - v);
			while (l && (v[l - 1] == ' ' || v[l - 1] == '\t'))
				l--;
			if (l >= size)
				l = size - 1;
			memcpy(buf, v, l);
			buf[l] = '\0';
			return buf;
		}
		p = end;
	}
	return NULL;
}

/* Whether the comma-separated list has token (case-insensitive). */
static int
has_token(const char *list, const char *token)
{
	size_t n = strlen(token);

	while (list && *list) {
		while (*list == ' ' || *list == ',')
			list++;
		if (strncasecmp(list, token, n) == 0 &&
		    (list[n] == '\0' || list[n] == ',' || list[n] == ' '))
			return 1;
		list = strchr(list, ',');
	}
	return 0;
}

/* host[:port] and the path of an http(s) URL. */
static int
split_url(const char *url, char *host, size_t hsize, const char **path,
    struct s7_error *err)
{
	const char *p, *slash;

	if (strncmp(url, "https://", 8) == 0)
		p = url + 8;
	else if (strncmp(url, "http://", 7) == 0)
		p = url + 7;
	else
		return s7_error(err, "websocket: '%s' is not an http or https URL", url);
	slash = strchr(p, '/');
	if (slash == NULL || slash == p || (size_t)(slash - p) >= hsize)
		return s7_error(err, "websocket: no host or path in '%s'", url);
	memcpy(host, p, (size_t)(slash - p));
	host[slash - p] = '\0';
	*path = slash;
	return 0;
}

static int
handshake(struct ws_conn *c, const struct ws_opts *o, const char *host,
    const char *path, long *status, struct s7_error *err)
{
	unsigned char rnd[16], sha[SHA1_LEN];
	struct strbuf req, key, accept, want;
	long long deadline = now_ms() + (o->timeout_ms ? o->timeout_ms : 30000);
	char *end = NULL, v[256];
	const char *h;
	int ret = -1, code = 0;

	strbuf_init(&req, HEAD_MAX);
	strbuf_init(&key, 64);
	strbuf_init(&accept, 128);
	strbuf_init(&want, 64);
	if (crypto_random(rnd, sizeof(rnd), err) < 0)
		goto done;
	base64_encode(&key, rnd, sizeof(rnd));
	strbuf_addf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
	    "User-Agent: sector7/" SECTOR7_VERSION "\r\n", path, host, key.buf);
	if (o->protocol)
		strbuf_addf(&req, "Sec-WebSocket-Protocol: %s\r\n", o->protocol);
	if (o->auth)
		strbuf_addf(&req, "Authorization: %s\r\n", o->auth);
	strbuf_addstr(&req, "\r\n");
	if (req.overflow) {
		s7_error(err, "websocket: request head too long");
		goto done;
	}
	if (send_all(c, req.buf, req.len, err) < 0)
		goto done;
	/* The response head; what follows it is the first frames. */
	while ((end = strstr(c->in.buf, "\r\n\r\n")) == NULL) {
		int r;

		if (c->in.len > HEAD_MAX) {
			s7_error(err, "websocket: response head over %zu bytes", HEAD_MAX);
			goto done;
		}
		r = fill(c, deadline, err);
		if (r < 0)
			goto done;
		if (r == 0) {
			s7_error(err, "websocket: the server closed the connection during the handshake");
			goto done;
		}
	}
	end[2] = '\0';
	if (sscanf(c->in.buf, "HTTP/1.%*1[01] %3d", &code) != 1) {
		s7_error(err, "websocket: not an HTTP response: %.60s", c->in.buf);
		goto done;
	}
	if (status)
		*status = code;
	if (code != 101) {
		/* The body says why (the API server sends a Status). */
		const char *body = end + 4;
		size_t have = c->in.len - (size_t)(body - c->in.buf);

		while (have < 2048 && fill(c, now_ms() + 2000, err) == 1)
			have = c->in.len - (size_t)(body - c->in.buf);
		body = end + 4;
		s7_error_class(err, S7_ECLUSTER, "websocket: upgrade refused (HTTP %d): %.*s",
		    code, (int)(have > 600 ? 600 : have), body);
		goto done;
	}
	if (!(h = header(c->in.buf, "Upgrade", v, sizeof(v))) ||
	    strcasecmp(h, "websocket") != 0) {
		s7_error(err, "websocket: the 101 response has no 'Upgrade: websocket'");
		goto done;
	}
	if (!(h = header(c->in.buf, "Connection", v, sizeof(v))) ||
	    !has_token(h, "upgrade")) {
		s7_error(err, "websocket: the 101 response has no 'Connection: Upgrade'");
		goto done;
	}
	strbuf_addf(&want, "%s" WS_GUID, key.buf);
	crypto_sha1(want.buf, want.len, sha);
	base64_encode(&accept, sha, sizeof(sha));
	if (!(h = header(c->in.buf, "Sec-WebSocket-Accept", v, sizeof(v))) ||
	    strcmp(h, accept.buf) != 0) {
		s7_error(err, "websocket: wrong or missing Sec-WebSocket-Accept");
		goto done;
	}
	if ((h = header(c->in.buf, "Sec-WebSocket-Extensions", v, sizeof(v)))) {
		s7_error(err, "websocket: the server chose an extension nobody asked for: %s", h);
		goto done;
	}
	h = header(c->in.buf, "Sec-WebSocket-Protocol", v, sizeof(v));
	if (h && (!o->protocol || !has_token(o->protocol, h))) {
		s7_error(err, "websocket: the server chose subprotocol '%s', not asked for", h);
		goto done;
	}
	if (o->protocol && !h) {
		s7_error(err, "websocket: the server accepted none of the subprotocols %s",
		    o->protocol);
		goto done;
	}
	snprintf(c->protocol, sizeof(c->protocol), "%s", h ? h : "");
	{
		size_t used = (size_t)(end + 4 - c->in.buf);

		memmove(c->in.buf, c->in.buf + used, c->in.len - used);
		strbuf_setlen(&c->in, c->in.len - used);
	}
	ret = 0;
done:
	strbuf_release_secret(&req);
	strbuf_release(&key);
	strbuf_release(&accept);
	strbuf_release(&want);
	return ret;
}

int
ws_connect(struct ws_conn **out, const struct ws_opts *o, long *status,
    struct s7_error *err)
{
	struct ws_conn *c = xcalloc(1, sizeof(*c));
	struct curl_blob blob;
	char host[512];
	const char *path = NULL;
	CURLcode rc;

	*out = NULL;
	if (status)
		*status = 0;
	if (split_url(o->url, host, sizeof(host), &path, err) < 0) {
		free(c);
		return -1;
	}
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			free(c);
			return s7_error(err, "cannot initialise libcurl");
		}
		curl_ready = 1;
	}
	c->max = o->max_message ? o->max_message : WS_MESSAGE_MAX;
	/* A whole frame may be buffered before it is taken. */
	strbuf_init(&c->in, c->max + HEAD_MAX);
	c->fd = CURL_SOCKET_BAD;
	c->e = curl_easy_init();
	if (c->e == NULL) {
		ws_free(c);
		return s7_error(err, "cannot initialise libcurl");
	}
	curl_easy_setopt(c->e, CURLOPT_URL, o->url);
	curl_easy_setopt(c->e, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(c->e, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(c->e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(c->e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->e, CURLOPT_CONNECTTIMEOUT_MS,
	    o->timeout_ms ? o->timeout_ms : 30000L);
	curl_easy_setopt(c->e, CURLOPT_ERRORBUFFER, c->errbuf);
	if (o->tls) {
		const struct http_tls *t = o->tls;

		if (t->ca) {
			blob.data = (void *)t->ca;
			blob.len = t->ca_len;
			blob.flags = CURL_BLOB_COPY;
			curl_easy_setopt(c->e, CURLOPT_CAINFO_BLOB, &blob);
		}
		if (t->cert) {
			blob.data = (void *)t->cert;
			blob.len = t->cert_len;
			blob.flags = CURL_BLOB_COPY;
			curl_easy_setopt(c->e, CURLOPT_SSLCERT_BLOB, &blob);
			curl_easy_setopt(c->e, CURLOPT_SSLCERTTYPE, "PEM");
		}
		if (t->key) {
			blob.data = (void *)t->key;
			blob.len = t->key_len;
			blob.flags = CURL_BLOB_COPY;
			curl_easy_setopt(c->e, CURLOPT_SSLKEY_BLOB, &blob);
			curl_easy_setopt(c->e, CURLOPT_SSLKEYTYPE, "PEM");
		}
		curl_easy_setopt(c->e, CURLOPT_SSL_VERIFYPEER, t->insecure ? 0L : 1L);
		curl_easy_setopt(c->e, CURLOPT_SSL_VERIFYHOST, t->insecure ? 0L : 2L);
	}
	rc = curl_easy_perform(c->e);
	if (rc != CURLE_OK) {
		s7_error_class(err, S7_ECLUSTER, "websocket: cannot connect to %s: %s",
		    host, c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
		ws_free(c);
		return -1;
	}
	if (curl_easy_getinfo(c->e, CURLINFO_ACTIVESOCKET, &c->fd) != CURLE_OK ||
	    c->fd == CURL_SOCKET_BAD) {
		ws_free(c);
		return s7_error(err, "websocket: no socket from libcurl");
	}
	if (handshake(c, o, host, path, status, err) < 0) {
		if (err->class != S7_ECLUSTER)
			err->class = S7_ECLUSTER;
		ws_free(c);
		return -1;
	}
	*out = c;
	return 0;
}
