/*
 * ApplySet (KEP-3659) bookkeeping, with the labels and annotations kubectl
 * uses, so `kubectl` sees the same set: a parent Secret whose
 * applyset.kubernetes.io/id label is applyset-<base64url(sha256(
 * "<name>.<namespace>.Secret."))>-v1, and the part-of label with that id
 * on every member.
 */
#ifndef S7_KUBE_APPLYSET_H
#define S7_KUBE_APPLYSET_H

#include <stddef.h>

#define APPLYSET_ID_LABEL "applyset.kubernetes.io/id"
#define APPLYSET_PART_OF "applyset.kubernetes.io/part-of"
#define APPLYSET_TOOLING "applyset.kubernetes.io/tooling"
#define APPLYSET_GKS "applyset.kubernetes.io/contains-group-kinds"
#define APPLYSET_NAMESPACES "applyset.kubernetes.io/additional-namespaces"
#define APPLYSET_ID_MAX 80

/* id gets "applyset-...-v1" for a Secret parent. */
void applyset_id(const char *name, const char *namespace,
    char id[APPLYSET_ID_MAX]);
/* "Deployment.apps", or "ConfigMap" for the core group. */
void applyset_group_kind(const char *api_version, const char *kind,
    char *out, size_t size);

#endif
