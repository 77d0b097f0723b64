/*
 * Teardown (the gameplan's phase 1, made safe) and the volumes it keeps.
 *
 * Every bound PersistentVolume of the namespaces to delete gets reclaim
 * policy Retain and the label sector7.io/keep-until=<unix time, now + 7
 * days> (and annotations: the time in RFC 3339, the policy it had) before
 * any namespace is deleted; then the namespaces go one at a time, in the
 * order given, each waited for (never forced: finalizers are left to
 * their controllers).  teardown_expired deletes the kept volumes past
 * their date, and only those.
 */
#ifndef S7_BACKUP_TEARDOWN_H
#define S7_BACKUP_TEARDOWN_H

#include <time.h>

#include "backup.h"

#define KEEP_ANNOTATION "sector7.io/keep-until"
#define POLICY_ANNOTATION "sector7.io/reclaim-policy"

struct tpv {
	const char *name, *claim_namespace, *claim_name, *policy;
};

struct teardown_plan {
	struct arena arena;
	const char **namespaces;	/* present, in deletion order */
	size_t nns;
	struct tpv *pvs;		/* bound to a claim in those namespaces */
	size_t npvs;
};

void teardown_plan_init(struct teardown_plan *p);
void teardown_plan_release(struct teardown_plan *p);
/* Which of order[0..n) exist, and the volumes bound in them. */
int teardown_plan_make(struct kube_client *k, const char *const *order,
    size_t n, struct teardown_plan *p, struct s7_error *err);
/* Retain and label every volume of the plan (checked afterwards). */
int teardown_keep(struct kube_client *k, const struct teardown_plan *p,
    time_t until, struct s7_error *err);
/* Deletes the namespaces in order, each waited for up to timeout_s. */
int teardown_delete(struct kube_client *k, const struct teardown_plan *p,
    long timeout_s, backup_note_fn note, void *arg, struct s7_error *err);
/*
 * Deletes the volumes whose keep-until is before now and that are not
 * bound again: reclaim policy back to Delete (so the provisioner frees
 * the storage), then the object.  *deleted counts them.
 */
int teardown_expired(struct kube_client *k, time_t now, long timeout_s,
    backup_note_fn note, void *arg, size_t *deleted, struct s7_error *err);

#endif
