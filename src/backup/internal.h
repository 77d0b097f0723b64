/*
 * Inside src/backup/: the state of one backup run, shared by backup.c and
 * the tests that drive its dump code against a local server.
 */
#ifndef S7_BACKUP_INTERNAL_H
#define S7_BACKUP_INTERNAL_H

#include "backup.h"
#include "pg.h"
#include "../crypto/crypto.h"

struct brun {
	struct kube_client *k;		/* NULL in the tests */
	const struct backup_opts *o;
	struct backup_stats *st;
	struct arena arena;
	char *root;			/* DIR.partial-PID */
	char **dirs;			/* made under root, to sync */
	size_t ndirs, adirs;
	struct mfile *files;
	size_t nfiles, afiles;
	const struct kube_resource **res;	/* what is backed up */
	size_t nres, ares;
	struct ynode *secrets, *secret_index, *pods, *clusters, *namespaces;
	struct ynode *skipped, *dbs, *legacy;
	const char *uid, *kversion;
	char subject[CERT_SUBJECT_MAX], cert_sha[SHA256_HEXLEN];
	time_t started;
};

void brun_init(struct brun *b, struct kube_client *k,
    const struct backup_opts *o, struct backup_stats *st);
void brun_release(struct brun *b);
/* Writes root/rel (new, 0600, synced) and records it. */
struct mfile *brun_put(struct brun *b, const char *rel, const void *data,
    size_t len, struct s7_error *err);
/*
 * Dumps one PostgreSQL server through pr: globals.sql and one custom
 * dump per database under databases/NS/CLUSTER/; record gets the
 * manifest's entry.
 */
int backup_dump_cluster(struct brun *b, const struct pg_runner *pr,
    const char *ns, const char *cluster, const char *user, const char *pw,
    struct ynode *record, struct s7_error *err);
/* Formats a progress note and hands it to fn (nothing when fn is NULL). */
void backup_note(backup_note_fn fn, void *arg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The decoded value of key in a Secret object; the caller wipes it. */
char *secret_value(const struct ynode *secret, const char *key);

#endif
