/*
 * A small DNS stub client: one question per query, sent to a chosen
 * server over UDP, asked again over TCP when the answer comes back
 * truncated.  Every query of a batch runs at once on non-blocking
 * sockets under one deadline; a UDP question without an answer is sent
 * again every DNS_RETRY_MS.  The answer's records are decoded into the
 * query: A records as dotted quads, CNAME targets as names (no trailing
 * dot), with the rcode.
 *
 * No recursion or validation of its own: the server recurses (RD is
 * set).  Queries own nothing on the heap; dns_run closes every socket it
 * opened before it returns.
 */
#ifndef S7_NET_DNS_H
#define S7_NET_DNS_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/error.h"

#define DNS_TYPE_A 1
#define DNS_TYPE_CNAME 5
#define DNS_NAME_MAX 254
#define DNS_MAX_ANSWERS 16
#define DNS_RETRY_MS 1000
#define DNS_MSG_MAX 65535

/* rcodes */
#define DNS_NOERROR 0
#define DNS_SERVFAIL 2
#define DNS_NXDOMAIN 3
#define DNS_REFUSED 5

struct dns_query {
	/* the question */
	char name[DNS_NAME_MAX + 1];	/* no trailing dot */
	uint16_t type;
	struct sockaddr_in server;

	/* the answer */
	int done;
	int failed;			/* no usable answer: see error */
	char error[160];
	int rcode;
	int truncated;			/* the UDP answer was; TCP was used */
	int tcp;
	char answers[DNS_MAX_ANSWERS][DNS_NAME_MAX + 1];
	uint16_t answer_types[DNS_MAX_ANSWERS];
	size_t nanswers;
	long ms;			/* from the first send to the answer */

	/* the client's */
	int fd;
	uint16_t id;
	int state;
	long long sent_ms, started_ms;
	unsigned char *buf;		/* TCP: length-prefixed message */
	size_t len, want;
};

void dns_query_init(struct dns_query *q, const char *name, uint16_t type,
    const struct sockaddr_in *server);
/*
 * Runs every query until each has an answer or deadline_ms (on the
 * http_now_ms clock, CLOCK_MONOTONIC in ms) passes; then the unanswered
 * ones fail with "no answer ... within".
 */
void dns_run(struct dns_query *q, size_t n, long long deadline_ms);

/* "ADDR" or "ADDR:PORT" (IPv4; port 53 by default). */
int dns_parse_server(const char *s, struct sockaddr_in *out,
    struct s7_error *err);
/* The first IPv4 nameserver of resolv (normally /etc/resolv.conf). */
int dns_system_resolver(const char *resolv, struct sockaddr_in *out,
    struct s7_error *err);
/* "1.2.3.4:53" */
void dns_format_server(const struct sockaddr_in *a, char *buf, size_t size);
const char *dns_rcode_name(int rcode);
const char *dns_type_name(uint16_t type);

/* The wire format, exposed for tests. */
int dns_encode_query(uint16_t id, const char *name, uint16_t type, int rd,
    unsigned char *buf, size_t size, size_t *len);
/*
 * Decodes msg as the answer to (id, name, type) into q's answer fields;
 * -1 (q->error set) when it is not that answer or is malformed.
 */
int dns_decode_answer(const unsigned char *msg, size_t len, uint16_t id,
    const char *name, uint16_t type, struct dns_query *q);

#endif
