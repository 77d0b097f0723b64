/*
 * The wire format is RFC 1035's (section 4), TCP framing as in RFC 7766:
 * a two-byte length before each message.  Names in answers may be
 * compressed; pointers are followed at most DNS_MAX_JUMPS times so a
 * hostile answer cannot loop.  Answers are only accepted from the server
 * asked (the UDP socket is connected) with the query's id and question.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dns.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

#define DNS_MAX_JUMPS 32
#define DNS_QUERY_MAX 512

enum { Q_IDLE, Q_UDP, Q_TCP_CONNECT, Q_TCP_WRITE, Q_TCP_READ, Q_DONE };

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
dns_query_init(struct dns_query *q, const char *name, uint16_t type,
    const struct sockaddr_in *server)
{
	size_t n;

	memset(q, 0, sizeof(*q));
	snprintf(q->name, sizeof(q->name), "%s", name);
	n = strlen(q->name);
	if (n > 0 && q->name[n - 1] == '.')
		q->name[n - 1] = '\0';
	q->type = type;
	q->server = *server;
	q->fd = -1;
}

const char *
dns_rcode_name(int rcode)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	};

	return rcode >= 0 && rcode <= 5 ? names[rcode] : "rcode?";
}

const char *
dns_type_name(uint16_t type)
{
	return type == DNS_TYPE_A ? "A" : type == DNS_TYPE_CNAME ? "CNAME" :
	    "TYPE?";
}

void
dns_format_server(const struct sockaddr_in *a, char *buf, size_t size)
{
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
	snprintf(buf, size, "%s:%u", ip, (unsigned)ntohs(a->sin_port));
}

int
dns_parse_server(const char *s, struct sockaddr_in *out,
    struct s7_error *err)
{
	char host[64];
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);
	unsigned long port = 53;

	memset(out, 0, sizeof(*out));
	if (n == 0 || n >= sizeof(host))
		return s7_error_class(err, S7_EUSAGE,
		    "'%s' is not a resolver address (ADDR or ADDR:PORT)", s);
	memcpy(host, s, n);
	host[n] = '\0';
	if (colon) {
		char *end;

		errno = 0;
		port = strtoul(colon + 1, &end, 10);
		if (errno || *end || end == colon + 1 || port == 0 ||
		    port > 65535)
			return s7_error_class(err, S7_EUSAGE,
			    "'%s': the port must be 1 to 65535", s);
	}
	if (inet_pton(AF_INET, host, &out->sin_addr) != 1)
		return s7_error_class(err, S7_EUSAGE,
		    "'%s' is not an IPv4 address (ADDR or ADDR:PORT)", s);
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)port);
	return 0;
}

int
dns_system_resolver(const char *resolv, struct sockaddr_in *out,
    struct s7_error *err)
{
	FILE *fp = fopen(resolv, "r");
	char line[512];

	if (fp == NULL)
		return s7_error(err, "cannot read %s: %s", resolv,
		    strerror(errno));
	while (fgets(line, sizeof(line), fp)) {
		char *p = line, *e;

		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "nameserver", 10) != 0 ||
		    (p[10] != ' ' && p[10] != '\t'))
			continue;
		p += 10;
		while (*p == ' ' || *p == '\t')
			p++;
		for (e = p; *e && *e != ' ' && *e != '\t' && *e != '\n' &&
		    *e != '#'; e++)
			;
		*e = '\0';
		memset(out, 0, sizeof(*out));
		if (inet_pton(AF_INET, p, &out->sin_addr) == 1) {
			out->sin_family = AF_INET;
			out->sin_port = htons(53);
			fclose(fp);
			return 0;
		}
	}
	fclose(fp);
	return s7_error(err, "%s names no IPv4 nameserver", resolv);
}

int
dns_encode_query(uint16_t id, const char *name, uint16_t type, int rd,
    unsigned char *buf, size_t size, size_t *len)
{
	size_t o = 12;
	const char *p = name;

	if (size < 12 + strlen(name) + 2 + 4)
		return -1;
	memset(buf, 0, 12);
	buf[0] = (unsigned char)(id >> 8);
	buf[1] = (unsigned char)id;
	buf[2] = rd ? 0x01 : 0x00;		/* RD */
	buf[5] = 1;				/* QDCOUNT */
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		if (l == 0 || l > 63)
			return -1;
		buf[o++] = (unsigned char)l;
		memcpy(buf + o, p, l);
		o += l;
		p += l + (dot != NULL);
		if (dot && *p == '\0')
			return -1;
	}
	buf[o++] = 0;
	buf[o++] = (unsigned char)(type >> 8);
	buf[o++] = (unsigned char)type;
	buf[o++] = 0;
	buf[o++] = 1;				/* class IN */
	*len = o;
	return 0;
}

/* Reads a possibly compressed name at *off; *off moves past it. */
static int
read_name(const unsigned char *m, size_t len, size_t *off, char *out,
    size_t size)
{
	size_t o = *off, w = 0;
	int jumps = 0, jumped = 0;

	for (;;) {
		unsigned l;

		if (o >= len)
			return -1;
		l = m[o];
		if ((l & 0xC0) == 0xC0) {
			if (o + 1 >= len || ++jumps > DNS_MAX_JUMPS)
				return -1;
			if (!jumped)
				*off = o + 2;
			jumped = 1;
			o = ((l & 0x3F) << 8) | m[o + 1];
			continue;
		}
		if (l & 0xC0)
			return -1;
		o++;
		if (l == 0)
			break;
		if (o + l > len || w + l + 2 > size || w + l + 1 > DNS_NAME_MAX)
			return -1;
		if (w)
			out[w++] = '.';
		memcpy(out + w, m + o, l);
		w += l;
		o += l;
	}
	out[w] = '\0';
	if (!jumped)
		*off = o;
	return 0;
}

static int
bad(struct dns_query *q, const char *what)
{
	snprintf(q->error, sizeof(q->error), "malformed answer: %s", what);
	return -1;
}

int
dns_decode_answer(const unsigned char *m, size_t len, uint16_t id,
    const char *name, uint16_t type, struct dns_query *q)
{
	char qname[DNS_NAME_MAX + 1], rname[DNS_NAME_MAX + 1];
	size_t off = 12, i, qd, an;

	if (len < 12)
		return bad(q, "shorter than a header");
	if (((unsigned)m[0] << 8 | m[1]) != id || !(m[2] & 0x80))
		return bad(q, "not the answer to this query");
	q->truncated = (m[2] & 0x02) != 0;
	q->rcode = m[3] & 0x0F;
	qd = (size_t)m[4] << 8 | m[5];
	an = (size_t)m[6] << 8 | m[7];
	if (qd != 1)
		return bad(q, "not one question");
	if (read_name(m, len, &off, qname, sizeof(qname)) < 0 ||
	    off + 4 > len)
		return bad(q, "question");
	if (strcasecmp(qname, name) != 0 ||
	    ((unsigned)m[off] << 8 | m[off + 1]) != type)
		return bad(q, "another question");
	off += 4;
	q->nanswers = 0;
	for (i = 0; i < an; i++) {
		unsigned rtype, rdlen;

		if (read_name(m, len, &off, rname, sizeof(rname)) < 0 ||
		    off + 10 > len)
			return bad(q, "answer record");
		rtype = (unsigned)m[off] << 8 | m[off + 1];
		rdlen = (unsigned)m[off + 8] << 8 | m[off + 9];
		off += 10;
		if (off + rdlen > len)
			return bad(q, "record data");
		if (q->nanswers < DNS_MAX_ANSWERS && rtype == DNS_TYPE_A &&
		    rdlen == 4) {
			snprintf(q->answers[q->nanswers], DNS_NAME_MAX + 1,
			    "%u.%u.%u.%u", m[off], m[off + 1], m[off + 2],
			    m[off + 3]);
			q->answer_types[q->nanswers++] = DNS_TYPE_A;
		} else if (q->nanswers < DNS_MAX_ANSWERS &&
		    rtype == DNS_TYPE_CNAME) {
			size_t o2 = off;

			if (read_name(m, len, &o2, q->answers[q->nanswers],
			    DNS_NAME_MAX + 1) < 0 || o2 > off + rdlen)
				return bad(q, "CNAME target");
			q->answer_types[q->nanswers++] = DNS_TYPE_CNAME;
		}
		off += rdlen;
	}
	return 0;
}

/* Ends q: an answer when fmt is NULL, else a failure saying why. */
static void finish(struct dns_query *q, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
finish(struct dns_query *q, const char *fmt, ...)
{
	va_list ap;

	if (fmt) {
		q->failed = 1;
		va_start(ap, fmt);
		vsnprintf(q->error, sizeof(q->error), fmt, ap);
		va_end(ap);
	}
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	free(q->buf);
	q->buf = NULL;
	q->state = Q_DONE;
	q->done = 1;
	q->ms = (long)(now_ms() - q->started_ms);
}

static int
open_socket(struct dns_query *q, int type)
{
	q->fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (q->fd < 0)
		return -1;
	if (connect(q->fd, (const struct sockaddr *)&q->server,
	    sizeof(q->server)) < 0 && errno != EINPROGRESS)
		return -1;
	return 0;
}

static void
send_udp(struct dns_query *q)
{
	unsigned char msg[DNS_QUERY_MAX];
	size_t len;

	if (dns_encode_query(q->id, q->name, q->type, 1, msg, sizeof(msg),
	    &len) < 0) {
		finish(q, "'%s' is not a DNS name", q->name);
		return;
	}
	if (send(q->fd, msg, len, 0) < 0 && errno != EAGAIN) {
		finish(q, "cannot send: %s", strerror(errno));
		return;
	}
	q->sent_ms = now_ms();
}

static void
start_tcp(struct dns_query *q)
{
	size_t len;

	close(q->fd);
	q->fd = -1;
	q->tcp = 1;
	q->buf = xmalloc(2 + DNS_QUERY_MAX);
	if (dns_encode_query(q->id, q->name, q->type, 1, q->buf + 2,
	    DNS_QUERY_MAX, &len) < 0) {
		finish(q, "'%s' is not a DNS name", q->name);
		return;
	}
	q->buf[0] = (unsigned char)(len >> 8);
	q->buf[1] = (unsigned char)len;
	q->want = len + 2;
	q->len = 0;
	if (open_socket(q, SOCK_STREAM) < 0) {
		finish(q, "cannot connect over TCP: %s", strerror(errno));
		return;
	}
	q->state = Q_TCP_CONNECT;
}

static void
answered(struct dns_query *q, const unsigned char *m, size_t len)
{
	struct dns_query tmp = *q;

	if (dns_decode_answer(m, len, q->id, q->name, q->type, &tmp) < 0) {
		/* Not ours (a stale retransmission's answer, say): keep waiting
		 * over UDP; over TCP the stream is done. */
		if (q->state == Q_TCP_READ)
			finish(q, "%s", tmp.error);
		return;
	}
	memcpy(q->answers, tmp.answers, sizeof(q->answers));
	memcpy(q->answer_types, tmp.answer_types, sizeof(q->answer_types));
	q->nanswers = tmp.nanswers;
	q->rcode = tmp.rcode;
	if (tmp.truncated && q->state == Q_UDP) {
		q->truncated = 1;
		start_tcp(q);
		return;
	}
	finish(q, NULL);
}

static void
on_udp(struct dns_query *q)
{
	unsigned char m[DNS_MSG_MAX];
	ssize_t n = recv(q->fd, m, sizeof(m), 0);

	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		finish(q, "%s", errno == ECONNREFUSED ?
		    "connection refused (nothing answers on that port)" :
		    strerror(errno));
		return;
	}
	answered(q, m, (size_t)n);
}

static void
on_tcp(struct dns_query *q)
{
	ssize_t n;

	if (q->state == Q_TCP_CONNECT) {
		int e = 0;
		socklen_t el = sizeof(e);

		getsockopt(q->fd, SOL_SOCKET, SO_ERROR, &e, &el);
		if (e) {
			finish(q, "cannot connect over TCP: %s", strerror(e));
			return;
		}
		q->state = Q_TCP_WRITE;
	}
	if (q->state == Q_TCP_WRITE) {
		n = send(q->fd, q->buf + q->len, q->want - q->len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN)
				finish(q, "TCP: %s", strerror(errno));
			return;
		}
		q->len += (size_t)n;
		if (q->len < q->want)
			return;
		free(q->buf);
		q->buf = xmalloc(2 + DNS_MSG_MAX);
		q->len = 0;
		q->want = 2;
		q->state = Q_TCP_READ;
		return;
	}
	n = recv(q->fd, q->buf + q->len, q->want - q->len, 0);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			finish(q, "TCP: %s", strerror(errno));
		return;
	}
	if (n == 0) {
		finish(q, "%s", "TCP: the server closed the connection");
		return;
	}
	q->len += (size_t)n;
	if (q->len == 2 && q->want == 2) {
		q->want = 2 + ((size_t)q->buf[0] << 8 | q->buf[1]);
		if (q->want == 2)
			finish(q, "%s", "TCP: an empty message");
		return;
	}
	if (q->len == q->want)
		answered(q, q->buf + 2, q->len - 2);
}

void
dns_run(struct dns_query *q, size_t n, long long deadline_ms)
{
	struct pollfd *pf = xcalloc(n + 1, sizeof(*pf));
	size_t *idx = xcalloc(n + 1, sizeof(*idx));
	long long start = now_ms();
	size_t i;

	for (i = 0; i < n; i++) {
		uint16_t id;

		if (q[i].done)
			continue;
		if (getrandom(&id, sizeof(id), 0) != sizeof(id))
			id = (uint16_t)(start + (long long)i * 7919);
		q[i].id = id;
		q[i].started_ms = start;
		q[i].state = Q_UDP;
		if (open_socket(&q[i], SOCK_DGRAM) < 0) {
			finish(&q[i], "cannot open a socket: %s", strerror(errno));
			continue;
		}
		send_udp(&q[i]);
	}
	for (;;) {
		long long now = now_ms(), wake = deadline_ms;
		size_t np = 0;
		int r;

		for (i = 0; i < n; i++) {
			if (q[i].done)
				continue;
			if (q[i].state == Q_UDP) {
				if (now - q[i].sent_ms >= DNS_RETRY_MS)
					send_udp(&q[i]);
				if (q[i].done)
					continue;
				if (q[i].sent_ms + DNS_RETRY_MS < wake)
					wake = q[i].sent_ms + DNS_RETRY_MS;
			}
			pf[np].fd = q[i].fd;
			pf[np].events = q[i].state == Q_UDP ||
			    q[i].state == Q_TCP_READ ? POLLIN : POLLOUT;
			pf[np].revents = 0;
			idx[np++] = i;
		}
		if (np == 0 || now >= deadline_ms)
			break;
		r = poll(pf, np, (int)(wake - now > 0 ? wake - now : 0));
		if (r < 0 && errno != EINTR)
			break;
		for (i = 0; r > 0 && i < np; i++) {
			struct dns_query *x = &q[idx[i]];

			if (pf[i].revents == 0 || x->done)
				continue;
			if (x->state == Q_UDP)
				on_udp(x);
			else
				on_tcp(x);
		}
	}
	for (i = 0; i < n; i++)
		if (!q[i].done) {
			char srv[64], msg[96];

			dns_format_server(&q[i].server, srv, sizeof(srv));
			snprintf(msg, sizeof(msg), "%s before the deadline (%lld ms)",
			    srv, now_ms() - start);
			finish(&q[i], "no answer from %s", msg);
		}
	free(pf);
	free(idx);
}
