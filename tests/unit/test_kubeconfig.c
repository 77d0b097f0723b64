/*
 * kubeconfig from hostile or broken files and plugins: booleans that are
 * strings, tokens that would add HTTP headers (inline, tokenFile, exec),
 * exec plugins that print too much, hang, leave children behind or print
 * the wrong types, and fields of the wrong type.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "http/http.h"
#include "kube/kubeconfig.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

static char dir[] = "/tmp/s7-kc-XXXXXX";

static const char *
file(const char *name, const char *text, int exec)
{
	static char path[4][512];
	static int next;
	char *p = path[next++ % 4];
	FILE *fp;

	snprintf(p, 512, "%s/%s", dir, name);
	fp = fopen(p, "w");
	fputs(text, fp);
	fclose(fp);
	if (exec)
		chmod(p, 0755);
	return p;
}

/* A kubeconfig with this cluster extra and this user body. */
static const char *
kubeconfig(const char *cluster, const char *user)
{
	char text[4096];

	snprintf(text, sizeof(text),
	    "apiVersion: v1\nkind: Config\n"		/* 1, 2 */
	    "clusters:\n"				/* 3 */
	    "- name: c\n"				/* 4 */
	    "  cluster:\n"				/* 5 */
	    "    server: https://127.0.0.1:6443\n"	/* 6 */
	    "%s"					/* 7... */
	    "users:\n- name: u\n  user:\n%s"
	    "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
	    "current-context: x\n", cluster, user);
	return file("config", text, 0);
}

/* Loads and authenticates; the error message, or "" and *header. */
static int
load(const char *path, long timeout_ms, char **header, struct s7_error *err)
{
	struct kubeconfig kc;
	int r;

	kubeconfig_init(&kc);
	if (timeout_ms)
		kc.exec_timeout_ms = timeout_ms;
	s7_error_clear(err);
	*header = NULL;
	r = kubeconfig_load(&kc, path, NULL, err);
	if (r == 0)
		r = kubeconfig_auth(&kc, header, err);
	kubeconfig_release(&kc);
	return r;
}

static void
booleans(void)
{
	static const struct {
		const char *line;
		int ok, insecure;
		const char *msg;
	} t[] = {
		{ "    insecure-skip-tls-verify: true\n", 1, 1, NULL },
		{ "    insecure-skip-tls-verify: false\n", 1, 0, NULL },
		{ "    insecure-skip-tls-verify:\n", 1, 0, NULL },
		{ "    insecure-skip-tls-verify: \"false\"\n", 0, 0,
		  "insecure-skip-tls-verify: expected true or false, found a string 'false'" },
		{ "    insecure-skip-tls-verify: 'true'\n", 0, 0, "found a string 'true'" },
		{ "    insecure-skip-tls-verify: yes\n", 0, 0, "found a string 'yes'" },
		{ "    insecure-skip-tls-verify: 0\n", 0, 0, "found an integer '0'" },
		{ "    insecure-skip-tls-verify: [true]\n", 0, 0, "found a list" },
		{ "    disable-compression: \"no\"\n", 0, 0, "disable-compression: expected true or false" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct kubeconfig kc;
		struct s7_error err;
		const char *p = kubeconfig(t[i].line, "    token: abc\n");
		int r;

		kubeconfig_init(&kc);
		s7_error_clear(&err);
		r = kubeconfig_load(&kc, p, NULL, &err);
		CHECK((r == 0) == t[i].ok);
		if (t[i].ok) {
			CHECK(kc.insecure == t[i].insecure);
			CHECK(kc.tls.insecure == t[i].insecure);
		} else {
			CHECK_CONTAINS(err.msg, t[i].msg);
			/* positioned: the value, line 7 */
			CHECK(err.line == 7 && err.col > 4);
			CHECK_CONTAINS(err.file, "/config");
		}
		kubeconfig_release(&kc);
	}
}

static void
tokens(void)
{
	struct s7_error err;
	char *h = NULL;
	const char *tf, *p;

	/* inline: a double-quoted escape makes the line break */
	p = kubeconfig("", "    token: \"abc\\r\\nX-Injected: 1\"\n");
	CHECK(load(p, 0, &h, &err) < 0);
	CHECK_CONTAINS(err.msg, "users[u].user.token: the token contains a line break");
	CHECK(strstr(err.msg, "abc") == NULL && strstr(err.msg, "Injected") == NULL);
	CHECK(err.line == 10);
	p = kubeconfig("", "    token: \"abc\\u0000def\"\n");
	CHECK(load(p, 0, &h, &err) < 0);
	p = kubeconfig("", "    token: 12345\n");
	CHECK(load(p, 0, &h, &err) < 0);
	CHECK_CONTAINS(err.msg, "users[u].user.token: expected a string, found an integer");
	p = kubeconfig("", "    token: [a]\n");
	CHECK(load(p, 0, &h, &err) < 0);
	/* tokenFile: trailing line break trimmed, one inside refused */
	tf = file("token", "good-token\n", 0);
	{
		char u[600];

		snprintf(u, sizeof(u), "    tokenFile: %s\n", tf);
		p = kubeconfig("", u);
		CHECK(load(p, 0, &h, &err) == 0);
		CHECK_STR(h, "Bearer good-token");
		xfree_secret(h, strlen(h));
		file("token", "bad\r\nX-Injected: 1\n", 0);
		CHECK(load(p, 0, &h, &err) < 0);
		CHECK_CONTAINS(err.msg, "tokenFile");
		CHECK_CONTAINS(err.msg, "/token'");
		CHECK_CONTAINS(err.msg, "line break or another control character");
		CHECK(strstr(err.msg, "Injected") == NULL && strstr(err.msg, "bad") == NULL);
		file("token", "\n", 0);
		CHECK(load(p, 0, &h, &err) < 0);
		CHECK_CONTAINS(err.msg, "the token is empty");
	}
}

/* An exec user running this plugin. */
static const char *
exec_user(const char *script)
{
	static char u[1024];
	const char *plugin = file("plugin", script, 1);

	snprintf(u, sizeof(u),
	    "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
	    "      command: %s\n", plugin);
	return kubeconfig("", u);
}

#define CRED(status) "printf '%s' '{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\",\"status\":" status "}'\n"

/* Whether pid runs (a zombie waiting for its new parent has died). */
static int
alive(pid_t pid)
{
	char path[64], stat[512] = "";
	FILE *fp;
	const char *st;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(stat, sizeof(stat), fp) == NULL)
		stat[0] = '\0';
	fclose(fp);
	st = strrchr(stat, ')');
	return st && st[1] == ' ' && st[2] != 'Z' && st[2] != 'X';
}

static void
plugins(void)
{
	struct s7_error err;
	char *h = NULL;
	long long t0;
	char pidfile[600], script[1200];
	FILE *fp;
	long child = 0;

	CHECK(load(exec_user("#!/bin/sh\n" CRED("{\"token\":\"t0k\"}")), 0, &h,
	    &err) == 0);
	CHECK_STR(h, "Bearer t0k");
	xfree_secret(h, strlen(h));

	/* 2 MiB of output: it deadlocked (the pipe full, nobody reading) */
	alarm(30);
	t0 = http_now_ms();
	CHECK(load(exec_user("#!/bin/sh\nhead -c 2097152 /dev/zero | tr '\\0' a\n"),
	    0, &h, &err) < 0);
	CHECK_CONTAINS(err.msg, "printed more than 1024 KiB; killed it");
	CHECK(http_now_ms() - t0 < 5000);

	/*
	 * A plugin that hangs, with a child of its own: both are killed
	 * when the time limit passes.
	 */
	snprintf(pidfile, sizeof(pidfile), "%s/child.pid", dir);
	snprintf(script, sizeof(script),
	    "#!/bin/sh\nsleep 300 &\necho $! >%s\nsleep 300\n", pidfile);
	t0 = http_now_ms();
	CHECK(load(exec_user(script), 1000, &h, &err) < 0);
	CHECK_CONTAINS(err.msg, "did not finish within 1s; killed it");
	CHECK(http_now_ms() - t0 >= 900 && http_now_ms() - t0 < 3000);
	if ((fp = fopen(pidfile, "r")) != NULL) {
		CHECK(fscanf(fp, "%ld", &child) == 1);
		fclose(fp);
	}
	CHECK(child > 0);
	if (child > 0) {
		int i;

		for (i = 0; i < 50 && alive((pid_t)child); i++)
			usleep(20000);
		CHECK(!alive((pid_t)child));
	}

	/* a plugin that exits and leaves a child holding the pipe */
	t0 = http_now_ms();
	CHECK(load(exec_user("#!/bin/sh\n(sleep 20) &\n" CRED("{\"token\":\"left\"}")),
	    0, &h, &err) == 0);
	CHECK(http_now_ms() - t0 < 3000);
	CHECK_STR(h, "Bearer left");
	xfree_secret(h, strlen(h));

	/* what it prints is type-checked */
	CHECK(load(exec_user("#!/bin/sh\n" CRED("{\"token\":\"a\\r\\nX-Injected: 1\"}")),
	    0, &h, &err) < 0);
	CHECK_CONTAINS(err.msg, "the token contains a line break");
	CHECK(strstr(err.msg, "Injected") == NULL);
	CHECK(load(exec_user("#!/bin/sh\n" CRED("{\"token\":5}")), 0, &h, &err) < 0);
	CHECK_CONTAINS(err.msg, "status.token is not a string");
	CHECK(load(exec_user("#!/bin/sh\n" CRED("\"s\"")), 0, &h, &err) < 0);
	CHECK_CONTAINS(err.msg, "did not print an ExecCredential with a status");
	CHECK(load(exec_user("#!/bin/sh\n" CRED("{\"clientCertificateData\":1,\"clientKeyData\":[]}")),
	    0, &h, &err) < 0);
	CHECK_CONTAINS(err.msg, "neither a token nor a client certificate");
	CHECK(load(exec_user("#!/bin/sh\nprintf '{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"status\":{\"token\":\"x\"}}'\n"),
	    0, &h, &err) < 0);
	CHECK_CONTAINS(err.msg, "v1beta1");
	CHECK(load(exec_user("#!/bin/sh\necho secret-ish-garbage\n"), 0, &h, &err) < 0);
	CHECK_CONTAINS(err.msg, "did not print JSON");
	CHECK(strstr(err.msg, "garbage") == NULL);
	CHECK(load(exec_user("#!/bin/sh\nexit 3\n"), 0, &h, &err) < 0);
	CHECK_CONTAINS(err.msg, "failed (exit 3)");
	CHECK(load(exec_user("#!/bin/sh\nkill -9 $$\n"), 0, &h, &err) < 0);
	CHECK_CONTAINS(err.msg, "failed (signal 9)");
	alarm(0);
}

static void
fields(void)
{
	struct s7_error err;
	char *h;
	const char *plugin = file("p2", "#!/bin/sh\nexit 0\n", 1);
	char u[1024];

	snprintf(u, sizeof(u), "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
	    "      command: %s\n      args: {a: b}\n", plugin);
	CHECK(load(kubeconfig("", u), 0, &h, &err) < 0);
	CHECK_CONTAINS(err.msg, "exec.args: expected a list of strings");
	snprintf(u, sizeof(u), "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
	    "      command: %s\n      args: [a, {b: c}]\n", plugin);
	CHECK(load(kubeconfig("", u), 0, &h, &err) < 0);
	CHECK_CONTAINS(err.msg, "exec.args[1]: expected a string");
	snprintf(u, sizeof(u), "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
	    "      command: %s\n      env: [{name: A, value: {x: 1}}]\n", plugin);
	CHECK(load(kubeconfig("", u), 0, &h, &err) < 0);
	CHECK_CONTAINS(err.msg, "exec.env[0]: needs a name and a value");
	CHECK(load(kubeconfig("", "    exec: {apiVersion: client.authentication.k8s.io/v1, command: [x]}\n"),
	    0, &h, &err) < 0);
	CHECK_CONTAINS(err.msg, "exec.command: expected");
	/* the server URL */
	{
		const char *p = file("config2",
		    "clusters:\n- name: c\n  cluster: {server: \"https://a b\"}\n"
		    "users:\n- name: u\n  user: {token: t}\n"
		    "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
		    "current-context: x\n", 0);

		CHECK(load(p, 0, &h, &err) < 0);
		CHECK_CONTAINS(err.msg, "contains a space or a control character");
		p = file("config2",
		    "clusters:\n- name: c\n  cluster: {server: 5}\n"
		    "users:\n- name: u\n  user: {token: t}\n"
		    "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
		    "current-context: x\n", 0);
		CHECK(load(p, 0, &h, &err) < 0);
		CHECK_CONTAINS(err.msg, "server: not set");
		CHECK(err.line == 3);
		/* a FIFO as kubeconfig is refused, not waited on */
		unlink(p);
		CHECK(mkfifo(p, 0600) == 0);
		alarm(10);
		CHECK(load(p, 0, &h, &err) < 0);
		alarm(0);
		CHECK_CONTAINS(err.msg, "not a regular file");
		unlink(p);
	}
}

/*
 * 20,000 clusters, users and contexts: names are hashed (each was
 * compared with every earlier one), and the message listing the
 * contexts when the one asked for is missing stays short.
 */
static void
many(void)
{
	struct strbuf sb;
	struct kubeconfig kc;
	struct s7_error err;
	long long t0;
	size_t i;

	strbuf_init(&sb, STRBUF_LARGE);
	strbuf_addstr(&sb, "clusters:\n");
	for (i = 0; i < 20000; i++)
		strbuf_addf(&sb, "- {name: c%zu, cluster: {server: \"https://h%zu:6443\"}}\n", i, i);
	strbuf_addstr(&sb, "users:\n");
	for (i = 0; i < 20000; i++)
		strbuf_addf(&sb, "- {name: u%zu, user: {token: t%zu}}\n", i, i);
	strbuf_addstr(&sb, "contexts:\n");
	for (i = 0; i < 20000; i++)
		strbuf_addf(&sb, "- {name: x%zu, context: {cluster: c%zu, user: u%zu}}\n", i, i, i);
	strbuf_addstr(&sb, "current-context: x19999\n");
	t0 = http_now_ms();
	kubeconfig_init(&kc);
	CHECK(kubeconfig_load_text(&kc, "many", sb.buf, sb.len, NULL, &err) == 0);
	CHECK_STR(kc.server, "https://h19999:6443");
	kubeconfig_release(&kc);
	kubeconfig_init(&kc);
	CHECK(kubeconfig_load_text(&kc, "many", sb.buf, sb.len, "nope", &err) < 0);
	CHECK_CONTAINS(err.msg, "and 19950 more");
	kubeconfig_release(&kc);
	printf("  kubeconfig: 60,000 entries twice in %.2fs\n",
	    (double)(http_now_ms() - t0) / 1000);
	CHECK(http_now_ms() - t0 < 20000);
	strbuf_release(&sb);
}

int
main(void)
{
	CHECK(mkdtemp(dir) != NULL);
	many();
	booleans();
	tokens();
	plugins();
	fields();
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		CHECK(system(cmd) == 0);
	}
	return unit_done("kubeconfig");
}
