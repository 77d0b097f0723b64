/*
 * Restoring a backup (struct manifest, verified) onto a cluster, in the
 * order restore needs: credentials before anything could make new ones,
 * volumes before their claims are made, databases once their PostgreSQL
 * is up and before the apps start, then every other object that no
 * controller makes.  The command (src/cmd/restore.c) runs the rollout
 * between the steps.
 */
#ifndef S7_BACKUP_RESTORE_H
#define S7_BACKUP_RESTORE_H

#include "backup.h"

struct restore_stats {
	size_t secrets, secrets_present, namespaces_made;
	size_t volumes_rebound, volumes_recreated;
	size_t databases;
	size_t objects_created, objects_present, objects_skipped, objects_failed;
};

/* A claim a volume may be rebound to: "namespace/name". */
struct claim {
	const char *namespace, *name;
	const struct ynode *obj;	/* the rendered claim */
};

/*
 * Decrypts the envelope with key_pem and creates every Secret of it
 * (but those controllers make: service-account tokens, owned ones, the
 * kube-* namespaces'), their namespaces first.  Refuses, before writing
 * anything, when one exists with other values.
 */
int restore_secrets(struct kube_client *k, const struct manifest *m,
    const char *key_pem, size_t key_len, struct restore_stats *st,
    backup_note_fn note, void *arg, struct s7_error *err);

/*
 * Rebinds volumes to claims: a Retained volume of the cluster whose old
 * claim is one of claims gets claimRef pointed at that claim again (uid
 * cleared), its keep-until label removed and its old reclaim policy
 * back; with recreate, a volume of the backup bound to one of claims
 * that the cluster does not have is created so (its storage must still
 * exist).  The claim is then created from its rendered object with
 * spec.volumeName set, so that it binds to that volume and to no new one
 * (a class that binds on first use would otherwise let the scheduler
 * provision another on whatever node it picks).
 */
int restore_volumes(struct kube_client *k, const struct manifest *m,
    const struct claim *claims, size_t n, int recreate,
    struct restore_stats *st, backup_note_fn note, void *arg,
    struct s7_error *err);

/*
 * Restores every database dump of the backup into the same PostgreSQL
 * cluster (namespace/name) of this cluster, through its primary pod,
 * waiting up to timeout_s for that pod.
 */
int restore_databases(struct kube_client *k, const struct manifest *m,
    long timeout_s, struct restore_stats *st, backup_note_fn note,
    void *arg, struct s7_error *err);

/*
 * Creates every object of the backup that the cluster lacks, but those
 * its controllers make (pods, replica sets, endpoints, leases, events,
 * nodes, owned objects, Longhorn's state...) and those of kube-system,
 * kube-public and kube-node-lease.  Never changes an existing object.
 */
int restore_objects(struct kube_client *k, const struct manifest *m,
    struct restore_stats *st, backup_note_fn note, void *arg,
    struct s7_error *err);

/* Whether restore_objects would restore this file's object. */
int restore_wanted(const struct mfile *f, const struct ynode *obj);

#endif
