/*
 * PostgreSQL's own tools, run next to the server: in the cluster's
 * primary pod through the API server's exec (the pod's image carries the
 * client of the server's version), or as local processes (a server on
 * this machine: the tests, or `backup verify`'s pg_restore --list).  One
 * interface, struct pg_runner, for both; the commands and their
 * arguments are the same.
 *
 * Passwords are never in a command line: the command is `sh -c SCRIPT`
 * whose script reads the first line of stdin into PGPASSWORD, and the
 * arguments follow as positional parameters (no quoting of values).
 */
#ifndef S7_BACKUP_PG_H
#define S7_BACKUP_PG_H

#include <stddef.h>

#include "../kube/exec.h"
#include "../util/arena.h"
#include "../util/error.h"

struct pg_runner {
	/* In a pod (k set), or here (k NULL). */
	struct kube_client *k;
	const char *namespace, *pod, *container;
	/* Here: argv prefix run before sh (e.g. runuser -u postgres --). */
	const char *const *prefix;
	/* How the read-only dump role connects (TCP, with its password). */
	const char *host, *port;
	/* How restores connect: the superuser over the local socket. */
	const char *admin_host, *admin_user;
};

/* Runs argv (NULL-terminated) as the runner says. */
int pg_run(const struct pg_runner *r, const char *const *argv,
    const struct exec_io *io, int *exit_code, struct s7_error *err);

/* Gets what a command wrote: a file descriptor and a running sha256. */
struct pg_sink {
	int fd;
	struct crypto_sha256_ctx *sha;
	unsigned long long size;
};

/* The databases that accept connections (not templates), sorted. */
int pg_databases(const struct pg_runner *r, const char *user,
    const char *password, struct arena *a, const char ***names, size_t *n,
    struct s7_error *err);
/* pg_dumpall --globals-only --no-role-passwords (plain SQL) to sink. */
int pg_dump_globals(const struct pg_runner *r, const char *user,
    const char *password, struct pg_sink *sink, struct s7_error *err);
/* pg_dump --format=custom of db to sink. */
int pg_dump_db(const struct pg_runner *r, const char *user,
    const char *password, const char *db, struct pg_sink *sink,
    struct s7_error *err);
/*
 * pg_restore of the custom-format dump read from in_fd into the existing
 * database db, as the superuser, in one transaction that stops at the
 * first error, dropping first what the dump creates (--clean
 * --if-exists: the new database may hold what its bootstrap made).
 */
int pg_restore_db(const struct pg_runner *r, const char *db, int in_fd,
    struct s7_error *err);
/*
 * The legacy deployment's server, whole (pg_dumpall, plain SQL, without
 * role passwords), as the container's own POSTGRES_USER (default
 * postgres) with its POSTGRES_PASSWORD over 127.0.0.1: the password
 * stays in the container.
 */
int pg_dump_legacy(const struct pg_runner *r, struct pg_sink *sink,
    struct s7_error *err);
/*
 * `pg_restore --list` of the dump read from in_fd, here, with the given
 * program: whether a pg_restore of this version can read it.
 */
int pg_restore_list(const char *pg_restore, int in_fd, size_t *entries,
    struct s7_error *err);
/*
 * Exact row counts of every ordinary and partitioned table of db (text:
 * "schema.table count" lines, sorted) as the given role.
 */
int pg_row_counts(const struct pg_runner *r, const char *user,
    const char *password, const char *db, struct strbuf *out,
    struct s7_error *err);

#endif
