/*
 * Cross-field checks: the network plan, names, replicas, and what a careful operator wants to know about today's
 * ecosystem (see docs/differences.md for the reasons behind each note).
 * Pure: no network, no files.
 */
#include <stdio.h>
#include <string.h>

#include "site.h"
#include "hosts.h"
#include "../util/ipv4.h"
#include "../util/strbuf.h"
#include "../util/strnum.h"
#include "../util/text.h"
#include "../util/banned.h"

static const char *
fmt_ip(uint32_t a, char buf[IPV4_STRLEN])
{
	ipv4_format(a, buf);
	return buf;
}

static void
check_network(const struct site *s, struct findings *f)
{
	struct ipv4_range net = ipv4_cidr_range(s->subnet, s->prefix);
	const struct ynode *pool = site_at(s, "network.pool");
	const struct ynode *ing = site_at(s, "network.ingress-ip");
	const struct ynode *gw = site_at(s, "network.gateway");
	const struct ynode *pub = site_at(s, "network.public-ip");
	const char *subnet = ynode_get_str(site_get(s, "network"), "subnet");
	char a[IPV4_STRLEN];
	size_t i, j;

	if (!ipv4_range_has(net, s->gateway))
		findings_add(f, SEV_ERROR, "network.gateway", gw,
		    "gateway %s is outside the subnet %s",
		    fmt_ip(s->gateway, a), subnet);
	for (i = 0; i < s->nnodes; i++) {
		char key[64];

		snprintf(key, sizeof(key), "nodes[%zu].ip", i);
		if (!ipv4_range_has(net, s->nodes[i].ip))
			findings_add(f, SEV_ERROR, key, site_at(s, key),
			    "node '%s' address %s is outside the subnet %s",
			    s->nodes[i].name, fmt_ip(s->nodes[i].ip, a), subnet);
		if (s->nodes[i].ip == s->gateway)
			findings_add(f, SEV_ERROR, key, site_at(s, key),
			    "node '%s' has the gateway's address %s",
			    s->nodes[i].name, fmt_ip(s->gateway, a));
	}
	for (i = 0; i < s->nreserved; i++) {
		char key[64];

		snprintf(key, sizeof(key), "network.reserved[%zu]", i);
		if (!ipv4_range_has(net, s->reserved[i]))
			findings_add(f, SEV_ERROR, key, site_at(s, key),
			    "reserved address %s is outside the subnet %s",
			    fmt_ip(s->reserved[i], a), subnet);
	}

	/* The pool. */
	if (!ipv4_range_within(s->pool, net)) {
		findings_add(f, SEV_ERROR, "network.pool", pool,
		    "pool %s is not inside the subnet %s", pool->str, subnet);
	} else if (s->prefix < 31 && (ipv4_range_has(s->pool, net.first) ||
	    ipv4_range_has(s->pool, net.last))) {
		findings_add(f, SEV_ERROR, "network.pool", pool,
		    "pool %s includes the subnet's %s address %s", pool->str,
		    ipv4_range_has(s->pool, net.first) ? "network" : "broadcast",
		    fmt_ip(ipv4_range_has(s->pool, net.first) ? net.first :
		    net.last, a));
	}
	if (ipv4_range_has(s->pool, s->gateway))
		findings_add(f, SEV_ERROR, "network.pool", pool,
		    "pool %s contains the gateway %s", pool->str,
		    fmt_ip(s->gateway, a));
	for (i = 0; i < s->nnodes; i++)
		if (ipv4_range_has(s->pool, s->nodes[i].ip))
			findings_add(f, SEV_ERROR, "network.pool", pool,
			    "pool %s contains node '%s' (%s)", pool->str,
			    s->nodes[i].name, fmt_ip(s->nodes[i].ip, a));
	for (i = 0; i < s->nreserved; i++)
		if (ipv4_range_has(s->pool, s->reserved[i]))
			findings_add(f, SEV_ERROR, "network.pool", pool,
			    "pool %s contains the reserved address %s",
			    pool->str, fmt_ip(s->reserved[i], a));
	if (!ipv4_range_has(s->pool, s->ingress_ip))
		findings_add(f, SEV_ERROR, "network.ingress-ip", ing,
		    "ingress-ip %s is outside the pool %s",
		    fmt_ip(s->ingress_ip, a), pool->str);

	/* Duplicates. */
	for (i = 0; i < s->nnodes; i++)
		for (j = 0; j < i; j++) {
			char key[64];

			if (strcmp(s->nodes[i].name, s->nodes[j].name) == 0) {
				snprintf(key, sizeof(key), "nodes[%zu].name", i);
				findings_add(f, SEV_ERROR, key, site_at(s, key),
				    "duplicate node name '%s' (also nodes[%zu])",
				    s->nodes[i].name, j);
			}
			if (s->nodes[i].ip == s->nodes[j].ip) {
				snprintf(key, sizeof(key), "nodes[%zu].ip", i);
				findings_add(f, SEV_ERROR, key, site_at(s, key),
				    "duplicate node address %s (also node '%s')",
				    fmt_ip(s->nodes[i].ip, a), s->nodes[j].name);
			}
		}
	for (i = 0; i < s->nreserved; i++)
		for (j = 0; j < s->nnodes; j++)
			if (s->reserved[i] == s->nodes[j].ip) {
				char key[64];

				snprintf(key, sizeof(key), "network.reserved[%zu]",
				    i);
				findings_add(f, SEV_WARNING, key, site_at(s, key),
				    "reserved address %s is node '%s'",
				    fmt_ip(s->reserved[i], a), s->nodes[j].name);
			}

	/* The public side. */
	if (ipv4_range_has(net, s->public_ip))
		findings_add(f, SEV_ERROR, "network.public-ip", pub,
		    "public-ip %s is inside the LAN %s; it must be the firewall's WAN address",
		    fmt_ip(s->public_ip, a), subnet);
	else if (ipv4_is_shared(s->public_ip))
		findings_add(f, SEV_WARNING, "network.public-ip", pub,
		    "public-ip %s is a carrier-grade NAT address (100.64.0.0/10): inbound connections and HTTP-01 cannot reach you; use tls.challenge: dns01-cloudflare and a tunnel",
		    fmt_ip(s->public_ip, a));
	else if (ipv4_is_private(s->public_ip))
		findings_add(f, SEV_WARNING, "network.public-ip", pub,
		    "public-ip %s is a private address: the firewall is behind another NAT, whose port forwards you must add too",
		    fmt_ip(s->public_ip, a));
	else if (ipv4_is_special(s->public_ip))
		findings_add(f, SEV_ERROR, "network.public-ip", pub,
		    "public-ip %s is not a routable address",
		    fmt_ip(s->public_ip, a));
}

static void
check_nodes(const struct site *s, struct findings *f)
{
	const struct ynode *nodes = site_at(s, "nodes");
	size_t i, servers = 0;

	if (s->nnodes == 0) {
		findings_add(f, SEV_ERROR, "nodes", nodes,
		    "the site has no nodes");
		return;
	}
	for (i = 0; i < s->nnodes; i++)
		if (s->nodes[i].role == ROLE_SERVER)
			servers++;
	if (servers == 0)
		findings_add(f, SEV_ERROR, "nodes", nodes,
		    "no node has role: server; k3s needs one control-plane node");
	else if (servers % 2 == 0)
		findings_add(f, SEV_WARNING, "nodes", nodes,
		    "%zu server nodes: embedded etcd needs an odd number of servers, an even number gives a split-brain cluster; use one server or three",
		    servers);
	else if (servers == 1 && s->nnodes > 1)
		findings_add(f, SEV_NOTE, "nodes", nodes,
		    "one server node: the control plane is not highly available (k3s needs three servers for that); the workloads survive the loss of an agent");
}

static void
check_hosts(const struct site *s, struct findings *f)
{
	size_t i, j;

	for (i = 0; i < s->napps; i++) {
		const struct site_app *x = &s->apps[i];
		char key[64];

		if (!x->enabled || x->fqdn == NULL)
			continue;
		snprintf(key, sizeof(key), "apps.%s.host", x->name);
		if (strlen(x->fqdn) > 253)
			findings_add(f, SEV_ERROR, key, site_at(s, key),
			    "'%s' is longer than 253 characters", x->fqdn);
		for (j = 0; j < i; j++) {
			const struct site_app *y = &s->apps[j];

			if (y->enabled && y->fqdn && strcmp(x->fqdn, y->fqdn) == 0)
				findings_add(f, SEV_ERROR, key,
				    site_at(s, key) ? site_at(s, key) :
				    site_at(s, "apps"),
				    "host '%s' is already used by apps.%s",
				    x->fqdn, y->name);
		}
	}
}

/* Position for an app: its `enabled` key, else the app, else apps. */
static const struct ynode *
app_at(const struct site *s, const char *app)
{
	char key[64];
	const struct ynode *n;

	snprintf(key, sizeof(key), "apps.%s.enabled", app);
	if ((n = site_at(s, key)) != NULL)
		return n;
	snprintf(key, sizeof(key), "apps.%s", app);
	if ((n = site_at(s, key)) != NULL)
		return n;
	return site_at(s, "apps");
}

/* Grafana is part of monitoring's stack: a site key, not a component. */
static void
check_grafana(const struct site *s, struct findings *f)
{
	const struct ynode *mon = site_get(s, "monitoring");

	if (site_app_enabled(s, "grafana") &&
	    !ynode_truthy(ynode_get(mon, "enabled")))
		findings_add(f, SEV_ERROR, "apps.grafana", app_at(s, "grafana"),
		    "grafana needs monitoring, which is disabled (Grafana shows Prometheus data)");
}

static void
check_gpu(const struct site *s, struct findings *f)
{
	const struct ynode *n8n = site_get(s, "apps.n8n");
	const char *who = ynode_get_str(n8n, "gpu");
	const char *err;
	long long slices = s7_strtonum(ynode_get_str(site_get(s, "gpu"),
	    "time-slicing"), 1, 64, &err);

	if (site_app_enabled(s, "n8n") && s->gpu_nodes == 0 &&
	    (strcmp(who, "ollama") == 0 || strcmp(who, "n8n") == 0))
		findings_add(f, SEV_ERROR, "apps.n8n.gpu",
		    site_at(s, "apps.n8n.gpu"),
		    "GPU work asked for (gpu: %s) but no node has gpus > 0", who);
	if (slices > 1 && s->gpu_nodes == 0)
		findings_add(f, SEV_WARNING, "gpu.time-slicing",
		    site_at(s, "gpu.time-slicing"),
		    "time-slicing is set but no node has a GPU");
	else if (slices > 1)
		findings_add(f, SEV_NOTE, "gpu.time-slicing",
		    site_at(s, "gpu.time-slicing"),
		    "time-slicing shares each GPU between %lld pods with no memory or fault isolation",
		    slices);
	if (site_app_enabled(s, "n8n") && strcmp(who, "n8n") == 0)
		findings_add(f, SEV_NOTE, "apps.n8n.gpu",
		    site_at(s, "apps.n8n.gpu"),
		    "the GPU goes to the n8n pod, as the gameplan wrote; n8n does not use it itself, so no Ollama server is deployed (gpu: ollama puts the GPU where the AI nodes can use it)");
}

static void
check_storage(const struct site *s, struct findings *f)
{
	const struct ynode *rep = site_at(s, "storage.replicas");

	if (s->replicas > (long long)s->nnodes)
		findings_add(f, SEV_ERROR, "storage.replicas",
		    rep ? rep : site_at(s, "nodes"),
		    "%lld replicas asked but the site has %zu node%s: Longhorn places each replica on a different node, so volumes would never be healthy",
		    s->replicas, s->nnodes, s->nnodes == 1 ? "" : "s");
	else if (s->replicas == 1 && s->nnodes > 1)
		findings_add(f, SEV_WARNING, "storage.replicas", rep,
		    "one replica: losing a node's disk loses the volumes on it");
	else if (s->replicas == 2 && s->nnodes == 2)
		findings_add(f, SEV_NOTE, "storage.replicas",
		    rep ? rep : site_at(s, "nodes"),
		    "2 replicas on 2 nodes (Longhorn's default of 3 would never schedule the third): volumes run degraded while either node is down");
}

static void
check_k3s(const struct site *s, struct findings *f)
{
	const char *v = ynode_get_str(site_get(s, "k3s"), "version");
	const struct ynode *at = site_at(s, "k3s.version");
	struct strbuf sb;
	struct finding *fd;
	int major = 0, minor = 0;

	if (sscanf(v, "v%d.%d", &major, &minor) != 2 || major != 1)
		findings_add(f, SEV_ERROR, "k3s.version", at,
		    "'%s' is not a k3s version such as v1.36.3+k3s1", v);
	else if (minor >= 37)
		findings_add(f, SEV_WARNING, "k3s.version", at,
		    "k3s %s: cert-manager 1.21 supports Kubernetes 1.33 to 1.36; stay on the v1.36 stable channel until cert-manager supports 1.%d",
		    v, minor);
	else if (minor < 33)
		findings_add(f, SEV_WARNING, "k3s.version", at,
		    "k3s %s is older than anything cert-manager 1.21 supports (1.33 to 1.36)",
		    v);

	strbuf_init(&sb, 4096);
	hosts_k3s_server_flags(s, &sb);
	fd = findings_add(f, SEV_WARNING, "k3s", site_at(s, "k3s"),
	    "the server node needs these flags in /etc/rancher/k3s/config.yaml before MetalLB and Longhorn are installed (k3s re-marks local-path as the default StorageClass and ServiceLB takes ports 80/443 otherwise)");
	findings_set_detail(f, fd, sb.buf);
	strbuf_release(&sb);

	strbuf_init(&sb, 4096);
	strbuf_addstr(&sb, "open-iscsi (iscsid running), nfs-common, cryptsetup, dmsetup, ext4 or XFS; `sector7 render` writes host/prerequisites.sh");
	fd = findings_add(f, SEV_NOTE, "storage", site_at(s, "storage"),
	    "Longhorn needs packages on every node that Kubernetes cannot install");
	findings_set_detail(f, fd, sb.buf);
	strbuf_release(&sb);
}

static void
check_ingress_tls(const struct site *s, struct findings *f)
{
	const struct ynode *tls = site_get(s, "tls");
	const char *ingress = ynode_get_str(s->norm, "ingress");
	const char *issuer = ynode_get_str(tls, "issuer");
	const char *challenge = ynode_get_str(tls, "challenge");
	const struct ynode *at_issuer = site_at(s, "tls.issuer");

	if (strcmp(ingress, "ingress-nginx") == 0)
		findings_add(f, SEV_WARNING, "ingress", site_at(s, "ingress"),
		    "ingress-nginx was retired upstream in March 2026 (final release v1.15.1): no more security fixes, and it has had critical CVEs (CVE-2025-1974); k3s's Traefik serves the same Ingresses with `ingress: traefik`");
	else
		findings_add(f, SEV_NOTE, "ingress", site_at(s, "ingress"),
		    "Traefik (bundled with k3s) instead of the gameplan's ingress-nginx, which was retired in March 2026; `ingress: ingress-nginx` still renders it");

	if (strcmp(issuer, "letsencrypt") == 0 &&
	    !ynode_truthy(ynode_get(tls, "staging-passed")))
		findings_add(f, SEV_WARNING, "tls.issuer",
		    at_issuer ? at_issuer : site_at(s, "tls"),
		    "Let's Encrypt production without a recorded staging run: a misconfigured challenge burns the production rate limits (5 failed validations per hour, 5 duplicate certificates per week); apply with issuer letsencrypt-staging first, then set tls.staging-passed: true");
	else if (strcmp(issuer, "selfsigned") == 0)
		findings_add(f, SEV_NOTE, "tls.issuer", at_issuer,
		    "self-signed certificates from a cluster CA: browsers will not trust them until the CA is installed");
	if (strcmp(issuer, "selfsigned") != 0 &&
	    strcmp(challenge, "http01") == 0)
		findings_add(f, SEV_NOTE, "tls.challenge",
		    site_at(s, "tls.challenge") ? site_at(s, "tls.challenge") :
		    site_at(s, "tls"),
		    "HTTP-01 needs port 80 forwarded from the public address to the ingress (see `sector7 render`, firewall/port-forwards.txt) and cannot issue wildcard certificates");
	if (strcmp(issuer, "selfsigned") != 0 &&
	    strcmp(challenge, "dns01-cloudflare") == 0)
		findings_add(f, SEV_NOTE, "tls.challenge",
		    site_at(s, "tls.challenge"),
		    "DNS-01 needs a Cloudflare API token (Zone:DNS:Edit, Zone:Zone:Read) in the Secret '%s' of namespace cert-manager, key api-token",
		    ynode_get_str(tls, "cloudflare-secret"));
}

/* A mirror is host[:port][/path]: no scheme, no trailing slash. */
static void
check_images(const struct site *s, struct findings *f)
{
	const char *m = ynode_get_str(site_get(s, "images"), "mirror");
	const struct ynode *at = site_at(s, "images.mirror");
	size_t n;

	if (m == NULL)
		return;
	n = strlen(m);
	if (strstr(m, "://") || n == 0 || m[n - 1] == '/' || m[0] == '/' ||
	    strspn(m, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-_:/") != n)
		findings_add(f, SEV_ERROR, "images.mirror", at,
		    "'%s' is not a registry: write host[:port][/path], no scheme, no trailing slash",
		    m);
	else
		findings_add(f, SEV_NOTE, "images.mirror", at,
		    "every image comes from %s/REGISTRY/PATH: copy them there first (e.g. skopeo sync --scoped); pinned digests are kept, so the copies must be exact; images named in arguments (Longhorn's engine and instance managers, cert-manager's ACME solver) need images.overrides, or Longhorn's system-default-registry and k3s's registries.yaml",
		    m);
}

static void
check_apps(const struct site *s, struct findings *f)
{
	const struct site_app *af = site_app(s, "appflowy");
	const struct ynode *backup = site_get(s, "backup");
	const struct ynode *mon = site_get(s, "monitoring");

	if (af && af->enabled) {
		const char *s3 = ynode_get_str(af->y, "s3");

		findings_add(f, SEV_WARNING, "apps.appflowy",
		    app_at(s, "appflowy"),
		    "AppFlowy Cloud's published images are built from a closed commercial fork; their free licence allows one user seat per instance (plus guest editors): a team needs a paid licence");
		if (strcmp(s3, "minio") == 0 &&
		    ynode_get(af->y, "minio-image") == NULL)
			findings_add(f, SEV_ERROR, "apps.appflowy.s3",
			    site_at(s, "apps.appflowy.s3"),
			    "s3: minio needs apps.appflowy.minio-image: MinIO's community images were deleted from Docker Hub in September 2026");
		else if (strcmp(s3, "minio") == 0)
			findings_add(f, SEV_WARNING, "apps.appflowy.s3",
			    site_at(s, "apps.appflowy.s3"),
			    "MinIO community edition is archived and unpatched since 2026; garage or seaweedfs are maintained");
		else if (strcmp(s3, "seaweedfs") == 0 &&
		    strcmp(ynode_get_str(s->norm, "ingress"), "ingress-nginx") == 0)
			findings_add(f, SEV_ERROR, "apps.appflowy.s3",
			    site_at(s, "apps.appflowy.s3"),
			    "s3: seaweedfs cannot work behind ingress-nginx: SeaweedFS checks presigned URLs against X-Forwarded-Host, which ingress-nginx always sets (and cannot drop with snippets off), so uploads and downloads fail; use s3: garage, or ingress: traefik");
		else if (ynode_get(af->y, "minio-image"))
			findings_add(f, SEV_WARNING, "apps.appflowy.minio-image",
			    site_at(s, "apps.appflowy.minio-image"),
			    "minio-image is ignored unless s3: minio");
		else
			findings_add(f, SEV_NOTE, "apps.appflowy.s3",
			    app_at(s, "appflowy"),
			    "AppFlowy's objects go to %s instead of the gameplan's MinIO, whose community images are gone",
			    strcmp(s3, "garage") == 0 ? "Garage" : "SeaweedFS");
	}
	if (site_app_enabled(s, "postgres"))
		findings_add(f, SEV_NOTE, "apps.postgres", app_at(s, "postgres"),
		    "PostgreSQL runs under the CloudNativePG operator (image with pgvector) instead of a Bitnami chart: Bitnami's free images stopped in August 2025");
	if (site_app_enabled(s, "n8n"))
		findings_add(f, SEV_NOTE, "apps.n8n", app_at(s, "n8n"),
		    "n8n's editor is reachable from the internet through the wildcard record; keep n8n current (CVE-2026-21858 was an unauthenticated RCE)");
	if (ynode_get(backup, "target") == NULL)
		findings_add(f, SEV_WARNING, "backup.target",
		    site_at(s, "backup") ? site_at(s, "backup") : NULL,
		    "no backup target: only Longhorn's daily snapshots, on the same disks as the volumes, so losing the nodes loses the backups too; no database dumps and no Velero; set backup.target to nfs://host/path or s3://endpoint/bucket");
	else if (strncmp(ynode_get_str(backup, "target"), "nfs:", 4) == 0)
		findings_add(f, SEV_NOTE, "backup.target",
		    site_at(s, "backup.target"),
		    "an NFS target takes Longhorn's volume backups and the nightly database dumps, but not Velero's, which needs object storage: the cluster's objects, generated Secrets included, are not backed up; keep a copy of the Secrets labelled sector7.io/credential (n8n's encryption key and AppFlowy's JWT secret cannot be made again)");
	else
		findings_add(f, SEV_NOTE, "backup.target",
		    site_at(s, "backup.target"),
		    "the S3 target needs the Secret '%s' (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; in longhorn-system also AWS_ENDPOINTS) in namespaces velero and longhorn-system before backups can run; sector7 does not create it",
		    ynode_get_str(backup, "s3-secret"));
	if (!ynode_truthy(ynode_get(mon, "enabled")))
		findings_add(f, SEV_WARNING, "monitoring.enabled",
		    site_at(s, "monitoring.enabled"),
		    "monitoring is disabled: nothing alerts on full volumes, expiring certificates or stale backups");
}

void
site_check(const struct site *s, struct findings *f)
{
	check_network(s, f);
	check_nodes(s, f);
	check_hosts(s, f);
	check_grafana(s, f);
	check_gpu(s, f);
	check_storage(s, f);
	check_k3s(s, f);
	check_ingress_tls(s, f);
	check_apps(s, f);
	check_images(s, f);
	findings_sort(f);
}
