/*
 * A WebSocket client (RFC 6455), for the API server's pod exec.  Debian's
 * libcurl (7.88) has no WebSocket support, so libcurl only opens the
 * connection (CURLOPT_CONNECT_ONLY: TCP, and TLS with the same settings
 * as the HTTP client, forced to HTTP/1.1) and this module speaks the
 * protocol over curl_easy_send/recv: the Upgrade handshake
 * (Sec-WebSocket-Key/Accept), masked client frames, fragmented messages
 * joined, pings answered, the closing handshake.
 *
 * A connection owns its curl handle and buffers; ws_free releases them.
 * Every receive is bounded by a per-message size cap and a timeout.
 */
#ifndef S7_HTTP_WS_H
#define S7_HTTP_WS_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "../util/error.h"
#include "../util/strbuf.h"

enum {
	WS_CONT = 0x0, WS_TEXT = 0x1, WS_BINARY = 0x2,
	WS_CLOSE = 0x8, WS_PING = 0x9, WS_PONG = 0xa,
};

#define WS_MESSAGE_MAX ((size_t)16 * 1024 * 1024)

struct ws_opts {
	const char *url;		/* https://host[:port]/path?query, or http:// */
	const struct http_tls *tls;	/* NULL: the system's trust anchors */
	const char *auth;		/* Authorization value, or NULL (secret) */
	const char *protocol;		/* Sec-WebSocket-Protocol asked for, or NULL */
	long timeout_ms;		/* connect and handshake; 0: 30 s */
	size_t max_message;		/* 0: WS_MESSAGE_MAX */
};

struct ws_conn;

/*
 * Connects and upgrades.  A refused upgrade is an error that carries the
 * HTTP status in *status (when status is not NULL) and the start of the
 * response body in the message (the API server's Status).
 */
int ws_connect(struct ws_conn **out, const struct ws_opts *o, long *status,
    struct s7_error *err);
/* The subprotocol the server chose ("" when none). */
const char *ws_protocol(const struct ws_conn *c);

/* Sends one message as one frame (masked), waiting until it is written. */
int ws_send(struct ws_conn *c, int opcode, const void *data, size_t len,
    struct s7_error *err);

/*
 * The next data message (text or binary, fragments joined) in msg (reset
 * first; its cap is the connection's), its opcode in *opcode.  Pings are
 * answered and pongs dropped on the way.  Returns 1 for a message, 0 when
 * the server closed the connection (its close frame answered: *opcode is
 * WS_CLOSE and ws_close_code() tells the code), -1 on an error, a protocol
 * violation, a message over the cap, or timeout_ms (-1: none) without a
 * whole message.
 */
int ws_recv(struct ws_conn *c, struct strbuf *msg, int *opcode,
    long timeout_ms, struct s7_error *err);
int ws_close_code(const struct ws_conn *c);
/* Whether bytes from the server are waiting (buffered or on the socket). */
int ws_pending(struct ws_conn *c);

/*
 * Sends a close frame with code (1000: normal) unless one was sent, and
 * waits up to timeout_ms for the server's (data messages that come first
 * are dropped).
 */
int ws_close(struct ws_conn *c, int code, long timeout_ms,
    struct s7_error *err);
void ws_free(struct ws_conn *c);

/* Encodes one client frame (masked with mask) into out: for tests. */
int ws_frame(struct strbuf *out, int fin, int opcode, const unsigned char
    mask[4], const void *data, size_t len);

#endif
