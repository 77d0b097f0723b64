/*
 * Keys marked required are the ones the gameplan's site cannot do without;
 * everything else has a default that matches the gameplan or, where the
 * world moved since it was written, today's working choice.
 */
#include <stddef.h>

#include "schema.h"
#include "../util/banned.h"

static const char *const roles[] = { "server", "agent", NULL };
static const char *const ingresses[] = { "traefik", "ingress-nginx", NULL };
static const char *const issuers[] = {
	"letsencrypt", "letsencrypt-staging", "selfsigned", NULL,
};
static const char *const challenges[] = { "http01", "dns01-cloudflare", NULL };
static const char *const classes[] = { "longhorn", NULL };
static const char *const gpu_users[] = { "auto", "ollama", "n8n", "none", NULL };
static const char *const s3_servers[] = { "garage", "seaweedfs", "minio", NULL };
static const char *const smtp_tls[] = { "starttls", "tls", "none", NULL };

static const struct field k3s_fields[] = {
	{ "version", T_STR, 0, "v1.36.3+k3s1", NULL, 0, 0, NULL, 0,
	  "k3s release the nodes run (checked against add-on support)" },
	{ NULL },
};

static const struct field network_fields[] = {
	{ "subnet", T_CIDR, F_REQUIRED, NULL, NULL, 0, 0, NULL, 0,
	  "the LAN the nodes are on, as address/prefix" },
	{ "gateway", T_IPV4, F_REQUIRED, NULL, NULL, 0, 0, NULL, 0,
	  "the firewall's LAN address" },
	{ "public-ip", T_IPV4, F_REQUIRED, NULL, NULL, 0, 0, NULL, 0,
	  "the firewall's public address (external DNS points here)" },
	{ "pool", T_RANGE, F_REQUIRED, NULL, NULL, 0, 0, NULL, 0,
	  "addresses MetalLB may hand out: first-last or address/prefix" },
	{ "ingress-ip", T_IPV4, F_REQUIRED, NULL, NULL, 0, 0, NULL, 0,
	  "the ingress controller's address, inside the pool" },
	{ "reserved", T_LIST, 0, "[]", NULL, 0, 0, NULL, T_IPV4,
	  "other hosts on the subnet the pool must not cover" },
	{ NULL },
};

static const struct field node_fields[] = {
	{ "name", T_LABEL, F_REQUIRED, NULL, NULL, 0, 0, NULL, 0,
	  "the node's Kubernetes name (its hostname)" },
	{ "ip", T_IPV4, F_REQUIRED, NULL, NULL, 0, 0, NULL, 0,
	  "the node's LAN address" },
	{ "role", T_ENUM, 0, "agent", roles, 0, 0, NULL, 0,
	  "k3s role: server (control plane) or agent" },
	{ "gpus", T_INT, 0, "0", NULL, 0, 16, NULL, 0,
	  "NVIDIA GPUs in the node" },
	{ "disk", T_SIZE, 0, NULL, NULL, 0, 0, NULL, 0,
	  "space Longhorn may use on the node (enables the storage budget)" },
	{ NULL },
};

static const struct field tls_fields[] = {
	{ "issuer", T_ENUM, 0, "letsencrypt-staging", issuers, 0, 0, NULL, 0,
	  "certificate issuer for every web host" },
	{ "challenge", T_ENUM, 0, "http01", challenges, 0, 0, NULL, 0,
	  "ACME challenge: http01 (port 80 forwarded) or dns01-cloudflare" },
	{ "staging-passed", T_BOOL, 0, "false", NULL, 0, 0, NULL, 0,
	  "set once a letsencrypt-staging run issued every certificate" },
	{ "cloudflare-secret", T_LABEL, 0, "cloudflare-api-token", NULL, 0, 0,
	  NULL, 0, "Secret in cert-manager's namespace holding api-token" },
	{ NULL },
};

static const struct field storage_fields[] = {
	{ "class", T_ENUM, 0, "longhorn", classes, 0, 0, NULL, 0,
	  "the default StorageClass" },
	{ "replicas", T_INT, 0, NULL, NULL, 1, 3, NULL, 0,
	  "copies of every volume (default: 2, or 1 on one node)" },
	{ NULL },
};

static const struct field gpu_fields[] = {
	{ "time-slicing", T_INT, 0, "1", NULL, 1, 64, NULL, 0,
	  "pods that may share one GPU (1: no sharing)" },
	{ NULL },
};

static const struct field heimdall_fields[] = {
	{ "enabled", T_BOOL, 0, "true", NULL, 0, 0, NULL, 0, "deploy it" },
	{ "host", T_HOST, 0, "@", NULL, 0, 0, NULL, 0,
	  "host name under the domain (@: the domain itself)" },
	{ "size", T_SIZE, 0, "1Gi", NULL, 0, 0, NULL, 0, "config volume" },
	{ NULL },
};

static const struct field postgres_fields[] = {
	{ "enabled", T_BOOL, 0, "true", NULL, 0, 0, NULL, 0, "deploy it" },
	{ "size", T_SIZE, 0, "100Gi", NULL, 0, 0, NULL, 0, "data volume" },
	{ "instances", T_INT, 0, "1", NULL, 1, 3, NULL, 0,
	  "PostgreSQL instances (replicas beyond the first are standbys)" },
	{ NULL },
};

static const struct field n8n_fields[] = {
	{ "enabled", T_BOOL, 0, "true", NULL, 0, 0, NULL, 0, "deploy it" },
	{ "host", T_HOST, 0, "n8n", NULL, 0, 0, NULL, 0, "host name" },
	{ "size", T_SIZE, 0, "20Gi", NULL, 0, 0, NULL, 0, "data volume" },
	{ "gpu", T_ENUM, 0, "auto", gpu_users, 0, 0, NULL, 0,
	  "who gets the GPU: ollama (inference server), n8n (the gameplan's way), none; auto: ollama when the site has a GPU" },
	{ "model", T_STR, 0, "llama3.2:3b", NULL, 0, 0, NULL, 0,
	  "Ollama model pulled for the AI nodes" },
	{ "model-size", T_SIZE, 0, "30Gi", NULL, 0, 0, NULL, 0,
	  "Ollama model volume" },
	{ "queue", T_BOOL, 0, "false", NULL, 0, 0, NULL, 0,
	  "queue mode: Redis plus worker pods" },
	{ "workers", T_INT, 0, "2", NULL, 1, 16, NULL, 0,
	  "worker pods in queue mode" },
	{ NULL },
};

static const struct field nocodb_fields[] = {
	{ "enabled", T_BOOL, 0, "true", NULL, 0, 0, NULL, 0, "deploy it" },
	{ "host", T_HOST, 0, "nocodb", NULL, 0, 0, NULL, 0, "host name" },
	{ "size", T_SIZE, 0, "20Gi", NULL, 0, 0, NULL, 0, "data volume" },
	{ NULL },
};

static const struct field appflowy_fields[] = {
	{ "enabled", T_BOOL, 0, "true", NULL, 0, 0, NULL, 0, "deploy it" },
	{ "host", T_HOST, 0, "appflowy", NULL, 0, 0, NULL, 0, "host name" },
	{ "db-size", T_SIZE, 0, "50Gi", NULL, 0, 0, NULL, 0,
	  "its PostgreSQL volume" },
	{ "s3-size", T_SIZE, 0, "50Gi", NULL, 0, 0, NULL, 0,
	  "its object storage volume" },
	{ "s3", T_ENUM, 0, "garage", s3_servers, 0, 0, NULL, 0,
	  "S3 server: garage, seaweedfs, or minio (needs minio-image)" },
	{ "minio-image", T_IMAGE, 0, NULL, NULL, 0, 0, NULL, 0,
	  "a MinIO image you maintain (community images are gone)" },
	{ NULL },
};

static const struct field nextcloud_fields[] = {
	{ "enabled", T_BOOL, 0, "false", NULL, 0, 0, NULL, 0, "deploy it" },
	{ "host", T_HOST, 0, "nextcloud", NULL, 0, 0, NULL, 0, "host name" },
	{ "size", T_SIZE, 0, "100Gi", NULL, 0, 0, NULL, 0, "data volume" },
	{ NULL },
};

static const struct field grafana_fields[] = {
	{ "enabled", T_BOOL, 0, "true", NULL, 0, 0, NULL, 0, "deploy it" },
	{ "host", T_HOST, 0, "grafana", NULL, 0, 0, NULL, 0, "host name" },
	{ "size", T_SIZE, 0, "1Gi", NULL, 0, 0, NULL, 0,
	  "its volume (users, dashboards and alerts made in the UI)" },
	{ NULL },
};

static const struct field apps_fields[] = {
	{ "heimdall", T_MAP, 0, NULL, NULL, 0, 0, heimdall_fields, 0,
	  "team dashboard" },
	{ "postgres", T_MAP, 0, NULL, NULL, 0, 0, postgres_fields, 0,
	  "shared PostgreSQL (CloudNativePG)" },
	{ "n8n", T_MAP, 0, NULL, NULL, 0, 0, n8n_fields, 0,
	  "workflow automation with GPU-backed AI" },
	{ "nocodb", T_MAP, 0, NULL, NULL, 0, 0, nocodb_fields, 0,
	  "NocoDB on the shared PostgreSQL" },
	{ "appflowy", T_MAP, 0, NULL, NULL, 0, 0, appflowy_fields, 0,
	  "AppFlowy Cloud" },
	{ "nextcloud", T_MAP, 0, NULL, NULL, 0, 0, nextcloud_fields, 0,
	  "Nextcloud (optional)" },
	{ "grafana", T_MAP, 0, NULL, NULL, 0, 0, grafana_fields, 0,
	  "Grafana dashboards" },
	{ NULL },
};

static const struct field monitoring_fields[] = {
	{ "enabled", T_BOOL, 0, "true", NULL, 0, 0, NULL, 0,
	  "Prometheus, node and kube-state metrics, alert rules" },
	{ "retention", T_DURATION, 0, "15d", NULL, 0, 0, NULL, 0,
	  "how long Prometheus keeps samples" },
	{ "size", T_SIZE, 0, "50Gi", NULL, 0, 0, NULL, 0,
	  "Prometheus volume" },
	{ NULL },
};

static const struct field backup_fields[] = {
	{ "schedule", T_CRON, 0, "0 3 * * *", NULL, 0, 0, NULL, 0,
	  "when backups run (cron, cluster time)" },
	{ "keep", T_DURATION, 0, "30d", NULL, 0, 0, NULL, 0,
	  "how long backups are kept" },
	{ "target", T_URL, 0, NULL, NULL, 0, 0, NULL, 0,
	  "where backups go: nfs://host/path, s3://endpoint/bucket[/prefix] (HTTPS) or s3+http://endpoint/bucket; Velero only with s3" },
	{ "region", T_LABEL, 0, "us-east-1", NULL, 0, 0, NULL, 0,
	  "region of an s3 target's bucket (Garage: garage)" },
	{ "s3-secret", T_LABEL, 0, "backup-s3", NULL, 0, 0, NULL, 0,
	  "for an s3 target: Secret you create in namespaces velero and longhorn-system with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (the longhorn-system copy also AWS_ENDPOINTS: the endpoint URL)" },
	{ "dump-size", T_SIZE, 0, "10Gi", NULL, 0, 0, NULL, 0,
	  "volume for each PostgreSQL cluster's nightly dumps" },
	{ "drill-schedule", T_CRON, 0, "0 5 * * 0", NULL, 0, 0, NULL, 0,
	  "when the restore drill restores last night's dumps into a scratch database (weekly)" },
	{ "recipient", T_STR, 0, NULL, NULL, 0, 0, NULL, 0,
	  "X.509 certificate (PEM, inline or a path relative to the site file) `sector7 backup` encrypts Secrets to (docs/backup.md)" },
	{ "local-dir", T_STR, 0, NULL, NULL, 0, 0, NULL, 0,
	  "directory (relative to the site file) where `sector7 backup` puts backups when not given -o" },
	{ "legacy-namespace", T_LABEL, 0, "supabase", NULL, 0, 0, NULL, 0,
	  "namespace of the gameplan's legacy deployment, whose PostgreSQL `sector7 backup` dumps when it exists" },
	{ NULL },
};

static const struct field override_fields[] = {
	{ "from", T_IMAGE, F_REQUIRED, NULL, NULL, 0, 0, NULL, 0,
	  "an image reference as sector7 renders it" },
	{ "to", T_IMAGE, F_REQUIRED, NULL, NULL, 0, 0, NULL, 0,
	  "the reference to use instead" },
	{ NULL },
};

static const struct field images_fields[] = {
	{ "mirror", T_STR, 0, NULL, NULL, 0, 0, NULL, 0,
	  "a registry holding copies of every image as REGISTRY/PATH:TAG (the layout of skopeo sync --scoped), e.g. registry.lan:5000/mirror: every image reference is rewritten to it, digests kept" },
	{ "overrides", T_LIST, 0, "[]", NULL, 0, 0, override_fields, 0,
	  "exact image references replaced by others, before the mirror (an image you build yourself)" },
	{ "preloaded", T_BOOL, 0, "false", NULL, 0, 0, NULL, 0,
	  "the images are already on the nodes (k3s's air-gap image archives): no container asks to pull one it has (imagePullPolicy Always becomes IfNotPresent)" },
	{ NULL },
};

/*
 * Where alerts go: Alertmanager's receivers.  Credentials are never in the
 * site: each names a Secret the site's owner creates in namespace
 * monitoring, and the Prometheus operator reads it from there.
 */
static const struct field alert_email_fields[] = {
	{ "to", T_EMAIL, F_REQUIRED, NULL, NULL, 0, 0, NULL, 0,
	  "who gets the alert mails" },
	{ "from", T_EMAIL, F_REQUIRED, NULL, NULL, 0, 0, NULL, 0,
	  "the sender address" },
	{ "smtp-host", T_DNSNAME, F_REQUIRED, NULL, NULL, 0, 0, NULL, 0,
	  "the SMTP server that sends them (a name or an address)" },
	{ "smtp-port", T_INT, 0, "587", NULL, 1, 65535, NULL, 0,
	  "its port (587 submission, 465 TLS, 25 relay)" },
	{ "tls", T_ENUM, 0, "starttls", smtp_tls, 0, 0, NULL, 0,
	  "starttls (required), tls (TLS from the first byte, port 465) or none (a relay on the LAN)" },
	{ "username", T_STR, 0, NULL, NULL, 0, 0, NULL, 0,
	  "SMTP login (default: from); used with password-secret" },
	{ "password-secret", T_LABEL, 0, NULL, NULL, 0, 0, NULL, 0,
	  "Secret you create in namespace monitoring holding key password (no login without it)" },
	{ NULL },
};

static const struct field alert_webhook_fields[] = {
	{ "url", T_WEBURL, F_REQUIRED, NULL, NULL, 0, 0, NULL, 0,
	  "where Alertmanager POSTs each notification as JSON (http:// or https://)" },
	{ "token-secret", T_LABEL, 0, NULL, NULL, 0, 0, NULL, 0,
	  "Secret you create in namespace monitoring holding key token, sent as Authorization: Bearer" },
	{ NULL },
};

static const struct field alerts_fields[] = {
	{ "email", T_LIST, 0, "[]", NULL, 0, 0, alert_email_fields, 0,
	  "mail receivers" },
	{ "webhook", T_LIST, 0, "[]", NULL, 0, 0, alert_webhook_fields, 0,
	  "webhook receivers (a chat bridge, ntfy through a bridge, an incident tool)" },
	{ "send-resolved", T_BOOL, 0, "true", NULL, 0, 0, NULL, 0,
	  "also notify when an alert stops firing" },
	{ NULL },
};

const struct field site_schema[] = {
	{ "site", T_LABEL, F_REQUIRED, NULL, NULL, 0, 0, NULL, 0,
	  "short name; also the namespace of sector7's own objects" },
	{ "domain", T_DNSNAME, F_REQUIRED, NULL, NULL, 0, 0, NULL, 0,
	  "the domain every web host lives under" },
	{ "email", T_EMAIL, F_REQUIRED, NULL, NULL, 0, 0, NULL, 0,
	  "contact for Let's Encrypt and the admin accounts" },
	{ "k3s", T_MAP, 0, NULL, NULL, 0, 0, k3s_fields, 0, "k3s itself" },
	{ "network", T_MAP, F_REQUIRED, NULL, NULL, 0, 0, network_fields, 0,
	  "the LAN plan" },
	{ "nodes", T_LIST, F_REQUIRED, NULL, NULL, 0, 0, node_fields, 0,
	  "the machines of the cluster" },
	{ "ingress", T_ENUM, 0, "traefik", ingresses, 0, 0, NULL, 0,
	  "ingress controller: traefik (k3s's own) or ingress-nginx (retired)" },
	{ "tls", T_MAP, 0, NULL, NULL, 0, 0, tls_fields, 0,
	  "certificates" },
	{ "storage", T_MAP, 0, NULL, NULL, 0, 0, storage_fields, 0,
	  "replicated storage" },
	{ "gpu", T_MAP, 0, NULL, NULL, 0, 0, gpu_fields, 0,
	  "NVIDIA device plugin" },
	{ "apps", T_MAP, 0, NULL, NULL, 0, 0, apps_fields, 0,
	  "the applications" },
	{ "monitoring", T_MAP, 0, NULL, NULL, 0, 0, monitoring_fields, 0,
	  "Prometheus and alerting" },
	{ "backup", T_MAP, 0, NULL, NULL, 0, 0, backup_fields, 0,
	  "backups of volumes, objects and databases" },
	{ "images", T_MAP, 0, NULL, NULL, 0, 0, images_fields, 0,
	  "where images are pulled from (air-gapped sites)" },
	{ "alerts", T_MAP, 0, NULL, NULL, 0, 0, alerts_fields, 0,
	  "who Alertmanager notifies (every alert but Watchdog goes to each receiver)" },
	{ NULL },
};

const char *
stype_name(enum stype t)
{
	switch (t) {
	case T_STR: return "a string";
	case T_LABEL: return "a DNS label";
	case T_DNSNAME: return "a DNS name";
	case T_EMAIL: return "an email address";
	case T_IPV4: return "an IPv4 address";
	case T_CIDR: return "an IPv4 network (address/prefix)";
	case T_RANGE: return "an IPv4 range";
	case T_SIZE: return "a size (e.g. 20Gi)";
	case T_INT: return "an integer";
	case T_BOOL: return "a boolean";
	case T_ENUM: return "one of a fixed set of words";
	case T_HOST: return "a host name";
	case T_CRON: return "a cron schedule";
	case T_DURATION: return "a duration (e.g. 30d)";
	case T_URL: return "a URL";
	case T_IMAGE: return "a container image with a tag";
	case T_MAP: return "a mapping";
	case T_LIST: return "a list";
	case T_WEBURL: return "an http:// or https:// URL";
	}
	return "a value";
}
