/*
 * The local runner spawns the command with three pipes and moves bytes
 * with poll(2), as the exec runner does over its WebSocket: stdin from
 * the buffer then the file descriptor, stdout to the callback, stderr to
 * a capped buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pg.h"
#include "../crypto/crypto.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

extern char **environ;

#define ERR_MAX 8192

static int
local_run(const struct pg_runner *r, const char *const *argv,
    const struct exec_io *io, int *exit_code, struct s7_error *err)
{
	posix_spawn_file_actions_t fa;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, er[2] = { -1, -1 };
	const char **full;
	size_t n = 0, i, sent = 0;
	char buf[65536];
	pid_t pid;
	int status = 0, ret = -1, in_done = 0, in_fd = io->in_fd, broke = 0;
	struct sigaction ign, old;

	for (i = 0; r->prefix && r->prefix[i]; i++)
		n++;
	for (i = 0; argv[i]; i++)
		n++;
	full = xcalloc(n + 1, sizeof(*full));
	n = 0;
	for (i = 0; r->prefix && r->prefix[i]; i++)
		full[n++] = r->prefix[i];
	for (i = 0; argv[i]; i++)
		full[n++] = argv[i];
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
	    pipe2(er, O_CLOEXEC) < 0) {
		s7_error(err, "pipe: %s", strerror(errno));
		goto done;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, er[1], 2);
	if (posix_spawnp(&pid, full[0], &fa, NULL, (char *const *)full,
	    environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		s7_error(err, "cannot run '%s': %s", full[0], strerror(errno));
		goto done;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	close(er[1]);
	in[0] = out[1] = er[1] = -1;
	/* A command that stops reading must not kill us with SIGPIPE. */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &old);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	while (out[0] >= 0 || er[0] >= 0) {
		struct pollfd p[3];
		int np = 0, k;

		if (!in_done) {
			p[np].fd = in[1];
			p[np++].events = POLLOUT;
		}
		if (out[0] >= 0) {
			p[np].fd = out[0];
			p[np++].events = POLLIN;
		}
		if (er[0] >= 0) {
			p[np].fd = er[0];
			p[np++].events = POLLIN;
		}
		if (poll(p, (nfds_t)np, -1) < 0) {
			if (errno == EINTR)
				continue;
			s7_error(err, "poll: %s", strerror(errno));
			broke = 1;
			break;
		}
		for (k = 0; k < np; k++) {
			ssize_t got;

			if (!p[k].revents)
				continue;
			if (p[k].fd == in[1]) {
				const char *src;
				size_t len;

				if (sent < io->in_len) {
					src = (const char *)io->in + sent;
					len = io->in_len - sent;
				} else if (in_fd >= 0) {
					got = read(in_fd, buf, sizeof(buf));
					if (got <= 0) {
						in_fd = -1;
						continue;
					}
					src = buf;
					len = (size_t)got;
				} else {
					close(in[1]);
					in[1] = -1;
					in_done = 1;
					continue;
				}
				while (len > 0) {
					got = write(in[1], src, len);
					if (got < 0 && errno == EAGAIN) {
						struct pollfd w = { in[1], POLLOUT, 0 };

						poll(&w, 1, 1000);
						continue;
					}
					if (got < 0) {
						/* The command stopped reading. */
						close(in[1]);
						in[1] = -1;
						in_done = 1;
						in_fd = -1;
						break;
					}
					src += got;
					len -= (size_t)got;
					if (sent < io->in_len)
						sent += (size_t)got;
				}
				continue;
			}
			got = read(p[k].fd, buf, sizeof(buf));
			if (got <= 0) {
				if (p[k].fd == out[0]) {
					close(out[0]);
					out[0] = -1;
				} else {
					close(er[0]);
					er[0] = -1;
				}
				continue;
			}
			if (p[k].fd == out[0]) {
				if (io->out && io->out(io->out_arg, buf, (size_t)got) != 0) {
					s7_error(err, "stopped while writing the output of '%s'",
					    argv[0]);
					broke = 1;
					kill(pid, SIGTERM);
					close(out[0]);
					out[0] = -1;
				}
			} else if (io->err_out) {
				size_t room = io->err_out->max - io->err_out->len;

				strbuf_add(io->err_out, buf, (size_t)got > room ?
				    room : (size_t)got);
			}
		}
	}
	if (in[1] >= 0) {
		close(in[1]);
		in[1] = -1;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	sigaction(SIGPIPE, &old, NULL);
	*exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 +
	    (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	ret = broke ? -1 : 0;
done:
	for (i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (er[i] >= 0)
			close(er[i]);
	}
	free(full);
	return ret;
}

int
pg_run(const struct pg_runner *r, const char *const *argv,
    const struct exec_io *io, int *exit_code, struct s7_error *err)
{
	s7_error_clear(err);
	if (r->k)
		return kube_exec(r->k, r->namespace, r->pod, r->container, argv,
		    io, exit_code, err);
	return local_run(r, argv, io, exit_code, err);
}

static int
sink_write(void *arg, const void *data, size_t len)
{
	struct pg_sink *s = arg;
	const char *p = data;

	crypto_sha256_add(s->sha, data, len);
	s->size += len;
	while (len > 0) {
		ssize_t n = write(s->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
collect(void *arg, const void *data, size_t len)
{
	return strbuf_add(arg, data, len);
}

/*
 * Runs script (sh -c) with the password as its first input line (or
 * none when password is NULL) and args as $1...; stdout to out.
 */
static int
run_script(const struct pg_runner *r, const char *what, const char *script,
    const char *password, const char *const *args, int in_fd,
    exec_out_fn out, void *out_arg, struct s7_error *err)
{
	const char *argv[16];
	struct exec_io io;
	struct strbuf errs, line;
	size_t n = 0, i;
	int code = -1, ret = -1;

	argv[n++] = "sh";
	argv[n++] = "-c";
	argv[n++] = script;
	argv[n++] = "sh";
	for (i = 0; args && args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	strbuf_init(&errs, ERR_MAX);
	strbuf_init(&line, 4096);
	memset(&io, 0, sizeof(io));
	if (password) {
		strbuf_addstr(&line, password);
		strbuf_addch(&line, '\n');
		io.in = line.buf;
		io.in_len = line.len;
	}
	io.in_fd = in_fd;
	io.out = out;
	io.out_arg = out_arg;
	io.err_out = &errs;
	if (pg_run(r, argv, &io, &code, err) < 0) {
		s7_error_prefix(err, "%s", what);
		goto done;
	}
	if (code != 0) {
		while (errs.len && errs.buf[errs.len - 1] == '\n')
			strbuf_setlen(&errs, errs.len - 1);
		s7_error_class(err, r->k ? S7_ECLUSTER : S7_EFAIL,
		    "%s failed (exit %d): %.600s", what, code,
		    errs.len ? errs.buf : "no message");
		goto done;
	}
	ret = 0;
done:
	strbuf_release(&errs);
	strbuf_release_secret(&line);
	return ret;
}

/* The dump role's script prologue: password from stdin, TCP to host. */
#define AS_ROLE "IFS= read -r PGPASSWORD || exit 97; export PGPASSWORD; " \
	"export PGHOST=\"$1\" PGPORT=\"$2\" PGUSER=\"$3\" PGSSLMODE=prefer; shift 3; "
#define AS_ADMIN "export PGHOST=\"$1\" PGPORT=\"$2\" PGUSER=\"$3\"; shift 3; "

int
pg_databases(const struct pg_runner *r, const char *user, const char *password,
    struct arena *a, const char ***names, size_t *n, struct s7_error *err)
{
	const char *args[] = { r->host, r->port, user, NULL };
	struct strbuf out;
	const char *p;
	size_t cap = 0;

	*names = NULL;
	*n = 0;
	strbuf_init(&out, STRBUF_SMALL);
	if (run_script(r, "listing databases", AS_ROLE
	    "exec psql -X -A -t -v ON_ERROR_STOP=1 -d postgres -c "
	    "\"SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1\"",
	    password, args, -1, collect, &out, err) < 0) {
		strbuf_release(&out);
		return -1;
	}
	for (p = out.buf; *p; ) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (len) {
			if (*n + 1 >= cap) {
				const char **g = arena_array(a, cap * 2 + 8, sizeof(*g));

				if (*n)
					memcpy(g, *names, *n * sizeof(*g));
				*names = g;
				cap = cap * 2 + 8;
			}
			(*names)[(*n)++] = arena_strndup(a, p, len);
		}
		p += len + (nl != NULL);
	}
	strbuf_release(&out);
	return 0;
}

int
pg_dump_globals(const struct pg_runner *r, const char *user,
    const char *password, struct pg_sink *sink, struct s7_error *err)
{
	const char *args[] = { r->host, r->port, user, NULL };

	return run_script(r, "pg_dumpall --globals-only", AS_ROLE
	    "exec pg_dumpall --globals-only --no-role-passwords",
	    password, args, -1, sink_write, sink, err);
}

int
pg_dump_db(const struct pg_runner *r, const char *user, const char *password,
    const char *db, struct pg_sink *sink, struct s7_error *err)
{
	const char *args[] = { r->host, r->port, user, db, NULL };
	char what[300];

	snprintf(what, sizeof(what), "pg_dump of database '%s'", db);
	return run_script(r, what, AS_ROLE
	    "exec pg_dump --format=custom --dbname=\"$1\"",
	    password, args, -1, sink_write, sink, err);
}

int
pg_dump_legacy(const struct pg_runner *r, struct pg_sink *sink,
    struct s7_error *err)
{
	return run_script(r, "pg_dumpall of the legacy server",
	    "export PGPASSWORD=\"${POSTGRES_PASSWORD:-}\"; "
	    "exec pg_dumpall --host=127.0.0.1 --username=\"${POSTGRES_USER:-postgres}\" --no-role-passwords",
	    NULL, NULL, -1, sink_write, sink, err);
}

int
pg_restore_db(const struct pg_runner *r, const char *db, int in_fd,
    struct s7_error *err)
{
	const char *args[] = { r->admin_host, r->port, r->admin_user, db, NULL };
	char what[300];

	snprintf(what, sizeof(what), "pg_restore into database '%s'", db);
	return run_script(r, what, AS_ADMIN
	    "exec pg_restore --clean --if-exists --single-transaction --exit-on-error --no-password --dbname=\"$1\"",
	    NULL, args, in_fd, NULL, NULL, err);
}

int
pg_row_counts(const struct pg_runner *r, const char *user,
    const char *password, const char *db, struct strbuf *out,
    struct s7_error *err)
{
	const char *role[] = { r->host, r->port, user, db, NULL };
	const char *admin[] = { r->admin_host, r->port, r->admin_user, db, NULL };

	/* One query builds a count(*) per table, \gexec runs them. */
	return run_script(r, "counting rows", user ? AS_ROLE
	    "psql -X -A -t -F ' ' -v ON_ERROR_STOP=1 -d \"$1\" <<'SQL' | sort\n"
	    "SELECT format('SELECT %L, count(*) FROM %I.%I', n.nspname || '.' || c.relname, n.nspname, c.relname)\n"
	    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace\n"
	    "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')\n"
	    "AND n.nspname NOT LIKE 'pg_toast%' AND NOT c.relispartition \\gexec\n"
	    "SQL\n" : AS_ADMIN
	    "psql -X -A -t -F ' ' -v ON_ERROR_STOP=1 -d \"$1\" <<'SQL' | sort\n"
	    "SELECT format('SELECT %L, count(*) FROM %I.%I', n.nspname || '.' || c.relname, n.nspname, c.relname)\n"
	    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace\n"
	    "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')\n"
	    "AND n.nspname NOT LIKE 'pg_toast%' AND NOT c.relispartition \\gexec\n"
	    "SQL\n", user ? password : NULL, user ? role : admin, -1, collect,
	    out, err);
}

int
pg_restore_list(const char *pg_restore, int in_fd, size_t *entries,
    struct s7_error *err)
{
	struct pg_runner local;
	const char *argv[] = { pg_restore, "--list", NULL };
	struct exec_io io;
	struct strbuf out, errs;
	const char *p;
	int code = -1, ret = -1;

	memset(&local, 0, sizeof(local));
	memset(&io, 0, sizeof(io));
	s7_error_clear(err);
	strbuf_init(&out, STRBUF_TEXT);
	strbuf_init(&errs, ERR_MAX);
	io.in_fd = in_fd;
	io.out = collect;
	io.out_arg = &out;
	io.err_out = &errs;
	*entries = 0;
	if (local_run(&local, argv, &io, &code, err) < 0)
		goto done;
	if (code != 0) {
		while (errs.len && errs.buf[errs.len - 1] == '\n')
			strbuf_setlen(&errs, errs.len - 1);
		s7_error_class(err, S7_EVERIFY, "pg_restore --list failed (exit %d): %.400s",
		    code, errs.buf);
		goto done;
	}
	/* TOC lines are "ID; ..." ; comments start with ';'. */
	for (p = out.buf; *p; ) {
		const char *nl = strchr(p, '\n');

		if (*p >= '0' && *p <= '9')
			(*entries)++;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	ret = 0;
done:
	strbuf_release(&out);
	strbuf_release(&errs);
	return ret;
}
