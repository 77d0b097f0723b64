/*
 * Readiness of a live object: the kstatus rules (sigs.k8s.io/cli-utils)
 * plus what they miss for this stack: a Job must be Complete, a
 * LoadBalancer Service must have its address (the one it asked MetalLB
 * for, if it asked), a Certificate must be Ready.
 */
#ifndef S7_KUBE_KSTATUS_H
#define S7_KUBE_KSTATUS_H

#include <stddef.h>

#include "../yaml/node.h"

enum kstatus {
	KS_CURRENT,
	KS_IN_PROGRESS,
	KS_FAILED,
	KS_TERMINATING,
	KS_NOT_FOUND,
};

/* Evaluates obj (NULL: not found); a short reason goes to why. */
enum kstatus kstatus_eval(const struct ynode *obj, char *why, size_t size);
/* Ready endpoints of a Service, from its EndpointSlices. */
enum kstatus kstatus_endpoints(const struct ynode *const *slices,
    size_t nslices, char *why, size_t size);
/* Whether objects of this kind are ready as soon as they exist. */
int kstatus_trivial(const char *api_version, const char *kind);
/* The condition of that type in obj's status.conditions, or NULL. */
const struct ynode *kstatus_condition(const struct ynode *obj,
    const char *type);
const char *kstatus_name(enum kstatus s);

#endif
