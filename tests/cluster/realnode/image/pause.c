/*
 * The pod sandbox's process: holds the pod's namespaces, reaps children
 * that end up with it, exits on SIGINT or SIGTERM.  Built with gcc -static.
 */
#include <signal.h>
#include <stddef.h>
#include <unistd.h>
#include <sys/wait.h>

static void
stop(int sig)
{
	(void)sig;
	_exit(0);
}

static void
reap(int sig)
{
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

int
main(void)
{
	struct sigaction sa = {0};

	sa.sa_handler = stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = reap;
	sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	for (;;)
		pause();
}
