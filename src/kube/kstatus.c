/*
 * The rules follow kstatus's published behaviour (see docs/apply.md):
 * generation against observedGeneration first, then per-kind rules, then
 * the generic Ready / Reconciling / Stalled conditions for custom
 * resources.  A custom resource that reports no conditions is taken as
 * ready, as kstatus does.  Fields are read by type (a number where a
 * string belongs is not taken for one), and reasons are escaped.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kstatus.h"
#include "../util/text.h"
#include "../util/banned.h"

const char *
kstatus_name(enum kstatus s)
{
	switch (s) {
	case KS_CURRENT: return "ready";
	case KS_IN_PROGRESS: return "progressing";
	case KS_FAILED: return "failed";
	case KS_TERMINATING: return "terminating";
	case KS_NOT_FOUND: return "absent";
	}
	return "?";
}

static long long
num(const struct ynode *n, const char *path, long long def)
{
	const struct ynode *v = ynode_path(n, path);

	return v && v->kind == Y_SCALAR && v->type == YT_INT ?
	    strtoll(v->str, NULL, 10) : def;
}

static const char *
str(const struct ynode *n, const char *path)
{
	const struct ynode *v = ynode_path(n, path);

	return v && v->kind == Y_SCALAR && v->type == YT_STR ? v->str : NULL;
}

const struct ynode *
kstatus_condition(const struct ynode *obj, const char *type)
{
	const struct ynode *c = ynode_path(obj, "status.conditions");
	size_t i;

	for (i = 0; c && c->kind == Y_SEQ && i < c->n; i++) {
		const char *t = ynode_get_string(c->v[i], "type");

		if (t && strcmp(t, type) == 0)
			return c->v[i];
	}
	return NULL;
}

static int
cond_is(const struct ynode *obj, const char *type, const char *want)
{
	const struct ynode *c = kstatus_condition(obj, type);
	const char *s = c ? ynode_get_string(c, "status") : NULL;

	return s && strcmp(s, want) == 0;
}

static enum kstatus
say(enum kstatus s, char *why, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * The reason quotes the server (a condition's message, a pod's event):
 * it is escaped here, where it is made, and cut to fit.
 */
static enum kstatus
say(enum kstatus s, char *why, size_t size, const char *fmt, ...)
{
	char raw[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	text_escape_buf(why, size, raw, strlen(raw), size);
	return s;
}

static enum kstatus
deployment(const struct ynode *o, char *why, size_t size)
{
	long long want = num(o, "spec.replicas", 1);
	long long updated = num(o, "status.updatedReplicas", 0);
	long long ready = num(o, "status.readyReplicas", 0);
	long long avail = num(o, "status.availableReplicas", 0);
	long long total = num(o, "status.replicas", 0);
	const struct ynode *p = kstatus_condition(o, "Progressing");
	const char *pr = p ? ynode_get_string(p, "reason") : NULL;

	if (pr && strcmp(pr, "ProgressDeadlineExceeded") == 0)
		return say(KS_FAILED, why, size, "progress deadline exceeded");
	if (updated < want)
		return say(KS_IN_PROGRESS, why, size, "%lld of %lld updated",
		    updated, want);
	if (total > updated)
		return say(KS_IN_PROGRESS, why, size,
		    "%lld old replicas pending termination", total - updated);
	if (avail < want)
		return say(KS_IN_PROGRESS, why, size, "%lld of %lld available",
		    avail, want);
	if (ready < want)
		return say(KS_IN_PROGRESS, why, size, "%lld of %lld ready", ready,
		    want);
	return say(KS_CURRENT, why, size, "%lld/%lld ready", ready, want);
}

static enum kstatus
statefulset(const struct ynode *o, char *why, size_t size)
{
	long long want = num(o, "spec.replicas", 1);
	long long ready = num(o, "status.readyReplicas", 0);
	long long cur = num(o, "status.currentReplicas", 0);
	long long upd = num(o, "status.updatedReplicas", 0);
	const char *strat = str(o, "spec.updateStrategy.type");
	const char *crev = str(o, "status.currentRevision");
	const char *urev = str(o, "status.updateRevision");

	if (strat && strcmp(strat, "OnDelete") == 0)
		return say(KS_CURRENT, why, size, "OnDelete strategy");
	if (ready < want)
		return say(KS_IN_PROGRESS, why, size, "%lld of %lld ready", ready,
		    want);
	if (num(o, "spec.updateStrategy.rollingUpdate.partition", 0) == 0 &&
	    crev && urev && strcmp(crev, urev) != 0)
		return say(KS_IN_PROGRESS, why, size,
		    "%lld of %lld updated to the new revision", upd, want);
	(void)cur;
	return say(KS_CURRENT, why, size, "%lld/%lld ready", ready, want);
}

static enum kstatus
daemonset(const struct ynode *o, char *why, size_t size)
{
	long long desired = num(o, "status.desiredNumberScheduled", -1);
	long long sched = num(o, "status.currentNumberScheduled", 0);
	long long upd = num(o, "status.updatedNumberScheduled", 0);
	long long avail = num(o, "status.numberAvailable", 0);
	long long ready = num(o, "status.numberReady", 0);

	if (ynode_path(o, "status.observedGeneration") == NULL || desired < 0)
		return say(KS_IN_PROGRESS, why, size,
		    "waiting for the controller");
	if (sched < desired || upd < desired)
		return say(KS_IN_PROGRESS, why, size, "%lld of %lld updated",
		    upd, desired);
	if (avail < desired || ready < desired)
		return say(KS_IN_PROGRESS, why, size, "%lld of %lld ready",
		    ready < avail ? ready : avail, desired);
	return say(KS_CURRENT, why, size, "%lld/%lld ready", ready, desired);
}

static enum kstatus
pod(const struct ynode *o, char *why, size_t size)
{
	const char *phase = str(o, "status.phase");
	const struct ynode *cs = ynode_path(o, "status.containerStatuses");
	size_t i;

	if (phase && strcmp(phase, "Succeeded") == 0)
		return say(KS_CURRENT, why, size, "completed");
	if (phase && strcmp(phase, "Failed") == 0)
		return say(KS_FAILED, why, size, "pod failed");
	for (i = 0; cs && cs->kind == Y_SEQ && i < cs->n; i++) {
		const char *r = str(cs->v[i], "state.waiting.reason");

		if (r && strcmp(r, "CrashLoopBackOff") == 0)
			return say(KS_FAILED, why, size, "CrashLoopBackOff");
		if (r)
			return say(KS_IN_PROGRESS, why, size, "%s", r);
	}
	if (cond_is(o, "PodScheduled", "False")) {
		const char *m = ynode_get_string(kstatus_condition(o, "PodScheduled"),
		    "message");

		return say(KS_IN_PROGRESS, why, size, "unschedulable: %s",
		    m ? m : "");
	}
	if (phase && strcmp(phase, "Running") == 0 && cond_is(o, "Ready", "True"))
		return say(KS_CURRENT, why, size, "running");
	return say(KS_IN_PROGRESS, why, size, "%s", phase ? phase : "pending");
}

static enum kstatus
service(const struct ynode *o, char *why, size_t size)
{
	const char *type = str(o, "spec.type");
	const struct ynode *ing = ynode_path(o, "status.loadBalancer.ingress");
	const char *asked = NULL, *got;
	const struct ynode *ann = ynode_path(o, "metadata.annotations");

	if (type == NULL || strcmp(type, "LoadBalancer") != 0)
		return say(KS_CURRENT, why, size, "service");
	if (ann)
		asked = ynode_get_string(ann, "metallb.io/loadBalancerIPs");
	if (ing == NULL || ing->kind != Y_SEQ || ing->n == 0)
		return say(KS_IN_PROGRESS, why, size,
		    "no load balancer address yet%s%s", asked ? ", asked for " :
		    "", asked ? asked : "");
	got = ynode_get_string(ing->v[0], "ip");
	if (asked && got && strcmp(asked, got) != 0)
		return say(KS_FAILED, why, size,
		    "load balancer address %s, but %s was asked for", got, asked);
	return say(KS_CURRENT, why, size, "address %s", got ? got : "?");
}

static enum kstatus
generic(const struct ynode *o, char *why, size_t size)
{
	const struct ynode *ready = kstatus_condition(o, "Ready");

	if (cond_is(o, "Stalled", "True"))
		return say(KS_FAILED, why, size, "stalled: %s",
		    ynode_get_string(kstatus_condition(o, "Stalled"), "message") ?
		    ynode_get_string(kstatus_condition(o, "Stalled"), "message") : "");
	if (cond_is(o, "Reconciling", "True"))
		return say(KS_IN_PROGRESS, why, size, "reconciling");
	if (ready) {
		const char *m = ynode_get_string(ready, "message");

		if (cond_is(o, "Ready", "True"))
			return say(KS_CURRENT, why, size, "ready");
		return say(KS_IN_PROGRESS, why, size, "not ready%s%s",
		    m ? ": " : "", m ? m : "");
	}
	return say(KS_CURRENT, why, size, "exists");
}

int
kstatus_trivial(const char *api_version, const char *kind)
{
	static const char *const kinds[] = {
		"ConfigMap", "Secret", "ServiceAccount", "Role", "RoleBinding",
		"ClusterRole", "ClusterRoleBinding", "NetworkPolicy",
		"PriorityClass", "RuntimeClass", "StorageClass", "IngressClass",
		"Ingress", "PodDisruptionBudget", "LimitRange", "ResourceQuota",
		"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
		"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
		"CronJob", "Namespace", NULL,
	};
	size_t i;

	(void)api_version;
	for (i = 0; kinds[i]; i++)
		if (strcmp(kinds[i], kind) == 0)
			return 1;
	return 0;
}

enum kstatus
kstatus_eval(const struct ynode *o, char *why, size_t size)
{
	const char *kind;
	long long gen, obs;

	why[0] = '\0';
	if (o == NULL)
		return say(KS_NOT_FOUND, why, size, "not found");
	if (ynode_path(o, "metadata.deletionTimestamp"))
		return say(KS_TERMINATING, why, size, "being deleted");
	kind = str(o, "kind");
	if (kind == NULL)
		kind = "";
	gen = num(o, "metadata.generation", -1);
	obs = num(o, "status.observedGeneration", -1);
	if (gen >= 0 && obs >= 0 && gen != obs)
		return say(KS_IN_PROGRESS, why, size,
		    "generation %lld not yet observed (%lld)", gen, obs);
	if (strcmp(kind, "Deployment") == 0 || strcmp(kind, "ReplicaSet") == 0)
		return deployment(o, why, size);
	if (strcmp(kind, "StatefulSet") == 0)
		return statefulset(o, why, size);
	if (strcmp(kind, "DaemonSet") == 0)
		return daemonset(o, why, size);
	if (strcmp(kind, "Pod") == 0)
		return pod(o, why, size);
	if (strcmp(kind, "Service") == 0)
		return service(o, why, size);
	if (strcmp(kind, "PersistentVolumeClaim") == 0) {
		const char *ph = str(o, "status.phase");

		if (ph && strcmp(ph, "Bound") == 0)
			return say(KS_CURRENT, why, size, "bound");
		return say(KS_IN_PROGRESS, why, size, "%s", ph ? ph : "pending");
	}
	if (strcmp(kind, "Job") == 0) {
		if (cond_is(o, "Complete", "True"))
			return say(KS_CURRENT, why, size, "complete");
		if (cond_is(o, "Failed", "True"))
			return say(KS_FAILED, why, size, "failed: %s",
			    ynode_get_string(kstatus_condition(o, "Failed"), "message") ?
			    ynode_get_string(kstatus_condition(o, "Failed"), "message") : "");
		return say(KS_IN_PROGRESS, why, size, "%lld running, %lld done",
		    num(o, "status.active", 0), num(o, "status.succeeded", 0));
	}
	if (strcmp(kind, "CustomResourceDefinition") == 0) {
		if (cond_is(o, "NamesAccepted", "False"))
			return say(KS_FAILED, why, size, "names not accepted");
		if (cond_is(o, "Established", "True"))
			return say(KS_CURRENT, why, size, "established");
		return say(KS_IN_PROGRESS, why, size, "not yet established");
	}
	if (kstatus_trivial(str(o, "apiVersion"), kind))
		return say(KS_CURRENT, why, size, "exists");
	return generic(o, why, size);
}

enum kstatus
kstatus_endpoints(const struct ynode *const *slices, size_t n, char *why,
    size_t size)
{
	size_t i, j, ready = 0, total = 0;

	for (i = 0; i < n; i++) {
		const struct ynode *eps = ynode_get(slices[i], "endpoints");

		for (j = 0; eps && eps->kind == Y_SEQ && j < eps->n; j++) {
			const struct ynode *r = ynode_path(eps->v[j],
			    "conditions.ready");

			total++;
			if (r == NULL || ynode_truthy(r))
				ready++;
		}
	}
	if (ready == 0)
		return say(KS_IN_PROGRESS, why, size,
		    "no ready endpoints (%zu not ready)", total);
	return say(KS_CURRENT, why, size, "%zu ready endpoint%s", ready,
	    ready == 1 ? "" : "s");
}
