/*
 * One-off HTTP(S) probes, all run at once on a curl multi handle of
 * their own under one deadline: what `verify` asks of the site from
 * outside (the apps' health paths through the ingress) and of a
 * Prometheus reached directly.  Nothing is retried: a probe reports what
 * happened once.
 *
 * A probe may be sent to another address than its URL's host names
 * (connect_to, as curl's --connect-to), so the TLS handshake carries the
 * URL's host as SNI and the certificate is checked against it while the
 * packets go to the ingress address.  TLS is always verified, against
 * ca (PEM) or, when ca is NULL, the system's roots; the leaf certificate
 * of a verified connection is returned as PEM.
 *
 * A probe owns its body and leaf_pem; probe_release frees them.  The
 * caller owns the strings it points the probe at.
 */
#ifndef S7_HTTP_PROBE_H
#define S7_HTTP_PROBE_H

#include <stddef.h>

#include "../util/error.h"
#include "../util/strbuf.h"

#define PROBE_BODY_MAX ((size_t)4 * 1024 * 1024)

struct probe {
	/* what to ask */
	const char *url;
	const char *connect_to;		/* "HOST:PORT:ADDR:PORT", or NULL */
	const char *ca;			/* PEM, or NULL: system roots */
	size_t ca_len;
	int want_cert;			/* fill leaf_pem */

	/* what came back */
	int done;
	long status;			/* 0: no HTTP answer */
	struct strbuf body;
	char error[256];		/* transport or TLS failure */
	long ms;			/* total time */
	char *leaf_pem;			/* the server's certificate */

	void *easy;			/* the module's */
};

void probe_init(struct probe *p);
void probe_release(struct probe *p);
/*
 * Runs every probe until it is done or deadline_ms (http_now_ms clock)
 * passes; then the unfinished ones get "no answer before the deadline".  -1 only
 * when libcurl cannot be set up.
 */
int probe_run(struct probe *const *p, size_t n, long long deadline_ms,
    struct s7_error *err);

#endif
