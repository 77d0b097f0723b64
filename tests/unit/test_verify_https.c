/*
 * The HTTPS probes against a real TLS server on loopback
 * (tests/verify/https_server.py) with certificates made by openssl
 * (tests/verify/mkcerts.sh): the URL's host goes out as SNI while the
 * connection goes to 127.0.0.7, the chain is verified against the test
 * CA, the leaf comes back for its expiry; a certificate expiring in 2
 * days is read as such; the system's roots, another CA and a host the
 * server has no certificate for all fail the handshake with curl's
 * reason; probes run at once, and a slow one stops at the deadline.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "http/http.h"
#include "http/probe.h"
#include "util/fs.h"
#include "verify/internal.h"

static char tmpdir[] = "/tmp/s7-https-XXXXXX";
static pid_t server;

static int
start_server(void)
{
	int fd[2];
	char buf[32] = "";
	size_t len;

	if (pipe(fd) < 0)
		return -1;
	server = fork();
	if (server == 0) {
		dup2(fd[1], 1);
		close(fd[0]);
		execl("/usr/bin/python3", "python3", "tests/verify/https_server.py",
		    "127.0.0.7", tmpdir, "n8n.test.example", "soon.test.example",
		    "stranger.test.example", (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	len = unit_read_line(fd[0], buf, sizeof(buf));
	close(fd[0]);
	return len > 0 ? atoi(buf) : -1;
}

static void
setup(struct probe *p, const char *host, const char *path, int port,
    const struct strbuf *ca, char *url, char *to)
{
	probe_init(p);
	sprintf(url, "https://%s%s", host, path);
	sprintf(to, "%s:443:127.0.0.7:%d", host, port);
	p->url = url;
	p->connect_to = to;
	p->want_cert = 1;
	if (ca) {
		p->ca = ca->buf;
		p->ca_len = ca->len;
	}
}

int
main(void)
{
	struct strbuf ca;
	struct s7_error err;
	struct probe p[7], *pp[7];
	char url[7][128], to[7][128], cmd[512];
	struct cert_info ci;
	long long t0, took, days;
	int port, i;

	if (mkdtemp(tmpdir) == NULL)
		return 1;
	snprintf(cmd, sizeof(cmd), "tests/verify/mkcerts.sh %s n8n.test.example",
	    tmpdir);
	CHECK(system(cmd) == 0);
	strbuf_init(&ca, STRBUF_SMALL);
	snprintf(cmd, sizeof(cmd), "%s/ca.crt", tmpdir);
	CHECK(fs_read(cmd, &ca, &err) == 0);
	port = start_server();
	CHECK(port > 0);

	setup(&p[0], "n8n.test.example", "/healthz", port, &ca, url[0], to[0]);
	setup(&p[1], "soon.test.example", "/", port, &ca, url[1], to[1]);
	setup(&p[2], "n8n.test.example", "/", port, NULL, url[2], to[2]);
	setup(&p[3], "stranger.test.example", "/", port, &ca, url[3], to[3]);
	setup(&p[4], "unknown.test.example", "/", port, &ca, url[4], to[4]);
	setup(&p[5], "n8n.test.example", "/slow", port, &ca, url[5], to[5]);
	setup(&p[6], "n8n.test.example", "/", 1, &ca, url[6], to[6]);
	for (i = 0; i < 7; i++)
		pp[i] = &p[i];
	t0 = http_now_ms();
	CHECK(probe_run(pp, 7, t0 + 2000, &err) == 0);
	took = http_now_ms() - t0;
	/* all at once: the slow one's deadline bounds the whole */
	CHECK(took >= 1900 && took < 3000);

	CHECK(p[0].status == 200);
	CHECK_STR(p[0].body.buf, "{\"status\":\"ok\"}");
	CHECK(p[0].leaf_pem != NULL);
	CHECK(p[0].ms < 1500);
	if (p[0].leaf_pem) {
		CHECK(cert_parse(p[0].leaf_pem, strlen(p[0].leaf_pem), &ci, &err) == 0);
		days = ((long long)ci.not_after - (long long)time(NULL)) / 86400;
		CHECK(days >= 88 && days <= 90);
		CHECK_CONTAINS(ci.issuer, "sector7 test CA");
		CHECK(cert_matches_host(p[0].leaf_pem, strlen(p[0].leaf_pem),
		    "n8n.test.example"));
		CHECK(!cert_matches_host(p[0].leaf_pem, strlen(p[0].leaf_pem),
		    "grafana.test.example"));
	}
	CHECK(p[1].status == 200 && p[1].leaf_pem != NULL);
	if (p[1].leaf_pem) {
		CHECK(cert_parse(p[1].leaf_pem, strlen(p[1].leaf_pem), &ci, &err) == 0);
		days = ((long long)ci.not_after - (long long)time(NULL)) / 86400;
		CHECK(days >= 1 && days <= 2);
	}
	CHECK(p[2].status == 0);
	CHECK_CONTAINS(p[2].error, "unable to get local issuer certificate");
	CHECK(p[3].status == 0);
	CHECK_CONTAINS(p[3].error, "unable to get local issuer certificate");
	CHECK(p[4].status == 0);
	CHECK_CONTAINS(p[4].error, "no alternative certificate subject name matches");
	CHECK(p[5].status == 0);
	CHECK_CONTAINS(p[5].error, "no answer before the deadline (");
	CHECK(p[5].ms >= 1900);
	CHECK(p[6].status == 0);
	CHECK_CONTAINS(p[6].error, "connect");
	CHECK(cert_parse("not a certificate", 17, &ci, &err) < 0);

	for (i = 0; i < 7; i++)
		probe_release(&p[i]);
	strbuf_release(&ca);
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	CHECK(system(cmd) == 0);
	return unit_done("verify https");
}
