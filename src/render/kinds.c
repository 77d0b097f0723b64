#include <string.h>

#include "kinds.h"
#include "../util/banned.h"

static const char *const order[] = {
	"Namespace",
	"CustomResourceDefinition",
	"PriorityClass",
	"RuntimeClass",
	"StorageClass",
	"ResourceQuota",
	"LimitRange",
	"NetworkPolicy",
	"ServiceAccount",
	"Secret",
	"ConfigMap",
	"PersistentVolume",
	"PersistentVolumeClaim",
	"ClusterRole",
	"ClusterRoleBinding",
	"Role",
	"RoleBinding",
	"Service",
	"DaemonSet",
	"Pod",
	"ReplicaSet",
	"Deployment",
	"StatefulSet",
	"HorizontalPodAutoscaler",
	"PodDisruptionBudget",
	"Job",
	"CronJob",
	"IngressClass",
	"Ingress",
	"APIService",
	"ValidatingAdmissionPolicy",
	"ValidatingAdmissionPolicyBinding",
	"MutatingWebhookConfiguration",
	"ValidatingWebhookConfiguration",
	NULL,
};

int
kind_rank(const char *kind)
{
	int i;

	for (i = 0; order[i]; i++)
		if (strcmp(order[i], kind) == 0)
			return i + 1;
	return 99;
}
