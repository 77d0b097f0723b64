/*
 * Render: site + catalog -> the ordered list of Kubernetes objects, plus
 * the files for hosts, DNS and the firewall.  Pure: reads upstream
 * manifests from the local cache only (verified by sha256), never the
 * network.
 *
 * The rendered stack owns every object in its arena; rendered_release
 * frees it.  Objects are in apply order: components in catalog order,
 * kinds by kind_rank inside a component.
 */
#ifndef S7_RENDER_H
#define S7_RENDER_H

#include <stddef.h>
#include <stdio.h>

#include "../catalog/catalog.h"
#include "../site/site.h"
#include "../util/strbuf.h"

enum rsource { SRC_TEMPLATE, SRC_UPSTREAM, SRC_PATCHED };

/*
 * A rendered object.  An upstream object taken as it is may come from the
 * parsed cache (src/render/parsed.h) without a tree: obj is NULL and doc
 * says where its text is; robject_tree() parses it when one is needed.
 */
struct parsed;
struct parsed_doc;

struct robject {
	size_t comp;		/* index into rendered.comps */
	struct ynode *obj;	/* or NULL: see from and doc */
	const struct parsed *from;
	const struct parsed_doc *doc;
	const char *api_version, *kind, *name, *namespace;
	int rank;
	enum rsource src;
	const char *origin;	/* template path or upstream file */
	size_t seq;		/* order of appearance, for stable sorting */
};

/*
 * A readiness gate of an enabled component, its `when` and `address`
 * resolved for the site, so nothing after render evaluates templates.
 */
struct rgate {
	const char *type, *kind, *name, *namespace;
	const char *address;	/* loadbalancer: the address it must have */
};

struct rcomponent {
	const struct component *c;
	int enabled;
	unsigned index;		/* 1-based position in the catalog */
	size_t first, nobj;	/* range in rendered.objs */
	struct rgate *gates;	/* those whose `when` holds */
	size_t ngates;
	const struct secret_spec **secrets;	/* those whose `when` holds */
	size_t nsecrets;
};

struct render_opts {
	const char *upstream_dir;
	const char *version;
	/*
	 * Templates only, no upstream manifest (for check, which reads no
	 * cache): a $patch of an upstream object is kept in patches.
	 */
	int templates_only;
};

/* A $patch document kept by a templates-only render. */
struct rpatch {
	size_t comp;
	const char *kind, *name, *namespace;
	const struct ynode *body;	/* without $patch */
};

struct rendered {
	struct arena arena;
	struct catalog *cat;		/* what it was rendered from */
	struct ynode *ctx;
	struct rcomponent *comps;
	size_t ncomps;
	struct robject *objs;
	size_t nobjs, aobjs;
	struct rpatch *patches;		/* templates_only */
	size_t npatches, apatches;
	struct parsed **maps;		/* parsed-cache entries in use */
	size_t nmaps, amaps;
};

/*
 * The object as a tree: o->obj, or its JSON parsed into a (for objects
 * from the parsed cache).  The tree must not be changed when it is o's.
 */
int robject_tree(const struct robject *o, struct arena *a,
    const struct ynode **out, struct s7_error *err);

void rendered_init(struct rendered *r);
void rendered_release(struct rendered *r);
int render_stack(struct rendered *r, const struct site *s,
    struct catalog *cat, const struct render_opts *o,
    struct s7_error *err);

/* Relative path of an object's file in a render directory. */
const char *render_object_path(struct rendered *r, const struct robject *o);
/* The object as a YAML document (without "---"). */
int render_object_yaml(const struct robject *o, struct strbuf *sb,
    struct s7_error *err);
/* All objects as one YAML stream (for kubectl) written to fp. */
int render_stream(struct rendered *r, FILE *fp, struct s7_error *err);
/*
 * Writes the render directory: manifests/, host/, dns/, firewall/ and
 * SOURCES.  An existing directory is replaced only if it holds an earlier
 * render (the file SOURCES); the new tree is built beside it and renamed
 * into place, so a failed render leaves the old one intact.
 */
int render_write_dir(struct rendered *r, const struct site *s,
    const char *dir, size_t *nfiles, struct s7_error *err);

/* Default upstream cache: $SECTOR7_UPSTREAM, else ~/.cache/sector7/upstream. */
const char *render_default_upstream(void);

#endif
