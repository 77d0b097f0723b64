#include <string.h>

#include "context.h"
#include "../util/ipv4.h"
#include "../util/strnum.h"
#include "../util/text.h"
#include "../util/banned.h"

/*
 * The parts of backup.target that templates need: Longhorn wants
 * nfs://host:/path and s3://bucket@region/prefix/, Velero an endpoint URL
 * and a bucket.  The site's form is validated by the loader.
 */
static void
backup_target(struct arena *a, struct ynode *backup)
{
	const char *t = ynode_get_str(backup, "target"), *rest, *slash;
	const char *region = ynode_get_str(backup, "region");
	int http = 0;
	size_t n;

	if (t == NULL)
		return;
	if (text_has_prefix(t, "nfs://")) {
		rest = t + 6;
		slash = strchr(rest, '/');
		ynode_map_set(a, backup, "target-kind", ynode_str(a, "nfs"));
		n = (size_t)(slash - rest);
		if (n > 0 && rest[n - 1] == ':')	/* already nfs://host:/path */
			n--;
		ynode_map_set(a, backup, "longhorn-url", ynode_strf(a,
		    "nfs://%s:%s", arena_strndup(a, rest, n), slash));
		return;
	}
	if (text_has_prefix(t, "s3+http://")) {
		rest = t + 10;
		http = 1;
	} else
		rest = t + 5;
	slash = strchr(rest, '/');
	{
		const char *host = arena_strndup(a, rest, (size_t)(slash - rest));
		const char *bucket = slash + 1, *end = strchr(bucket, '/');
		const char *b = end ? arena_strndup(a, bucket, (size_t)(end - bucket)) :
		    bucket;
		const char *prefix = end && end[1] ? end + 1 : NULL;

		ynode_map_set(a, backup, "target-kind", ynode_str(a, "s3"));
		ynode_map_set(a, backup, "s3-url", ynode_strf(a, "%s://%s",
		    http ? "http" : "https", host));
		ynode_map_set(a, backup, "s3-bucket", ynode_str(a, b));
		if (prefix) {
			n = strlen(prefix);
			while (n > 0 && prefix[n - 1] == '/')
				n--;
			prefix = arena_strndup(a, prefix, n);
			ynode_map_set(a, backup, "s3-prefix", ynode_str(a, prefix));
		}
		ynode_map_set(a, backup, "longhorn-url", ynode_strf(a,
		    "s3://%s@%s/%s%s", b, region ? region : "us-east-1",
		    prefix ? prefix : "", prefix ? "/" : ""));
	}
}

struct ynode *
context_build(struct arena *a, const struct site *s, const char *version)
{
	struct ynode *ctx = ynode_copy(a, s->norm);
	struct ynode *apps = ynode_get(ctx, "apps");
	struct ynode *backup = ynode_get(ctx, "backup");
	struct ynode *net = ynode_get(ctx, "network");
	struct ynode *cluster = ynode_map(a), *names = ynode_seq(a);
	struct ynode *gpu = ynode_seq(a), *servers = ynode_seq(a);
	struct ynode *me = ynode_map(a);
	char ip[IPV4_STRLEN];
	long long hours = 0;
	size_t i;

	for (i = 0; i < s->napps; i++) {
		struct ynode *app = ynode_get(apps, s->apps[i].name);

		if (s->apps[i].fqdn) {
			ynode_map_set(a, app, "fqdn", ynode_str(a, s->apps[i].fqdn));
			ynode_map_set(a, app, "url", ynode_strf(a, "https://%s",
			    s->apps[i].fqdn));
		}
	}
	for (i = 0; i < s->nnodes; i++) {
		ynode_push(a, names, ynode_str(a, s->nodes[i].name));
		if (s->nodes[i].gpus > 0)
			ynode_push(a, gpu, ynode_str(a, s->nodes[i].name));
		if (s->nodes[i].role == ROLE_SERVER)
			ynode_push(a, servers, ynode_str(a, s->nodes[i].name));
	}
	ynode_map_set(a, cluster, "nodes", names);
	ynode_map_set(a, cluster, "servers", servers);
	ynode_map_set(a, cluster, "gpu-nodes", gpu);
	ynode_map_set(a, cluster, "has-gpu", ynode_bool(a, gpu->n > 0));
	ynode_map_set(a, cluster, "node-count", ynode_int(a, (long long)s->nnodes));
	ynode_map_set(a, ctx, "cluster", cluster);

	ipv4_format(s->ingress_ip, ip);
	ynode_map_set(a, net, "ingress-ip", ynode_str(a, ip));
	site_parse_duration(ynode_get_str(backup, "keep"), &hours);
	ynode_map_set(a, backup, "keep-hours", ynode_int(a, hours));
	ynode_map_set(a, backup, "keep-days", ynode_int(a,
	    hours / 24 > 0 ? hours / 24 : 1));
	backup_target(a, backup);

	ynode_map_set(a, me, "version", ynode_str(a, version));
	ynode_map_set(a, me, "namespace", ynode_str(a, s->name));
	ynode_map_set(a, ctx, "sector7", me);
	return ctx;
}
