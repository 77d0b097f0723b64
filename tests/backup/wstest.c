/*
 * Drives src/http/ws.c and src/kube/exec.c against tests/backup/wsserver.py.
 *
 *   wstest echo URL CA          messages of many sizes sent and read back
 *   wstest get URL CA MAX       one message with a cap of MAX bytes
 *   wstest exec URL CA TOKEN [INPUT]   kube_exec_url: stdout to stdout,
 *                               stderr to stderr, "exit N" on the last line
 *
 * Errors are printed as "error: ..." and exit 1.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/ws.h"
#include "kube/exec.h"
#include "util/fs.h"
#include "util/strnum.h"
#include "util/banned.h"

static struct http_tls tls;
static struct strbuf ca;

static int
die(const struct s7_error *err)
{
	printf("error: %s\n", err->msg);
	return 1;
}

static int
echo(const char *url)
{
	static const size_t sizes[] = { 0, 1, 5, 125, 126, 127, 65535, 65536,
	    70000, 300000, 2 * 1024 * 1024 + 7 };
	struct ws_opts o;
	struct ws_conn *c;
	struct s7_error err;
	struct strbuf got;
	size_t i, j;
	int op, r;

	memset(&o, 0, sizeof(o));
	o.url = url;
	o.tls = &tls;
	o.protocol = "test.sector7";
	if (ws_connect(&c, &o, NULL, &err) < 0)
		return die(&err);
	if (strcmp(ws_protocol(c), "test.sector7") != 0) {
		printf("error: protocol '%s'\n", ws_protocol(c));
		return 1;
	}
	strbuf_init(&got, WS_MESSAGE_MAX);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *m = malloc(sizes[i] + 1);

		for (j = 0; j < sizes[i]; j++)
			m[j] = (char)(j * 31 + i);
		if (ws_send(c, i % 2 ? WS_TEXT : WS_BINARY, m, sizes[i], &err) < 0 ||
		    (r = ws_recv(c, &got, &op, 10000, &err)) < 0) {
			free(m);
			return die(&err);
		}
		if (r != 1 || op != (i % 2 ? WS_TEXT : WS_BINARY) ||
		    got.len != sizes[i] || memcmp(got.buf, m, sizes[i]) != 0) {
			printf("error: message of %zu bytes came back as %zu bytes (op %d)\n",
			    sizes[i], got.len, op);
			free(m);
			return 1;
		}
		free(m);
		printf("echo %zu ok\n", sizes[i]);
	}
	if (ws_close(c, 1000, 5000, &err) < 0)
		return die(&err);
	printf("closed %d\n", ws_close_code(c));
	ws_free(c);
	strbuf_release(&got);
	return 0;
}

static int
get(const char *url, const char *max)
{
	struct ws_opts o;
	struct ws_conn *c;
	struct s7_error err;
	struct strbuf got;
	const char *bad = NULL;
	long status = 0;
	int op, r;

	memset(&o, 0, sizeof(o));
	o.url = url;
	o.tls = &tls;
	o.protocol = "test.sector7";
	o.max_message = (size_t)s7_strtonum(max, 1, 1LL << 30, &bad);
	if (ws_connect(&c, &o, &status, &err) < 0) {
		printf("status %ld\n", status);
		strbuf_release(&ca);
		return die(&err);
	}
	strbuf_init(&got, o.max_message);
	r = ws_recv(c, &got, &op, 10000, &err);
	if (r < 0) {
		ws_free(c);
		strbuf_release(&got);
		strbuf_release(&ca);
		return die(&err);
	}
	printf("got %d %zu\n", r, got.len);
	ws_free(c);
	strbuf_release(&got);
	strbuf_release(&ca);
	return 0;
}

static int
out(void *arg, const void *data, size_t len)
{
	(void)arg;
	return fwrite(data, 1, len, stdout) == len ? 0 : -1;
}

static int
run_exec(const char *url, const char *token, const char *input)
{
	struct exec_io io;
	struct s7_error err;
	struct strbuf errs;
	char auth[512];
	int code = -1, fd = -1;

	memset(&io, 0, sizeof(io));
	strbuf_init(&errs, 65536);
	snprintf(auth, sizeof(auth), "Bearer %s", token);
	if (input && (fd = open(input, O_RDONLY)) < 0) {
		perror(input);
		return 1;
	}
	io.in = "first line\n";
	io.in_len = strlen(io.in);
	io.in_fd = fd;
	io.out = out;
	io.err_out = &errs;
	if (kube_exec_url(url, &tls, auth, &io, &code, &err) < 0) {
		strbuf_release(&errs);
		strbuf_release(&ca);
		return die(&err);
	}
	fflush(stdout);
	fwrite(errs.buf, 1, errs.len, stderr);
	printf("exit %d\n", code);
	if (fd >= 0)
		close(fd);
	strbuf_release(&errs);
	return 0;
}

int
main(int argc, char **argv)
{
	struct s7_error err;

	if (argc < 4) {
		fprintf(stderr, "usage: wstest echo|get|exec URL CA ...\n");
		return 2;
	}
	strbuf_init(&ca, 1 << 20);
	if (fs_read(argv[3], &ca, &err) < 0)
		return die(&err);
	tls.ca = ca.buf;
	tls.ca_len = ca.len;
	if (strcmp(argv[1], "echo") == 0)
		return echo(argv[2]);
	if (strcmp(argv[1], "get") == 0 && argc == 5)
		return get(argv[2], argv[4]);
	if (strcmp(argv[1], "exec") == 0 && argc >= 5)
		return run_exec(argv[2], argv[4], argc > 5 ? argv[5] : NULL);
	fprintf(stderr, "wstest: bad arguments\n");
	return 2;
}
