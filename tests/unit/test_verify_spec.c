/*
 * The checks the catalog declares, for every example site: each expands
 * and validates; the DNS items are exactly the records `sector7 dns`
 * gives (so the two cannot drift apart); every web app has an HTTPS
 * item on its host through the ingress address, with the CA of the
 * site's issuer; bad checks are refused with their position.  Then the
 * SQL kind's pod (the dump role's Secret by reference, never a value)
 * and its answer read from a termination message, the time helpers and
 * the field managers taken for the cluster's own.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "catalog/catalog.h"
#include "json/json.h"
#include "render/render.h"
#include "site/dns.h"
#include "util/fs.h"
#include "verify/internal.h"
#include "version.h"
#include "yaml/yaml.h"

static const char *
upstream(void)
{
	const char *e = getenv("SECTOR7_UPSTREAM");

	if (e && *e)
		return e;
	/* Else the copy of the pinned files the other tests fetch from (laid
	 * out like the cache): $SECTOR7_MIRROR, or the one beside the
	 * repository (make runs the tests from its top). */
	e = getenv("SECTOR7_MIRROR");
	return e && *e ? e : "../shared/upstream";
}

static const struct vitem *
find(const struct verify_report *rep, const char *kind, const char *subject)
{
	size_t i;

	for (i = 0; i < rep->n; i++)
		if (strcmp(rep->items[i].kind, kind) == 0 &&
		    strcmp(rep->items[i].subject, subject) == 0)
			return &rep->items[i];
	return NULL;
}

static void
site_checks(const char *file)
{
	struct site s;
	struct findings f;
	struct strbuf text;
	struct catalog cat;
	struct rendered r;
	struct render_opts ro;
	struct verify_report rep;
	struct verify_opts o;
	struct s7_error err;
	struct dns_plan plan;
	size_t i, ndns = 0;
	const char *issuer;

	strbuf_init(&text, STRBUF_SMALL);
	CHECK(fs_read(file, &text, &err) == 0);
	site_init(&s);
	findings_init(&f, file);
	CHECK(site_load(&s, file, text.buf, text.len, &f) == 0);
	catalog_init(&cat);
	rendered_init(&r);
	CHECK(catalog_load(&cat, &err) == 0);
	ro.upstream_dir = upstream();
	ro.version = SECTOR7_VERSION;
	if (render_stack(&r, &s, &cat, &ro, &err) < 0) {
		fprintf(stderr, "%s: %s\n", file, err.msg);
		CHECK(0);
		goto done;
	}
	verify_report_init(&rep);
	memset(&o, 0, sizeof(o));
	if (verify_collect(&rep, &r, &o, &err) < 0) {
		fprintf(stderr, "%s: %s:%u: %s\n", file, err.file, err.line, err.msg);
		CHECK(0);
	}
	dns_plan(&s, &plan);
	for (i = 0; i < rep.n; i++)
		if (strcmp(rep.items[i].kind, "dns") == 0 && rep.items[i].spec)
			ndns++;
	CHECK(ndns == plan.ninternal + plan.nexternal);
	for (i = 0; i < plan.ninternal; i++) {
		char subj[300];
		const struct vitem *it;

		snprintf(subj, sizeof(subj), "internal DNS %s A", plan.internal[i].name);
		it = find(&rep, "dns", subj);
		CHECK(it != NULL);
		if (it)
			CHECK_STR(ynode_get_str(it->spec, "value"), plan.internal[i].value);
	}
	for (i = 0; i < plan.nexternal; i++) {
		char subj[300];
		const struct vitem *it;

		snprintf(subj, sizeof(subj), "public DNS %s %s", plan.external[i].name,
		    plan.external[i].type);
		it = find(&rep, "dns", subj);
		CHECK(it != NULL);
		if (it)
			CHECK_STR(ynode_get_str(it->spec, "value"), plan.external[i].value);
	}
	issuer = ynode_get_str(ynode_get(r.ctx, "tls"), "issuer");
	for (i = 0; i < s.napps; i++) {
		const struct site_app *app = &s.apps[i];
		size_t j, n = 0;

		if (!app->enabled || app->fqdn == NULL)
			continue;
		for (j = 0; j < rep.n; j++) {
			const struct vitem *it = &rep.items[j];
			char ip[IPV4_STRLEN];

			if (strcmp(it->kind, "https") != 0 ||
			    strcmp(ynode_get_str(it->spec, "host"), app->fqdn) != 0)
				continue;
			n++;
			ipv4_format(s.ingress_ip, ip);
			CHECK_STR(ynode_get_str(it->spec, "address"), ip);
			CHECK_STR(ynode_get_str(it->spec, "ca"),
			    strcmp(issuer, "selfsigned") == 0 ?
			    "secret:cert-manager/sector7-ca" : "system");
		}
		if (n == 0)
			fprintf(stderr, "%s: no https check of %s\n", file, app->name);
		CHECK(n > 0);
	}
	verify_report_release(&rep);
done:
	rendered_release(&r);
	catalog_release(&cat);
	findings_release(&f);
	site_release(&s);
	strbuf_release(&text);
}

static int
bad(const char *yaml, const char *want)
{
	struct arena a;
	struct ynode *y;
	struct s7_error err;
	int ret;

	arena_init(&a);
	s7_error_clear(&err);
	CHECK(yaml_parse_one(&a, "t.yaml", yaml, strlen(yaml), &y, &err) == 0);
	ret = verify_spec_check(y, &err);
	CHECK(ret < 0);
	CHECK_CONTAINS(err.msg, want);
	CHECK(err.line == 1);
	arena_release(&a);
	return ret;
}

static void
sql(void)
{
	struct arena a;
	struct strbuf sb;
	struct ynode *pod, *spec;
	struct vitem it;
	struct s7_error err;
	const char *js;

	arena_init(&a);
	strbuf_init(&sb, STRBUF_SMALL);
	sql_pod_json(&sb, "sector7-verify-postgres-abc", "postgres", "postgres",
	    "postgres-dump", "postgres", "localhost/pg:17");
	CHECK(json_parse(&a, "pod", sb.buf, sb.len, &pod, &err) == 0);
	CHECK_STR(ynode_path(pod, "spec.containers")->v[0]->kind == Y_MAP ?
	    "map" : "", "map");
	js = sb.buf;
	CHECK_CONTAINS(js, "\"secretKeyRef\":{\"name\":\"postgres-dump\",\"key\":\"password\"}");
	CHECK_CONTAINS(js, "\"PGHOST\",\"value\":\"postgres-rw\"");
	CHECK_CONTAINS(js, "/dev/termination-log");
	CHECK_CONTAINS(js, "\"restartPolicy\":\"Never\"");
	CHECK_CONTAINS(js, "\"runAsNonRoot\":true");
	CHECK(strstr(js, "PGPASSWORD\",\"value\"") == NULL);
	CHECK_CONTAINS(js, "\"image\":\"localhost/pg:17\"");
	strbuf_reset(&sb);
	sql_pod_json(&sb, "sector7-verify-postgres-abc", "postgres", "postgres",
	    "postgres-dump", "postgres", NULL);
	CHECK_CONTAINS(sb.buf, "\"image\":\"ghcr.io/cloudnative-pg/postgresql:18.6-standard-trixie\"");
	strbuf_reset(&sb);
	sql_policy_json(&sb, "sector7-verify-postgres-abc", "postgres", "postgres",
	    "uid-1");
	CHECK_CONTAINS(sb.buf, "\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"name\":\"sector7-verify-postgres-abc\",\"uid\":\"uid-1\"}]");
	CHECK_CONTAINS(sb.buf, "\"port\":5432");

	{
		static const char y[] = "{kind: sql, secret: postgres-dump, databases: [n8n, nocodb], roles: [dump, n8n], extensions: [vector]}";

		CHECK(yaml_parse_one(&a, "s", y, strlen(y), &spec, &err) == 0);
	}
	memset(&it, 0, sizeof(it));
	it.spec = spec;
	CHECK(json_parse(&a, "p", "{\"status\":{\"phase\":\"Succeeded\",\"containerStatuses\":[{\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\",\"message\":\"db:n8n\\ndb:nocodb\\ndb:postgres\\nrole:dump\\nrole:n8n\\next:plpgsql\\next:vector\\nok\\n\"}}}]}}",
	    strlen("{\"status\":{\"phase\":\"Succeeded\",\"containerStatuses\":[{\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\",\"message\":\"db:n8n\\ndb:nocodb\\ndb:postgres\\nrole:dump\\nrole:n8n\\next:plpgsql\\next:vector\\nok\\n\"}}}]}}"),
	    &pod, &err) == 0);
	sql_judge(&it, pod);
	CHECK(it.res == V_PASS);
	CHECK_STR(it.evidence, "as postgres-dump: databases n8n, nocodb; roles dump, n8n; extension vector");
	/* a missing database and extension */
	CHECK(json_parse(&a, "p", "{\"status\":{\"phase\":\"Succeeded\",\"containerStatuses\":[{\"state\":{\"terminated\":{\"exitCode\":0,\"message\":\"db:n8n\\nrole:dump\\nrole:n8n\\nok\\n\"}}}]}}",
	    strlen("{\"status\":{\"phase\":\"Succeeded\",\"containerStatuses\":[{\"state\":{\"terminated\":{\"exitCode\":0,\"message\":\"db:n8n\\nrole:dump\\nrole:n8n\\nok\\n\"}}}]}}"),
	    &pod, &err) == 0);
	sql_judge(&it, pod);
	CHECK(it.res == V_FAIL);
	CHECK_STR(it.evidence, "as postgres-dump: missing database nocodb, extension vector");
	/* completed without a message (what kwok's pods do) */
	CHECK(json_parse(&a, "p", "{\"status\":{\"phase\":\"Succeeded\",\"containerStatuses\":[{\"state\":{\"terminated\":{\"exitCode\":0}}}]}}",
	    strlen("{\"status\":{\"phase\":\"Succeeded\",\"containerStatuses\":[{\"state\":{\"terminated\":{\"exitCode\":0}}}]}}"),
	    &pod, &err) == 0);
	sql_judge(&it, pod);
	CHECK(it.res == V_FAIL);
	CHECK_CONTAINS(it.evidence, "without a result in its termination message");
	/* psql's error */
	CHECK(json_parse(&a, "p", "{\"status\":{\"phase\":\"Failed\",\"containerStatuses\":[{\"state\":{\"terminated\":{\"exitCode\":2,\"reason\":\"Error\",\"message\":\"error: psql: FATAL:  password authentication failed for user \\\"dump\\\"\\n\"}}}]}}",
	    strlen("{\"status\":{\"phase\":\"Failed\",\"containerStatuses\":[{\"state\":{\"terminated\":{\"exitCode\":2,\"reason\":\"Error\",\"message\":\"error: psql: FATAL:  password authentication failed for user \\\"dump\\\"\\n\"}}}]}}"),
	    &pod, &err) == 0);
	sql_judge(&it, pod);
	CHECK(it.res == V_FAIL);
	CHECK_CONTAINS(it.evidence, "the query failed (exit 2, Error): error: psql: FATAL:  password authentication failed");
	strbuf_release(&sb);
	arena_release(&a);
}

int
main(void)
{
	time_t t;
	long long w;

	site_checks("examples/sector7.yaml");
	site_checks("examples/lab-3node.yaml");
	site_checks("examples/single.yaml");
	site_checks("tests/verify/site.yaml");

	bad("{kind: ftp}", "unknown check kind 'ftp'");
	bad("{kind: api, check: nodes-ready}", "the api check nodes-ready needs 'nodes'");
	bad("{kind: api, check: sideways}", "a api check needs 'check'");
	bad("{kind: dns, zone: internal, name: a, type: MX, value: b}", "dns type must be A or CNAME");
	bad("{kind: https, host: a, path: /, status: 200, address: x, ca: system, colour: red}",
	    "unknown key 'colour' in a https check");
	bad("{kind: backup, check: longhorn, max-age: soon}", "max-age must be a duration");
	bad("{kind: sql, namespace: a, cluster: b, secret: c}", "a sql check needs 'database'");

	sql();

	CHECK(verify_parse_time("2026-05-01T03:00:00Z", &t) == 0 && t == 1777604400);
	CHECK(verify_parse_time("2026-05-01T05:00:00.123+02:00", &t) == 0 && t == 1777604400);
	CHECK(verify_parse_time("2026-05-01 03:00", &t) < 0);
	CHECK(verify_parse_window("48h", &w) == 0 && w == 172800);
	CHECK(verify_parse_window("2d", &w) == 0 && w == 172800);
	CHECK(verify_parse_window("90m", &w) == 0 && w == 5400);
	CHECK(verify_parse_window("48", &w) < 0);
	CHECK(verify_parse_window("-1h", &w) < 0);
	CHECK(verify_window_contains(1777604400, 3600, "2026-05-01T02:30:00Z"));
	CHECK(!verify_window_contains(1777604400, 3600, "2026-05-01T01:30:00Z"));
	CHECK(verify_manager_allowed("sector7"));
	CHECK(verify_manager_allowed("kube-controller-manager"));
	CHECK(verify_manager_allowed("cert-manager-certificates-issuing"));
	CHECK(!verify_manager_allowed("kubectl-edit"));
	CHECK(!verify_manager_allowed("kubectl-patch"));
	CHECK(!verify_manager_allowed("kubectl"));
	CHECK(!verify_manager_allowed("kubectl-client-side-apply"));
	CHECK(!verify_manager_allowed(NULL));
	return unit_done("verify spec");
}
