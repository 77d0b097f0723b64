/*
 * Image references for a site that pulls from elsewhere than the public
 * registries (an air-gapped site, a registry of its own): the site's
 * `images.mirror` puts every image under the mirror, keeping the original
 * registry as the first path component and the tag and digest as they
 * are (what `skopeo sync --scoped` and similar tools lay out), and
 * `images.overrides` maps exact references to others (an image rebuilt
 * locally has another digest).  Applied by render to every object, so
 * nothing is ever edited after rendering.
 */
#ifndef S7_RENDER_IMAGES_H
#define S7_RENDER_IMAGES_H

#include "render.h"

struct image_map {
	const char *mirror;		/* "registry.lan:5000[/prefix]", or NULL */
	const char **from, **to;	/* overrides */
	size_t n;
	int preloaded;			/* imagePullPolicy Always -> IfNotPresent */
};

/*
 * The reference ref becomes, in a (NULL when it stays): an override of
 * exactly ref, else ref under the mirror.
 */
const char *image_rewrite(struct arena *a, const struct image_map *m,
    const char *ref);

/* Rewrites the image fields of every object of r; objects changed become trees. */
int render_images(struct rendered *r, const struct image_map *m,
    struct s7_error *err);

#endif
