/*
 * The DNS client against Unbound (Debian's), run on loopback with a
 * configuration made from the records `sector7 dns` gives for the
 * built-in site: the internal overrides on one instance, the public
 * zone on another.  Every record answers with its value, all queries at
 * once; a name with more A records than fit in 512 bytes comes back
 * truncated over UDP and is asked again over TCP; a missing name is
 * NXDOMAIN; a stopped resolver is refused at once; one that never
 * answers fails at the deadline; hostile answers are rejected.
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "catalog/embedded.h"
#include "http/http.h"
#include "net/dns.h"
#include "site/dns.h"
#include "util/strbuf.h"

#define UNBOUND "/usr/sbin/unbound"

static char tmpdir[] = "/tmp/s7-dns-XXXXXX";

/* A port free for UDP and TCP on 127.0.0.1 now (Unbound takes both). */
static int
free_port(void)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), tfd, port;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &l);
	port = ntohs(a.sin_port);
	tfd = socket(AF_INET, SOCK_STREAM, 0);
	if (bind(tfd, (struct sockaddr *)&a, sizeof(a)) < 0)
		port = 0;	/* taken for TCP: the caller asks again */
	close(tfd);
	close(fd);
	return port;
}

static pid_t start_unbound_on(const char *name, int port,
    const char *local_data);

/*
 * Starts Unbound on a free port of 127.0.0.1 (*port), answering only
 * from local data; another port when the one picked was taken meanwhile
 * (other tests run beside this one).
 */
static pid_t
start_unbound(const char *name, int *port, const char *local_data)
{
	int attempt;
	pid_t pid = -1;

	for (attempt = 0; attempt < 8; attempt++) {
		int st;

		while ((*port = free_port()) == 0)
			;
		pid = start_unbound_on(name, *port, local_data);
		if (pid > 0 && waitpid(pid, &st, WNOHANG) == 0)
			return pid;	/* running, and it answered */
	}
	return pid;
}

static pid_t
start_unbound_on(const char *name, int port, const char *local_data)
{
	char path[256];
	FILE *fp;
	pid_t pid;
	struct sockaddr_in srv;
	struct dns_query q;
	int i;

	snprintf(path, sizeof(path), "%s/%s.conf", tmpdir, name);
	fp = fopen(path, "w");
	fprintf(fp, "server:\n  interface: 127.0.0.1\n  port: %d\n"
	    "  do-daemonize: no\n  username: \"\"\n  chroot: \"\"\n"
	    "  directory: \"%s\"\n  pidfile: \"\"\n  use-syslog: no\n"
	    "  logfile: \"%s/%s.log\"\n  do-ip6: no\n  verbosity: 0\n"
	    "  access-control: 127.0.0.0/8 allow\n"
	    "  module-config: \"iterator\"\n"
	    /* nothing is ever asked of the outside world */
	    "  local-zone: \".\" refuse\n"
	    "  local-zone: \"sector7.helloworlddao.com.\" static\n"
	    "%s", port, tmpdir, tmpdir, name, local_data);
	fclose(fp);
	pid = fork();
	if (pid == 0) {
		execl(UNBOUND, "unbound", "-d", "-c", path, (char *)NULL);
		_exit(127);
	}
	/* Ready when it answers. */
	memset(&srv, 0, sizeof(srv));
	srv.sin_family = AF_INET;
	srv.sin_port = htons((uint16_t)port);
	srv.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < 100; i++) {
		struct timespec ts = { 0, 50 * 1000000L };
		int st;

		dns_query_init(&q, "sector7.helloworlddao.com", DNS_TYPE_A, &srv);
		dns_run(&q, 1, http_now_ms() + 200);
		if (!q.failed)
			return pid;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			fprintf(stderr, "  unbound exited on port %d (see %s/%s.log): another port\n",
			    port, tmpdir, name);
			return -1;
		}
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "unbound did not start: see %s/%s.log\n", tmpdir, name);
	return pid;
}

static void
stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
}

int
main(void)
{
	struct site s;
	struct findings f;
	struct dns_plan plan;
	struct strbuf conf, pub;
	struct sockaddr_in in_srv, pub_srv, silent_srv;
	struct dns_query q[32];
	struct s7_error err;
	const char *text;
	size_t len, i, n = 0;
	pid_t internal, public;
	int in_port, pub_port, silent;
	long long t0;

	if (access(UNBOUND, X_OK) != 0) {
		fprintf(stderr, "test_verify_dns: %s is missing (tools/deps.sh installs unbound)\n",
		    UNBOUND);
		return 1;
	}
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	site_init(&s);
	findings_init(&f, "site");
	text = embedded_find("examples/sector7.yaml")->data;
	len = embedded_find("examples/sector7.yaml")->len;
	CHECK(site_load(&s, "site", text, len, &f) == 0);
	dns_plan(&s, &plan);
	CHECK(plan.ninternal == 7);
	CHECK(plan.nexternal == 2);

	/* The internal view: exactly the unbound.conf lines sector7 prints,
	 * plus a name with too many addresses for 512 bytes. */
	strbuf_init(&conf, STRBUF_SMALL);
	dns_format_unbound(&plan, &conf);
	for (i = 1; i <= 60; i++)
		strbuf_addf(&conf, "local-data: \"big.sector7.helloworlddao.com. 300 IN A 10.9.0.%zu\"\n", i);
	/* The public view: the external zone's records. */
	strbuf_init(&pub, STRBUF_SMALL);
	for (i = 0; i < plan.nexternal; i++)
		strbuf_addf(&pub, "local-data: \"%s. 300 IN %s %s%s\"\n",
		    plan.external[i].name, plan.external[i].type,
		    plan.external[i].value,
		    strcmp(plan.external[i].type, "CNAME") == 0 ? "." : "");
	internal = start_unbound("internal", &in_port, conf.buf);
	public = start_unbound("public", &pub_port, pub.buf);

	memset(&in_srv, 0, sizeof(in_srv));
	in_srv.sin_family = AF_INET;
	in_srv.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	in_srv.sin_port = htons((uint16_t)in_port);
	pub_srv = in_srv;
	pub_srv.sin_port = htons((uint16_t)pub_port);

	/* Every record at once, both views. */
	for (i = 0; i < plan.ninternal; i++)
		dns_query_init(&q[n++], plan.internal[i].name, DNS_TYPE_A, &in_srv);
	dns_query_init(&q[n++], plan.external[0].name, DNS_TYPE_A, &pub_srv);
	dns_query_init(&q[n++], plan.external[1].name, DNS_TYPE_CNAME, &pub_srv);
	dns_query_init(&q[n++], "big.sector7.helloworlddao.com", DNS_TYPE_A, &in_srv);
	dns_query_init(&q[n++], "missing.sector7.helloworlddao.com", DNS_TYPE_A, &in_srv);
	t0 = http_now_ms();
	dns_run(q, n, t0 + 3000);
	CHECK(http_now_ms() - t0 < 1000);
	for (i = 0; i < plan.ninternal; i++) {
		CHECK(!q[i].failed);
		CHECK(q[i].rcode == DNS_NOERROR);
		CHECK(q[i].nanswers == 1);
		CHECK_STR(q[i].answers[0], plan.internal[i].value);
		CHECK(!q[i].tcp);
	}
	i = plan.ninternal;
	CHECK_STR(q[i].answers[0], "71.73.220.69");
	CHECK(q[i + 1].nanswers == 1 && q[i + 1].answer_types[0] == DNS_TYPE_CNAME);
	CHECK_STR(q[i + 1].answers[0], "sector7.helloworlddao.com");
	/* truncated over UDP, then the whole answer over TCP */
	CHECK(q[i + 2].truncated);
	CHECK(q[i + 2].tcp);
	CHECK(!q[i + 2].failed);
	CHECK(q[i + 2].nanswers == DNS_MAX_ANSWERS);
	CHECK(q[i + 3].rcode == DNS_NXDOMAIN);

	/* A resolver that stopped: refused at once, not at the deadline. */
	stop(internal);
	internal = 0;
	dns_query_init(&q[0], "n8n.sector7.helloworlddao.com", DNS_TYPE_A, &in_srv);
	t0 = http_now_ms();
	dns_run(q, 1, t0 + 3000);
	CHECK(q[0].failed);
	CHECK_CONTAINS(q[0].error, "connection refused");
	CHECK(http_now_ms() - t0 < 500);

	/* One that never answers: fails at the deadline, saying so. */
	silent = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&silent_srv, 0, sizeof(silent_srv));
	silent_srv.sin_family = AF_INET;
	silent_srv.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(silent, (struct sockaddr *)&silent_srv, sizeof(silent_srv));
	{
		socklen_t l = sizeof(silent_srv);

		getsockname(silent, (struct sockaddr *)&silent_srv, &l);
	}
	dns_query_init(&q[0], "n8n.sector7.helloworlddao.com", DNS_TYPE_A, &silent_srv);
	t0 = http_now_ms();
	dns_run(q, 1, t0 + 300);
	CHECK(q[0].failed);
	CHECK_CONTAINS(q[0].error, "no answer from 127.0.0.1:");
	CHECK(http_now_ms() - t0 >= 290 && http_now_ms() - t0 < 1000);
	close(silent);

	/* The wire format: a pointer loop and a wrong id are rejected. */
	{
		unsigned char m[64];
		size_t l;

		CHECK(dns_encode_query(0x1234, "a.b", DNS_TYPE_A, 1, m, sizeof(m), &l) == 0);
		CHECK(l == 12 + 5 + 4);
		m[2] |= 0x80;			/* QR */
		m[7] = 1;			/* one answer: a pointer to itself */
		m[l] = 0xC0;
		m[l + 1] = (unsigned char)l;
		memset(m + l + 2, 0, 10);
		CHECK(dns_decode_answer(m, l + 12, 0x1234, "a.b", DNS_TYPE_A, &q[0]) < 0);
		CHECK(dns_decode_answer(m, l + 12, 0x4321, "a.b", DNS_TYPE_A, &q[0]) < 0);
		CHECK(dns_encode_query(1, "bad..name", DNS_TYPE_A, 1, m, sizeof(m), &l) < 0);
	}
	CHECK(dns_parse_server("127.0.0.9:5353", &in_srv, &err) == 0);
	CHECK(ntohs(in_srv.sin_port) == 5353);
	CHECK(dns_parse_server("127.0.0.9", &in_srv, &err) == 0 &&
	    ntohs(in_srv.sin_port) == 53);
	CHECK(dns_parse_server("localhost:53", &in_srv, &err) < 0);
	CHECK(dns_parse_server("1.2.3.4:0", &in_srv, &err) < 0);

	stop(internal);
	stop(public);
	strbuf_release(&conf);
	strbuf_release(&pub);
	findings_release(&f);
	site_release(&s);
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", tmpdir);
	}
	return unit_done("verify dns");
}
