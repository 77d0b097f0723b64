/*
 * The catalog: one component per folder under catalog/, compiled into the
 * binary.  A component's descriptor (component.yaml, see
 * docs/catalog.md) names what it needs, its phase, when it applies, the
 * site keys it reads, its pinned upstream manifests and its templates.
 *
 * catalog_load parses and checks every descriptor and template and orders
 * the components so that each comes after what it needs.  The catalog
 * owns everything in its arena.
 */
#ifndef S7_CATALOG_H
#define S7_CATALOG_H

#include <stddef.h>

#include "../util/arena.h"
#include "../util/error.h"
#include "../yaml/node.h"

struct upstream_src {
	const char *url;	/* pinned release URL */
	const char *sha256;	/* of the file at that URL */
	const char *file;	/* path in the upstream cache */
	const char *when;	/* expression, NULL: always */
	const struct ynode *at;
};

/* A readiness gate kstatus does not know (see src/plan/). */
struct gate {
	const char *type;	/* established, loadbalancer, endpoints, ... */
	const char *kind, *name, *namespace;
	const char *when;	/* expression, NULL: always */
	const char *address;	/* loadbalancer: expression of the address */
	const struct ynode *at;
};

/*
 * A credential the component needs, generated once by `secrets ensure`.
 * GEN_PASSWORD is alnum plus "-_." with at least one upper and lower case
 * letter, digit and sign (the rules applications put on passwords);
 * GEN_BCRYPT is not random but derived: the bcrypt hash of another key of
 * the same secret, for applications that take a hash, not a password.
 */
enum secret_gen {
	GEN_ALNUM, GEN_HEX, GEN_BASE64, GEN_VALUE, GEN_PASSWORD, GEN_BCRYPT
};

struct secret_key {
	const char *key;
	enum secret_gen gen;
	long n;			/* characters (alnum, hex) or bytes (base64) */
	const char *value;	/* GEN_VALUE: a fixed, non-secret value */
	size_t from;		/* GEN_BCRYPT: index of the key it hashes */
};

struct secret_spec {
	const char *name, *namespace, *type, *when;
	struct secret_key *keys;
	size_t nkeys;
	const char **also;	/* namespaces that get a copy */
	size_t nalso;
	const struct ynode *at;
};

/*
 * How objects of a kind claim volumes, for the storage budget: the size
 * at a path, times the count at another (1 when absent).  PVCs and
 * StatefulSets' claim templates are known without a rule.
 */
struct claim_rule {
	const char *kind;
	const char *size, *copies;	/* dotted paths in the object */
};

/*
 * Readiness of a kind that reports it in one field (CloudNativePG's
 * Database: status.applied): true is ready, false failed (with the
 * message at `message`), absent still in progress.
 */
struct ready_rule {
	const char *kind, *group;
	const char *field, *message;
};

struct tmpl_file {
	const char *path;	/* "catalog/metallb/pool.yaml" */
	struct ynode **docs;
	size_t ndocs;
};

struct component {
	const char *name, *description, *when;
	int phase;
	const char **needs;
	const char **needs_why;	/* why each is needed, or NULL */
	size_t nneeds;
	const struct ynode *context;	/* facts it adds to the context */
	struct upstream_src *upstream;
	size_t nupstream;
	struct tmpl_file *tmpl;
	size_t ntmpl;
	struct gate *gates;
	size_t ngates;
	struct secret_spec *secrets;
	size_t nsecrets;
	struct claim_rule *claims;
	size_t nclaims;
	struct ready_rule *readiness;
	size_t nreadiness;
	const struct ynode *y;
};

struct catalog {
	struct arena arena;
	struct component *c;	/* in dependency order */
	size_t n;
	const char **phases;	/* phases[1..nphases]: the gameplan's phases */
	int nphases;
	struct tmpl_file *lib;	/* shared templates (catalog/lib/), by $use */
	size_t nlib, alib;
};

void catalog_init(struct catalog *cat);
void catalog_release(struct catalog *cat);
int catalog_load(struct catalog *cat, struct s7_error *err);
/* Only the phases (catalog/phases.yaml), for help. */
int catalog_load_phases(struct catalog *cat, struct s7_error *err);
const struct component *catalog_find(const struct catalog *cat,
    const char *name);
/* The name of a phase (1-based), or "?". */
const char *phase_name(const struct catalog *cat, int phase);
/* A shared template of catalog/lib/, parsed once; NULL if there is none. */
const struct tmpl_file *catalog_lib(struct catalog *cat, const char *name,
    struct s7_error *err);

#endif
