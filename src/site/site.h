/*
 * The site description: what the team has (network, nodes, domain) and
 * what it wants (apps, TLS, storage, backups).
 *
 * site_load parses and validates a site file against the schema in
 * schema.c, collecting every problem as a finding rather than stopping at
 * the first, and fills a typed struct site.  site_check (check.c) adds the
 * cross-field checks and the hazard warnings.  A struct site owns its
 * arena; site_release frees everything.
 */
#ifndef S7_SITE_H
#define S7_SITE_H

#include <stdint.h>

#include "findings.h"
#include "../util/arena.h"
#include "../util/ipv4.h"
#include "../yaml/node.h"

#define SITE_MAX_NODES 64

enum node_role { ROLE_SERVER, ROLE_AGENT };

struct site_node {
	const char *name;
	uint32_t ip;
	enum node_role role;
	long long gpus;
	uint64_t disk;		/* bytes; 0 when not declared */
	const struct ynode *y;	/* the node's mapping */
};

struct site_app {
	const char *name;	/* key under apps: */
	int enabled;
	const char *host;	/* "@" for the root domain; NULL: no web host */
	const char *fqdn;	/* NULL when no host */
	const struct ynode *y;	/* normalised mapping */
};

struct site {
	struct arena arena;
	const char *file;	/* name used in positions */
	struct ynode *root;	/* as parsed */
	struct ynode *norm;	/* with every default filled in */

	const char *name, *domain, *email;
	uint32_t subnet, gateway, public_ip, ingress_ip;
	unsigned prefix;
	struct ipv4_range pool;
	uint32_t *reserved;
	size_t nreserved;
	struct site_node *nodes;
	size_t nnodes;
	struct site_app *apps;
	size_t napps;
	long long replicas;
	long long gpu_nodes;	/* nodes with gpus > 0 */
};

void site_init(struct site *s);
void site_release(struct site *s);

/*
 * Parses buf (named `file` in positions) into s.  Every problem found is
 * added to f.  Returns 0 when there were no errors, -1 otherwise; on -1
 * the typed fields may be partly filled and must not be used for render.
 */
int site_load(struct site *s, const char *file, const char *buf, size_t len,
    struct findings *f);
/* Cross-field checks, warnings and notes; call after a clean site_load. */
void site_check(const struct site *s, struct findings *f);

const struct site_app *site_app(const struct site *s, const char *name);
int site_app_enabled(const struct site *s, const char *name);
/* Value at a dotted path in the normalised tree, or NULL. */
const struct ynode *site_get(const struct site *s, const char *path);
/* Node in the file as written (for positions), or NULL. */
const struct ynode *site_at(const struct site *s, const char *path);

/* Kubernetes quantity ("20Gi", "500G", "1000") in bytes; -1 if invalid. */
int site_parse_size(const char *s, uint64_t *bytes);
/* Durations like "30d", "12h", "2w" in hours; -1 if invalid. */
int site_parse_duration(const char *s, long long *hours);

#endif
