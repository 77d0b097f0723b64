/*
 * The rendered stack as a Flux tree: one Flux Kustomization
 * (kustomize.toolkit.fluxcd.io/v1) per enabled component, each pointing
 * at a directory holding that component's rendered objects and a
 * kustomization.yaml that lists them, so `kustomize build` of the
 * directory gives exactly the objects `sector7 render` gives.
 *
 *   DIR/README.md                 what the tree is and how to bootstrap it
 *   DIR/flux/kustomization.yaml   lists the Flux Kustomizations below
 *   DIR/flux/NN-COMPONENT.yaml    one Flux Kustomization
 *   DIR/components/NN-COMPONENT/  kustomization.yaml and one file per object
 *   DIR/SOURCES                   sha256 of every file (marks an export)
 *
 * dependsOn holds what apply waits for before it starts the component: its
 * needs and the components of earlier phases (the fewest Kustomizations
 * that imply all of them).  healthChecks come from the component's
 * readiness gates; a component without gates gets wait: true.  No Secret
 * values: the credentials sector7 generates are never rendered, so the
 * tree tells how to create them (`sector7 secrets ensure`).
 *
 * export_flux writes the tree beside DIR and renames it into place; an
 * existing DIR is replaced only when it holds an earlier export.
 */
#ifndef S7_EXPORT_FLUX_H
#define S7_EXPORT_FLUX_H

#include <stddef.h>

#include "../render/render.h"
#include "../site/site.h"

struct flux_opts {
	const char *dir;
	const char *source;	/* GitRepository name (default flux-system) */
	const char *path;	/* where DIR sits in the repository ("." root) */
	const char *site_file;	/* for the README's commands, NULL: built-in */
};

int export_flux(struct rendered *r, const struct site *s,
    const struct flux_opts *o, size_t *nfiles, struct s7_error *err);

#endif
