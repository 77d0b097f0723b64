/*
 * Starts tests/http/server.py (the scripted loopback server) for a test
 * and stops it at exit.  httpd_start returns the plain port and sets
 * *tls_port (0 when the server has no TLS).
 */
#ifndef S7_TEST_HTTPD_H
#define S7_TEST_HTTPD_H

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t httpd_pid;

static void
httpd_stop(void)
{
	if (httpd_pid > 0) {
		kill(httpd_pid, SIGTERM);
		waitpid(httpd_pid, NULL, 0);
		httpd_pid = 0;
	}
}

static int
httpd_start(int *tls_port)
{
	int fd[2];
	char buf[64] = "";
	char *end;
	long port;

	*tls_port = 0;
	if (pipe(fd) < 0)
		return -1;
	httpd_pid = fork();
	if (httpd_pid == 0) {
		dup2(fd[1], 1);
		close(fd[0]);
		execl("/usr/bin/python3", "python3", "tests/http/server.py",
		    (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	unit_read_line(fd[0], buf, sizeof(buf));
	close(fd[0]);
	atexit(httpd_stop);
	port = strtol(buf, &end, 10);
	if (end == buf || port <= 0)
		return -1;
	*tls_port = (int)strtol(end, NULL, 10);
	return (int)port;
}

#endif
