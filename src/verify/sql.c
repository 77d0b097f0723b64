/*
 * The cluster's PostgreSQL is not reachable from outside, so the query
 * runs where it is: a short-lived Pod next to the database, logged in as
 * the read-only dump role with the role's Secret by reference (no value
 * ever leaves the cluster or enters the object), its answer written to
 * the container's termination message.  The kubelet reports that message
 * in the pod's status, so reading it needs no log streaming.
 *
 * The namespaces deny ingress by default: a NetworkPolicy owned by the
 * Pod (so garbage collection removes it with the Pod) lets exactly that
 * Pod reach the cluster's port 5432.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "../json/json.h"
#include "../util/strbuf.h"
#include "../util/banned.h"

/* The query pod's image when the Cluster names none (CloudNativePG's
 * default); otherwise the Cluster's own spec.imageName, which the nodes
 * already hold and whose psql matches the server (runner.c). */
#define SQL_IMAGE "ghcr.io/cloudnative-pg/postgresql:18.6-standard-trixie"

/*
 * One line per fact; "ok" last, so that a cut message is not read as a
 * short list.  Errors go to the message too (no secrets are in them:
 * psql never prints the password).
 *
 * A refused or timed-out connection is tried again, up to 20 times a
 * second apart: the NetworkPolicy that lets the pod in is created with it
 * (it names the pod as its owner), and the policy controller may program
 * it only after the pod has started (kube-router rejects until then).
 */
static const char script[] =
    "for i in $(seq 20); do\n"
    "out=$(psql -XAtq -v ON_ERROR_STOP=1"
    " -c \"SELECT 'db:' || datname FROM pg_database WHERE NOT datistemplate ORDER BY 1\""
    " -c \"SELECT 'role:' || rolname FROM pg_roles WHERE rolname !~ '^pg_' ORDER BY 1\""
    " -c \"SELECT 'ext:' || extname FROM pg_extension ORDER BY 1\" 2>&1); rc=$?\n"
    "case $out in *'Connection refused'*|*'timeout expired'*) sleep 1 ;; *) break ;; esac\n"
    "done\n"
    "if [ $rc -eq 0 ]; then printf '%s\\nok\\n' \"$out\"; else printf 'error: %s\\n' \"$out\"; fi"
    " | head -c 4000 >/dev/termination-log\n"
    "exit $rc\n";

static void
json_str(struct strbuf *sb, const char *s)
{
	strbuf_addch(sb, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			strbuf_addf(sb, "\\%c", c);
		else if (c == '\n')
			strbuf_addstr(sb, "\\n");
		else if (c < 0x20)
			strbuf_addf(sb, "\\u%04x", c);
		else
			strbuf_addch(sb, (char)c);
	}
	strbuf_addch(sb, '"');
}

void
sql_pod_json(struct strbuf *out, const char *name, const char *namespace,
    const char *cluster, const char *secret, const char *database,
    const char *image)
{
	strbuf_addstr(out, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":");
	json_str(out, name);
	strbuf_addstr(out, ",\"namespace\":");
	json_str(out, namespace);
	strbuf_addstr(out, ",\"labels\":{\"" SQL_POD_LABEL "\":");
	json_str(out, name);
	strbuf_addstr(out, ",\"app.kubernetes.io/name\":\"sector7-verify\","
	    "\"app.kubernetes.io/part-of\":\"sector7\"}},"
	    "\"spec\":{\"restartPolicy\":\"Never\",\"activeDeadlineSeconds\":120,"
	    "\"automountServiceAccountToken\":false,\"enableServiceLinks\":false,"
	    "\"terminationGracePeriodSeconds\":1,"
	    "\"securityContext\":{\"runAsNonRoot\":true,\"runAsUser\":26,"
	    "\"runAsGroup\":26,\"seccompProfile\":{\"type\":\"RuntimeDefault\"}},"
	    "\"containers\":[{\"name\":\"sql\",\"image\":");
	json_str(out, image && *image ? image : SQL_IMAGE);
	strbuf_addstr(out, ",\"command\":[\"/bin/bash\",\"-c\",");
	json_str(out, script);
	strbuf_addstr(out, "],\"env\":[{\"name\":\"PGHOST\",\"value\":");
	{
		char host[300];

		snprintf(host, sizeof(host), "%s-rw", cluster);
		json_str(out, host);
	}
	strbuf_addstr(out, "},{\"name\":\"PGPORT\",\"value\":\"5432\"},"
	    "{\"name\":\"PGDATABASE\",\"value\":");
	json_str(out, database);
	strbuf_addstr(out, "},{\"name\":\"PGSSLMODE\",\"value\":\"require\"},"
	    "{\"name\":\"PGCONNECT_TIMEOUT\",\"value\":\"10\"},"
	    "{\"name\":\"PGUSER\",\"valueFrom\":{\"secretKeyRef\":{\"name\":");
	json_str(out, secret);
	strbuf_addstr(out, ",\"key\":\"username\"}}},"
	    "{\"name\":\"PGPASSWORD\",\"valueFrom\":{\"secretKeyRef\":{\"name\":");
	json_str(out, secret);
	strbuf_addstr(out, ",\"key\":\"password\"}}}],"
	    "\"terminationMessagePolicy\":\"File\","
	    "\"resources\":{\"requests\":{\"cpu\":\"10m\",\"memory\":\"32Mi\"},"
	    "\"limits\":{\"memory\":\"128Mi\"}},"
	    "\"securityContext\":{\"allowPrivilegeEscalation\":false,"
	    "\"readOnlyRootFilesystem\":true,\"capabilities\":{\"drop\":[\"ALL\"]}}}]}}");
}

void
sql_policy_json(struct strbuf *out, const char *name, const char *namespace,
    const char *cluster, const char *pod_uid)
{
	strbuf_addstr(out, "{\"apiVersion\":\"networking.k8s.io/v1\","
	    "\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":");
	json_str(out, name);
	strbuf_addstr(out, ",\"namespace\":");
	json_str(out, namespace);
	strbuf_addstr(out, ",\"labels\":{\"app.kubernetes.io/name\":\"sector7-verify\"},"
	    "\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"name\":");
	json_str(out, name);
	strbuf_addstr(out, ",\"uid\":");
	json_str(out, pod_uid);
	strbuf_addstr(out, "}]},\"spec\":{\"podSelector\":{\"matchLabels\":"
	    "{\"cnpg.io/cluster\":");
	json_str(out, cluster);
	strbuf_addstr(out, "}},\"policyTypes\":[\"Ingress\"],\"ingress\":[{\"from\":"
	    "[{\"podSelector\":{\"matchLabels\":{\"" SQL_POD_LABEL "\":");
	json_str(out, name);
	strbuf_addstr(out, "}}}],\"ports\":[{\"protocol\":\"TCP\",\"port\":5432}]}]}}");
}

const char *
sql_message(const struct ynode *pod, int *exit_code, const char **reason)
{
	const struct ynode *cs = ynode_path(pod, "status.containerStatuses");
	const struct ynode *t;
	const char *code;

	*exit_code = -1;
	*reason = NULL;
	if (cs == NULL || cs->kind != Y_SEQ || cs->n == 0)
		return NULL;
	t = ynode_path(cs->v[0], "state.terminated");
	if (t == NULL)
		return NULL;
	code = ynode_get_str(t, "exitCode");
	if (code)
		*exit_code = (int)strtol(code, NULL, 10);
	*reason = ynode_get_str(t, "reason");
	return ynode_get_str(t, "message") ? ynode_get_str(t, "message") : "";
}

/* Whether the message has the line PREFIX NAME. */
static int
has_line(const char *msg, const char *prefix, const char *name)
{
	size_t pl = strlen(prefix), nl = strlen(name);
	const char *p = msg;

	while (p && *p) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		if (l == pl + nl && strncmp(p, prefix, pl) == 0 &&
		    strncmp(p + pl, name, nl) == 0)
			return 1;
		p = e ? e + 1 : NULL;
	}
	return 0;
}

static void
expect(const char *msg, const struct ynode *list, const char *prefix,
    const char *what, struct strbuf *found, struct strbuf *missing)
{
	size_t i, n = 0;

	for (i = 0; list && list->kind == Y_SEQ && i < list->n; i++) {
		const char *name = list->v[i]->str;

		if (name == NULL)
			continue;
		if (!has_line(msg, prefix, name)) {
			strbuf_addf(missing, "%s%s %s", missing->len ? ", " : "",
			    what, name);
			continue;
		}
		if (n++ == 0)
			strbuf_addf(found, "%s%s%s %s", found->len ? "; " : "",
			    what, list->n > 1 ? "s" : "", name);
		else
			strbuf_addf(found, ", %s", name);
	}
}

void
sql_judge(struct vitem *it, const struct ynode *pod)
{
	const struct ynode *spec = it->spec;
	const char *phase = ynode_path(pod, "status.phase") ?
	    ynode_path(pod, "status.phase")->str : NULL;
	const char *reason, *msg;
	struct strbuf found, missing;
	int code;
	size_t len;

	msg = sql_message(pod, &code, &reason);
	if (msg == NULL) {
		verify_set(it, V_FAIL, "the query pod did not finish (phase %s)",
		    phase ? phase : "unknown");
		return;
	}
	len = strlen(msg);
	if (code != 0 || strncmp(msg, "error: ", 7) == 0) {
		while (len > 0 && msg[len - 1] == '\n')
			len--;
		verify_set(it, V_FAIL, "the query failed (exit %d%s%s): %.*s", code,
		    reason ? ", " : "", reason ? reason : "",
		    (int)(len > 400 ? 400 : len), len ? msg : "no message");
		return;
	}
	if (!has_line(msg, "", "ok")) {
		verify_set(it, V_FAIL, "the query pod ended without a result in its termination message%s",
		    len ? " (it was cut short)" : "");
		return;
	}
	strbuf_init(&found, 600);
	strbuf_init(&missing, 600);
	expect(msg, ynode_get(spec, "databases"), "db:", "database", &found,
	    &missing);
	expect(msg, ynode_get(spec, "roles"), "role:", "role", &found, &missing);
	expect(msg, ynode_get(spec, "extensions"), "ext:", "extension", &found,
	    &missing);
	if (missing.len)
		verify_set(it, V_FAIL, "as %s: missing %s", ynode_get_str(spec,
		    "secret"), missing.buf);
	else
		verify_set(it, V_PASS, "as %s: %s", ynode_get_str(spec, "secret"),
		    found.len ? found.buf : "connected");
	strbuf_release(&found);
	strbuf_release(&missing);
}
