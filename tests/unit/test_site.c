/*
 * The site loader and checks, table-driven: each case is a site (the
 * default site with one change) and the first error expected, with its
 * position.  Plus defaults, computed defaults, sizes and durations.
 */
#include <stdlib.h>

#include "unit.h"
#include "catalog/catalog.h"
#include "render/checks.h"
#include "render/render.h"
#include "site/site.h"
#include "util/strbuf.h"

static const char *base =
    "site: s7\n"					/* 1 */
    "domain: example.org\n"				/* 2 */
    "email: ops@example.org\n"				/* 3 */
    "network:\n"					/* 4 */
    "  subnet: 192.168.2.0/24\n"			/* 5 */
    "  gateway: 192.168.2.1\n"				/* 6 */
    "  public-ip: 71.73.220.69\n"			/* 7 */
    "  pool: 192.168.2.200-192.168.2.220\n"		/* 8 */
    "  ingress-ip: 192.168.2.200\n"			/* 9 */
    "  reserved: [192.168.2.106]\n"			/* 10 */
    "nodes:\n"						/* 11 */
    "  - {name: aurora, ip: 192.168.2.159, role: server, gpus: 1}\n" /* 12 */
    "  - {name: optiplex, ip: 192.168.2.231}\n";	/* 13 */

/* Loads text; returns the errors, one per line: "L:C: key: message". */
static char *
errors_of(const char *text, struct site *out)
{
	struct site s;
	struct findings f;
	struct strbuf sb;
	size_t i;

	site_init(&s);
	findings_init(&f, "t.yaml");
	if (site_load(&s, "t.yaml", text, strlen(text), &f) == 0) {
		/* as `sector7 check` does: the site, then what needs the
		 * catalog, from a templates-only render */
		struct catalog cat;
		struct rendered r;
		struct render_opts ro;
		struct s7_error err;

		site_check(&s, &f);
		memset(&ro, 0, sizeof(ro));
		ro.version = "test";
		ro.templates_only = 1;
		catalog_init(&cat);
		rendered_init(&r);
		if (f.errors == 0 && catalog_load(&cat, &err) == 0 &&
		    render_stack(&r, &s, &cat, &ro, &err) == 0)
			render_check(&r, &s, &f);
		rendered_release(&r);
		catalog_release(&cat);
	}
	strbuf_init(&sb, STRBUF_LARGE);
	for (i = 0; i < f.n; i++)
		if (f.v[i].sev == SEV_ERROR)
			strbuf_addf(&sb, "%u:%u: %s: %s\n", f.v[i].line,
			    f.v[i].col, f.v[i].key, f.v[i].msg);
	findings_release(&f);
	if (out)
		*out = s;
	else
		site_release(&s);
	return strbuf_detach(&sb, NULL);
}

/* base with the line starting with `from` replaced by `to` (or appended). */
static char *
edit(const char *from, const char *to)
{
	struct strbuf sb;
	const char *p = base, *hit = from ? strstr(base, from) : NULL;

	strbuf_init(&sb, STRBUF_LARGE);
	if (hit) {
		const char *eol = strchr(hit, '\n');

		strbuf_add(&sb, p, (size_t)(hit - p));
		strbuf_addstr(&sb, to);
		strbuf_addstr(&sb, eol + 1);
	} else {
		strbuf_addstr(&sb, base);
		strbuf_addstr(&sb, to);
	}
	return strbuf_detach(&sb, NULL);
}

static void
cases(void)
{
	static const struct {
		const char *from, *to, *want;
	} t[] = {
		{ NULL, "", "" },
		{ "site:", "sit: s7\n",
		  "1:1: sit: unknown key 'sit'; did you mean 'site'?" },
		{ "site:", "site: S7\n",
		  "1:7: site: 'S7' is not a valid DNS label" },
		{ "domain:", "domain: localhost\n",
		  "2:9: domain: 'localhost' is not a valid DNS name" },
		{ "email:", "email: nobody\n",
		  "3:8: email: 'nobody' is not an email address" },
		{ "  subnet:", "  subnet: 192.168.2.1/24\n",
		  "5:11: network.subnet: '192.168.2.1/24' is not an IPv4 network: host bits are set" },
		{ "  gateway:", "  gateway: 192.168.3.1\n",
		  "6:12: network.gateway: gateway 192.168.3.1 is outside the subnet 192.168.2.0/24" },
		{ "  gateway:", "  gateway: [1]\n",
		  "6:12: network.gateway: expected an IPv4 address, found a list" },
		{ "  pool:", "  pool: 192.168.2.250-192.168.2.260\n",
		  "8:9: network.pool: '192.168.2.250-192.168.2.260' is not an IPv4 range: number out of range 0-255" },
		{ "  pool:", "  pool: 192.168.2.100-192.168.2.200\n",
		  "8:9: network.pool: pool 192.168.2.100-192.168.2.200 contains the reserved address 192.168.2.106" },
		{ "  pool:", "  pool: 192.168.2.150-192.168.2.200\n",
		  "8:9: network.pool: pool 192.168.2.150-192.168.2.200 contains node 'aurora' (192.168.2.159)" },
		{ "  pool:", "  pool: 192.168.2.0/28\n",
		  "8:9: network.pool: pool 192.168.2.0/28 includes the subnet's network address 192.168.2.0" },
		{ "  ingress-ip:", "  ingress-ip: 192.168.2.199\n",
		  "9:15: network.ingress-ip: ingress-ip 192.168.2.199 is outside the pool" },
		{ "  reserved:", "  reserved: [10.0.0.1]\n",
		  "10:14: network.reserved[0]: reserved address 10.0.0.1 is outside the subnet" },
		{ "  - {name: optiplex", "  - {name: aurora, ip: 192.168.2.231}\n",
		  "13:12: nodes[1].name: duplicate node name 'aurora' (also nodes[0])" },
		{ "  - {name: optiplex", "  - {name: optiplex, ip: 192.168.2.159}\n",
		  "13:26: nodes[1].ip: duplicate node address 192.168.2.159 (also node 'aurora')" },
		{ "  - {name: optiplex", "  - {name: optiplex, ip: 192.168.2.231, gpus: many}\n",
		  "13:47: nodes[1].gpus: expected an integer, found a string" },
		{ "  - {name: optiplex", "  - {name: optiplex, ip: 192.168.2.231, role: worker}\n",
		  "13:47: nodes[1].role: 'worker' is not one of: server, agent" },
		{ NULL, "storage: {replicas: 3}\n",
		  "14:21: storage.replicas: 3 replicas asked but the site has 2 nodes" },
		{ NULL, "apps: {postgres: {enabled: false}}\n",
		  "apps.n8n.enabled: n8n needs postgres, which this site disables (apps.postgres.enabled is false): n8n keeps its data" },
		{ NULL, "apps: {n8n: {host: N8N}}\n",
		  "14:20: apps.n8n.host: 'N8N' is not a valid DNS label" },
		{ NULL, "apps: {n8n: {host: grafana}}\n",
		  "apps.grafana.host: host 'grafana.example.org' is already used by apps.n8n" },
		{ NULL, "apps: {appflowy: {s3: minio}}\n",
		  "14:23: apps.appflowy.s3: s3: minio needs apps.appflowy.minio-image" },
		{ NULL, "apps: {appflowy: {s3: minio, minio-image: 'minio/minio:latest'}}\n",
		  "apps.appflowy.minio-image: image 'minio/minio:latest' uses the moving tag 'latest'" },
		{ NULL, "backup: {schedule: '61 * * * *'}\n",
		  "14:20: backup.schedule: '61 * * * *' is not a five-field cron schedule" },
		{ NULL, "backup: {keep: 30 days}\n",
		  "14:16: backup.keep: '30 days' is not a duration" },
		{ NULL, "backup: {target: ftp://nas/x}\n",
		  "14:18: backup.target: 'ftp://nas/x' is not a backup target: the scheme must be nfs://, s3:// or s3+http://" },
		{ NULL, "monitoring: {enabled: no}\n",
		  "14:23: monitoring.enabled: expected true or false, found a string 'no'" },
		/* YAML booleans only: a quoted false is a string, not false */
		{ NULL, "monitoring: {enabled: \"false\"}\n",
		  "14:23: monitoring.enabled: expected true or false, found a string 'false'" },
		{ NULL, "apps: {nextcloud: {enabled: 'true'}}\n",
		  "14:29: apps.nextcloud.enabled: expected true or false, found a string 'true'" },
		/* reader errors at their position, not 1:1 */
		{ "  gateway:", "  gateway: 192.168.2.1\001\n",
		  "6:23: : a control character (U+0001) is not allowed in YAML; inside double quotes write it as an escape" },
		{ "email:", "email: ops@exa\xffmple.org\n",
		  "3:15: : byte 0xff is not valid UTF-8" },
		{ NULL, "tls: {issuer: letsencrypt-prod}\n",
		  "14:15: tls.issuer: 'letsencrypt-prod' is not one of: letsencrypt, letsencrypt-staging, selfsigned" },
		{ NULL, "k3s: {version: 1.36}\n",
		  "14:16: k3s.version: '1.36' is not a k3s version such as v1.36.3+k3s1" },
		{ NULL, "ingress: [traefik]\n",
		  "14:10: ingress: expected one of a fixed set of words, found a list" },
		{ NULL, "nodes: []\n", "14:1: : duplicate key 'nodes'" },
		{ NULL, "  bad indent\n", "could not find expected ':'" },
		{ NULL, "x: !!custom 1\n", "14:4: : unsupported tag 'tag:yaml.org,2002:custom'" },
		{ NULL, "<<: {a: 1}\n", "14:1: : merge keys ('<<') are not supported" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *text = edit(t[i].from, t[i].to);
		char *got = errors_of(text, NULL);

		if (t[i].want[0] == '\0')
			CHECK_STR(got, "");
		else
			CHECK_CONTAINS(got, t[i].want);
		free(got);
		free(text);
	}
}

static void
missing(void)
{
	char *got = errors_of("site: s7\nnodes: []\n", NULL);

	CHECK_CONTAINS(got, "1:1: domain: missing required key 'domain'");
	CHECK_CONTAINS(got, "1:1: email: missing required key 'email'");
	CHECK_CONTAINS(got, "1:1: network: missing required key 'network'");
	free(got);
	got = errors_of("[1, 2]\n", NULL);
	CHECK_CONTAINS(got, "1:1: : a site is a mapping of keys, found a list");
	free(got);
	got = errors_of("", NULL);
	CHECK_CONTAINS(got, "the file is empty");
	free(got);
}

static void
defaults(void)
{
	struct site s;
	char *got = errors_of(base, &s);
	const struct site_app *n8n;

	CHECK_STR(got, "");
	free(got);
	CHECK(s.nnodes == 2 && s.replicas == 2 && s.gpu_nodes == 1);
	CHECK_STR(ynode_get_str(s.norm, "ingress"), "traefik");
	CHECK_STR(ynode_get_str(site_get(&s, "tls"), "issuer"),
	    "letsencrypt-staging");
	CHECK_STR(ynode_get_str(site_get(&s, "apps.n8n"), "gpu"), "ollama");
	CHECK(!site_app_enabled(&s, "nextcloud"));
	CHECK(site_app_enabled(&s, "appflowy"));
	n8n = site_app(&s, "n8n");
	CHECK(n8n && strcmp(n8n->fqdn, "n8n.example.org") == 0);
	CHECK_STR(site_app(&s, "heimdall")->fqdn, "example.org");
	CHECK(site_at(&s, "nodes[1].ip")->line == 13);
	CHECK(site_at(&s, "nodes[5]") == NULL);
	site_release(&s);

	got = errors_of("site: one\ndomain: one.example\nemail: a@b.example\n"
	    "network: {subnet: 10.0.0.0/24, gateway: 10.0.0.1, public-ip: 8.8.4.4,"
	    " pool: 10.0.0.100-10.0.0.110, ingress-ip: 10.0.0.100}\n"
	    "nodes: [{name: n1, ip: 10.0.0.2, role: server}]\n", &s);
	CHECK_STR(got, "");
	free(got);
	CHECK(s.replicas == 1);
	CHECK_STR(ynode_get_str(site_get(&s, "apps.n8n"), "gpu"), "none");
	site_release(&s);

	got = errors_of("site: one\ndomain: one.example\nemail: a@b.example\n"
	    "network: {subnet: 10.0.0.0/24, gateway: 10.0.0.1, public-ip: 8.8.4.4,"
	    " pool: 10.0.0.100-10.0.0.110, ingress-ip: 10.0.0.100}\n"
	    "nodes: [{name: n1, ip: 10.0.0.2, role: server}]\n"
	    "apps: {n8n: {gpu: ollama}}\n", NULL);
	CHECK_CONTAINS(got, "6:19: apps.n8n.gpu: GPU work asked for (gpu: ollama) but no node has gpus > 0");
	free(got);
}

static void
budget(void)
{
	char *one = edit("  - {name: optiplex",
	    "  - {name: optiplex, ip: 192.168.2.231, disk: 100Gi}\n");
	char *both = edit("  - {name: optiplex",
	    "  - {name: optiplex, ip: 192.168.2.231, disk: 100Gi}\n"
	    "  - {name: third, ip: 192.168.2.232, disk: 100Gi}\n");
	char *got;

	/* One node declares, the other not: a warning, not an error. */
	got = errors_of(one, NULL);
	CHECK_STR(got, "");
	free(got);
	/* aurora still declares nothing */
	got = errors_of(both, NULL);
	CHECK_STR(got, "");
	free(got);
	free(both);
	/* Both nodes declare 100Gi: far too little for the default apps. */
	both = NULL;
	CHECK(asprintf(&both, "%.*s"
	    "  - {name: aurora, ip: 192.168.2.159, role: server, disk: 100Gi}\n"
	    "  - {name: optiplex, ip: 192.168.2.231, disk: 100Gi}\n",
	    (int)(strstr(base, "nodes:\n") + 7 - base), base) > 0);
	got = errors_of(both, NULL);
	/* 1+100+20+20+50+50+50 GiB (no GPU: no model volume), twice */
	CHECK_CONTAINS(got, "12:3: nodes: the apps ask for 598 GiB of replicated storage (heimdall/heimdall-config 1 GiB, postgres/postgres 100 GiB");
	CHECK_CONTAINS(got, "times 2 replicas) but the nodes declare 200 GiB");
	free(got);
	free(both);
	free(one);
}

static void
units(void)
{
	uint64_t b = 0;
	long long h = 0;

	CHECK(site_parse_size("20Gi", &b) == 0 && b == 20ull << 30);
	CHECK(site_parse_size("500G", &b) == 0 && b == 500000000000ull);
	CHECK(site_parse_size("1024", &b) == 0 && b == 1024);
	CHECK(site_parse_size("1Ti", &b) == 0 && b == 1ull << 40);
	CHECK(site_parse_size("1.5Gi", &b) < 0);
	CHECK(site_parse_size("Gi", &b) < 0);
	CHECK(site_parse_size("20gi", &b) < 0);
	CHECK(site_parse_size("99999999999999999999Gi", &b) < 0);
	CHECK(site_parse_duration("30d", &h) == 0 && h == 720);
	CHECK(site_parse_duration("2w", &h) == 0 && h == 336);
	CHECK(site_parse_duration("12h", &h) == 0 && h == 12);
	CHECK(site_parse_duration("0d", &h) < 0);
	CHECK(site_parse_duration("d", &h) < 0);
	CHECK(site_parse_duration("30m", &h) < 0);
}

int
main(void)
{
	cases();
	missing();
	defaults();
	budget();
	units();
	return unit_done("site");
}
