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

struct tmpl_file {
	const char *path;	/* "catalog/metallb/pool.yaml" */
	struct ynode **docs;
	size_t ndocs;
};

struct component {
	const char *name, *description, *when;
	int phase;
	const char **needs;
	size_t nneeds;
	const char **reads;
	size_t nreads;
	struct upstream_src *upstream;
	size_t nupstream;
	struct tmpl_file *tmpl;
	size_t ntmpl;
	struct gate *gates;
	size_t ngates;
	struct secret_spec *secrets;
	size_t nsecrets;
	const struct ynode *y;
};

struct catalog {
	struct arena arena;
	struct component *c;	/* in dependency order */
	size_t n;
};

#define PHASE_MAX 5

void catalog_init(struct catalog *cat);
void catalog_release(struct catalog *cat);
int catalog_load(struct catalog *cat, struct s7_error *err);
const struct component *catalog_find(const struct catalog *cat,
    const char *name);
const char *phase_name(int phase);

#endif
