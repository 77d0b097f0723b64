/*
 * The Prometheus judgements on a real Prometheus (Debian's) on loopback:
 * it scrapes itself (up) and a port nobody listens on (down), and
 * evaluates Watchdog (always firing, by design), an info alert, and an
 * alert that really fires.  Targets: one down, named with its error.
 * Rules: loaded.  Alerts: the real one fails the check, Watchdog and the
 * info alert do not; with the real one allowed, the check passes.  The
 * history over a window (query_range of ALERTS) names the real one.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "unit.h"
#include "http/http.h"
#include "http/probe.h"
#include "json/json.h"
#include "verify/internal.h"

#define PROMETHEUS "/usr/bin/prometheus"

static char tmpdir[] = "/tmp/s7-prom-XXXXXX";
static char base[64];

static int
free_port(void)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &l);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static const struct ynode *
get(struct arena *a, const char *path)
{
	struct probe p, *pp = &p;
	struct s7_error err;
	struct ynode *j = NULL;
	char url[512];

	probe_init(&p);
	snprintf(url, sizeof(url), "%s%s", base, path);
	p.url = url;
	probe_run(&pp, 1, http_now_ms() + 5000, &err);
	if (p.status == 200)
		json_parse(a, path, p.body.buf, p.body.len, &j, &err);
	probe_release(&p);
	return j;
}

static struct vitem *
item(void)
{
	static struct vitem it;

	memset(&it, 0, sizeof(it));
	return &it;
}

int
main(void)
{
	char path[256], arg[4][300];
	struct arena a;
	struct vitem *it;
	const struct ynode *t;
	FILE *fp;
	pid_t pid;
	int port, i, ready = 0;

	if (access(PROMETHEUS, X_OK) != 0) {
		fprintf(stderr, "test_verify_prom: %s is missing (tools/deps.sh installs prometheus)\n",
		    PROMETHEUS);
		return 1;
	}
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	port = free_port();
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	snprintf(path, sizeof(path), "%s/rules.yml", tmpdir);
	fp = fopen(path, "w");
	fprintf(fp, "groups:\n- name: test\n  interval: 1s\n  rules:\n"
	    "  - alert: Watchdog\n    expr: vector(1)\n    labels: {severity: none}\n"
	    "  - alert: SomethingInformative\n    expr: vector(1)\n    labels: {severity: info}\n"
	    "  - alert: DiskOnFire\n    expr: vector(1)\n    labels: {severity: critical, namespace: n8n}\n");
	fclose(fp);
	snprintf(path, sizeof(path), "%s/prometheus.yml", tmpdir);
	fp = fopen(path, "w");
	fprintf(fp, "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
	    "rule_files: [%s/rules.yml]\n"
	    "scrape_configs:\n"
	    "- job_name: self\n  static_configs: [{targets: ['127.0.0.1:%d']}]\n"
	    "- job_name: dead\n  static_configs: [{targets: ['127.0.0.1:1']}]\n",
	    tmpdir, port);
	fclose(fp);
	snprintf(arg[0], sizeof(arg[0]), "--config.file=%s", path);
	snprintf(arg[1], sizeof(arg[1]), "--storage.tsdb.path=%s/data", tmpdir);
	snprintf(arg[2], sizeof(arg[2]), "--web.listen-address=127.0.0.1:%d", port);
	pid = fork();
	if (pid == 0) {
		freopen("/dev/null", "w", stderr);
		execl(PROMETHEUS, "prometheus", arg[0], arg[1], arg[2], (char *)NULL);
		_exit(127);
	}
	arena_init(&a);
	/* Ready when both targets were scraped and the alerts fire. */
	for (i = 0; i < 150 && !ready; i++) {
		struct timespec ts = { 0, 100 * 1000000L };
		const struct ynode *al;

		nanosleep(&ts, NULL);
		t = get(&a, "/api/v1/targets?state=active");
		al = get(&a, "/api/v1/alerts");
		if (t == NULL || al == NULL)
			continue;
		t = ynode_path(t, "data.activeTargets");
		al = ynode_path(al, "data.alerts");
		ready = t && t->n == 2 && al && al->n == 3 &&
		    strcmp(ynode_get_str(t->v[0], "health"), "unknown") != 0 &&
		    strcmp(ynode_get_str(t->v[1], "health"), "unknown") != 0;
	}
	CHECK(ready);

	it = item();
	prom_judge_targets(it, get(&a, "/api/v1/targets?state=active"));
	CHECK(it->res == V_FAIL);
	CHECK_CONTAINS(it->evidence, "1 of 2 targets up; down: dead http://127.0.0.1:1/metrics");
	CHECK_CONTAINS(it->evidence, "connection refused");

	it = item();
	prom_judge_rules(it, get(&a, "/api/v1/rules"));
	CHECK(it->res == V_PASS);
	CHECK_CONTAINS(it->evidence, "3 rules in 1 groups loaded (3 alerting)");

	it = item();
	prom_judge_alerts(it, get(&a, "/api/v1/alerts"), NULL);
	CHECK(it->res == V_FAIL);
	CHECK_STR(it->evidence, "1 alert firing: DiskOnFire (n8n)");

	{
		struct ynode *allow = ynode_seq(&a);

		ynode_push(&a, allow, ynode_str(&a, "DiskOnFire"));
		it = item();
		prom_judge_alerts(it, get(&a, "/api/v1/alerts"), allow);
		CHECK(it->res == V_PASS);
		CHECK_CONTAINS(it->evidence, "no alert firing (by design: ");
		CHECK_CONTAINS(it->evidence, "Watchdog");
		CHECK_CONTAINS(it->evidence, "SomethingInformative");
	}
	{
		char q[300];
		long long now = (long long)time(NULL);

		snprintf(q, sizeof(q),
		    "/api/v1/query_range?query=ALERTS%%7Balertstate%%3D%%22firing%%22%%7D&start=%lld&end=%lld&step=1",
		    now - 600, now);
		it = item();
		prom_judge_alert_history(it, get(&a, q), NULL, "10 min");
		CHECK(it->res == V_FAIL);
		CHECK_STR(it->evidence, "fired in the last 10 min: DiskOnFire (n8n)");
	}
	it = item();
	prom_judge_targets(it, NULL);
	CHECK(it->res == V_FAIL);

	arena_release(&a);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	snprintf(path, sizeof(path), "rm -rf %s", tmpdir);
	CHECK(system(path) == 0);
	return unit_done("verify prometheus");
}
