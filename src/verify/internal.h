/*
 * What the kinds of check share inside src/verify.  Pure functions over
 * parsed objects and answers, so that each kind's judgement is tested
 * without a cluster.
 */
#ifndef S7_VERIFY_INTERNAL_H
#define S7_VERIFY_INTERNAL_H

#include <time.h>

#include "verify.h"

/* cert.c: the first certificate of a PEM text. */
struct cert_info {
	time_t not_after;
	char subject[256];
	char issuer[256];
};
int cert_parse(const char *pem, size_t len, struct cert_info *ci,
    struct s7_error *err);
/* Whether the PEM's first certificate is valid for host (SAN rules). */
int cert_matches_host(const char *pem, size_t len, const char *host);

/* prom.c: judgements of Prometheus API answers (the parsed JSON). */
void prom_judge_targets(struct vitem *it, const struct ynode *answer);
void prom_judge_rules(struct vitem *it, const struct ynode *answer);
void prom_judge_alerts(struct vitem *it, const struct ynode *answer,
    const struct ynode *allow);
void prom_judge_alert_history(struct vitem *it, const struct ynode *answer,
    const struct ynode *allow, const char *window);
/* Whether an alert with these labels is one that always fires or only informs. */
int prom_alert_ignored(const struct ynode *labels, const struct ynode *allow);

/* sql.c: the pod that runs the query, and its answer. */
#define SQL_POD_LABEL "sector7.io/verify"
/*
 * The Pod (JSON text into out) that runs the checks' query against
 * CLUSTER-rw in namespace as the role of Secret secret (by reference),
 * on database, writing the answer to its termination message; image is
 * the Cluster's own (NULL or empty: CloudNativePG's default).
 */
void sql_pod_json(struct strbuf *out, const char *name, const char *namespace,
    const char *cluster, const char *secret, const char *database,
    const char *image);
/* The NetworkPolicy that lets that pod (only) reach the cluster's 5432. */
void sql_policy_json(struct strbuf *out, const char *name,
    const char *namespace, const char *cluster, const char *pod_uid);
/*
 * Decides it from the pod's last state: its termination message holds
 * lines "db:NAME", "role:NAME", "ext:NAME", then "ok".
 */
void sql_judge(struct vitem *it, const struct ynode *pod);
/* The message of the pod's terminated container, or NULL. */
const char *sql_message(const struct ynode *pod, int *exit_code,
    const char **reason);

/* runner.c: lists of objects by what they are. */
int verify_window_contains(time_t now, long long window_s, const char *ts);
/* Whether a field manager is sector7 or one of the cluster's controllers. */
int verify_manager_allowed(const char *manager);

#endif
