/*
 * Backups of a whole cluster, and what is done with them: verify,
 * teardown, restore.  The format is docs/backup.md's:
 *
 *   DIR/manifest.json      what the backup holds, every file's sha256 and
 *                          size, the site, the cluster's UID, versions, times
 *   DIR/SHA256SUMS         the same sums, manifest.json's too, for sha256sum -c
 *   DIR/objects/...        one JSON file per object (Secrets excepted)
 *   DIR/secrets.cms        every Secret, as a v1 List in JSON, in one CMS
 *                          EnvelopedData (AES-256) for the site's recipient
 *   DIR/databases/NS/CLUSTER/globals.sql, DB.dump   per PostgreSQL cluster
 *   DIR/databases/legacy/NS/POD.sql                 the legacy deployment's
 *
 * A backup is built in DIR.partial-PID, every file and directory synced,
 * and renamed to DIR last: a directory named DIR is complete.
 *
 * Library code: results in structs, progress as notes through a
 * callback, errors in struct s7_error.  A manifest (struct manifest)
 * owns its arena.
 */
#ifndef S7_BACKUP_H
#define S7_BACKUP_H

#include <stddef.h>
#include <time.h>

#include "../kube/client.h"
#include "../util/arena.h"
#include "../util/error.h"
#include "../yaml/node.h"

#define BACKUP_FORMAT "sector7-backup/1"
#define BACKUP_MANIFEST "manifest.json"
#define BACKUP_SECRETS "secrets.cms"
#define KEEP_LABEL "sector7.io/keep-until"
#define KEEP_DAYS 7

typedef void (*backup_note_fn)(void *arg, const char *msg);

struct backup_site {
	const char *name, *domain;
	char id[65];		/* sha256 of "name\ndomain": which site */
	char text_sha256[65];	/* of the site file as read */
};

/* sha256 of "name\ndomain". */
void backup_site_id(const char *name, const char *domain, char out[65]);

struct backup_opts {
	const char *dir;		/* the backup to make (must not exist) */
	const char *recipient;		/* PEM certificate */
	size_t recipient_len;
	struct backup_site site;
	const char *version;		/* sector7's */
	int skip_databases;		/* record that dumps were not made */
	const char *legacy_namespace;	/* dumped when it exists; NULL: none */
	backup_note_fn note;
	void *arg;
};

struct backup_stats {
	size_t objects, secrets, files, databases, skipped;
	unsigned long long bytes;
	double seconds;
};

int backup_run(struct kube_client *k, const struct backup_opts *o,
    struct backup_stats *st, struct s7_error *err);

/* One file of the manifest; for objects, the object it holds. */
struct mfile {
	const char *path, *sha256;
	unsigned long long size;
	const char *api_version, *kind, *namespace, *name;	/* objects */
	const char *group, *resource;
	const char *database, *cluster;			/* dumps */
};

struct mdb {
	const char *namespace, *cluster, *pod;
	const char **databases;		/* one dump file each */
	size_t ndatabases;
};

struct manifest {
	struct arena arena;
	struct ynode *root;
	const char *dir;
	int complete;
	const char *site_name, *site_domain, *site_id, *site_sha256;
	const char *cluster_uid, *server;
	const char *started, *finished;
	time_t finished_t;
	int databases_skipped;
	struct mfile *files;
	size_t nfiles;
	struct mdb *dbs;
	size_t ndbs;
	size_t nsecrets;
};

void manifest_init(struct manifest *m);
void manifest_release(struct manifest *m);
/* Reads DIR/manifest.json (refusing one that says it is not complete). */
int manifest_load(struct manifest *m, const char *dir, struct s7_error *err);

struct verify_opts {
	const char *pg_restore;		/* program for --list; NULL: skip dumps */
	backup_note_fn note;
	void *arg;
};

/*
 * Every file of the manifest is there with its size and sha256 (and
 * SHA256SUMS agrees, manifest.json's sum included); with pg_restore,
 * every dump lists.  Class S7_EVERIFY, naming the first file that fails.
 */
int backup_verify(struct manifest *m, const struct verify_opts *o,
    struct s7_error *err);

/* The cluster's identity: the kube-system namespace's uid. */
int cluster_uid(struct kube_client *k, struct arena *a, const char **uid,
    struct s7_error *err);

/* Reads a file of the backup whole (checked against the manifest). */
int backup_read(const struct manifest *m, const char *path, size_t cap,
    struct strbuf *out, struct s7_error *err);
const struct mfile *manifest_file(const struct manifest *m, const char *path);

/* Times as RFC 3339 UTC ("2026-12-02T13:26:00Z") and back. */
void rfc3339(time_t t, char out[32]);
int parse_rfc3339(const char *s, time_t *t);

#endif
