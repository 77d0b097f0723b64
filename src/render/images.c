/*
 * Which strings are image references: the value of every `image` key of
 * an object (containers, init containers, CR fields such as Prometheus's
 * spec.image) and of `imageName` (CloudNativePG's Cluster).  Elsewhere an
 * image hides in an argument or an environment value (an operator's
 * --config-reloader-image=REF, OPERATOR_IMAGE_NAME): there only exact
 * overrides apply, to the whole value or to what follows the first '=',
 * because a mirror cannot tell a reference from other text.
 */
#include <string.h>

#include "images.h"
#include "../util/banned.h"

/* The registry part of ref: "" when it names none (Docker Hub). */
static size_t
registry_len(const char *ref)
{
	const char *slash = strchr(ref, '/');
	size_t n;

	if (slash == NULL)
		return 0;
	n = (size_t)(slash - ref);
	if (memchr(ref, '.', n) || memchr(ref, ':', n) ||
	    (n == 9 && strncmp(ref, "localhost", 9) == 0))
		return n;
	return 0;
}

const char *
image_rewrite(struct arena *a, const struct image_map *m, const char *ref)
{
	size_t i, rl;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->from[i], ref) == 0)
			return m->to[i];
	if (m->mirror == NULL || *ref == '\0')
		return NULL;
	rl = registry_len(ref);
	if (rl == 0)	/* Docker Hub, with its implicit library/ */
		return arena_printf(a, "%s/docker.io/%s%s", m->mirror,
		    strchr(ref, '/') ? "" : "library/", ref);
	if (strncmp(ref, m->mirror, strlen(m->mirror)) == 0 &&
	    ref[strlen(m->mirror)] == '/')
		return NULL;	/* already under the mirror */
	return arena_printf(a, "%s/%s", m->mirror, ref);
}

/* An exact override of a whole string, or of what follows its first '='. */
static const char *
override_in(struct arena *a, const struct image_map *m, const char *s)
{
	const char *eq = strchr(s, '=');
	size_t i;

	for (i = 0; i < m->n; i++) {
		if (strcmp(s, m->from[i]) == 0)
			return m->to[i];
		if (eq && strcmp(eq + 1, m->from[i]) == 0)
			return arena_printf(a, "%.*s%s", (int)(eq - s + 1), s,
			    m->to[i]);
	}
	return NULL;
}

/* Rewrites the tree in place; the number of strings changed. */
static size_t
walk(struct arena *a, const struct image_map *m, struct ynode *n, int image)
{
	const char *to;
	size_t i, changed = 0;

	if (n->kind == Y_SCALAR) {
		if (n->type != YT_STR)
			return 0;
		to = image ? image_rewrite(a, m, n->str) : override_in(a, m,
		    n->str);
		if (to == NULL || strcmp(to, n->str) == 0)
			return 0;
		n->str = arena_strdup(a, to);
		n->len = strlen(to);
		return 1;
	}
	if (n->kind == Y_SEQ) {
		for (i = 0; i < n->n; i++)
			changed += walk(a, m, n->v[i], 0);
		return changed;
	}
	for (i = 0; i < n->n; i++) {
		const char *k = n->v[2 * i]->str;
		struct ynode *v = n->v[2 * i + 1];

		if (m->preloaded && strcmp(k, "imagePullPolicy") == 0 &&
		    v->kind == Y_SCALAR && strcmp(v->str, "Always") == 0) {
			n->v[2 * i + 1] = ynode_str(a, "IfNotPresent");
			changed++;
			continue;
		}
		changed += walk(a, m, v,
		    strcmp(k, "image") == 0 || strcmp(k, "imageName") == 0);
	}
	return changed;
}

int
render_images(struct rendered *r, const struct image_map *m,
    struct s7_error *err)
{
	size_t i;

	if (m->mirror == NULL && m->n == 0 && !m->preloaded)
		return 0;
	for (i = 0; i < r->nobjs; i++) {
		struct robject *o = &r->objs[i];
		const struct ynode *t;

		if (o->obj == NULL) {
			/* From the parsed cache: it becomes a tree (a mirror
			 * changes nearly every workload anyway). */
			if (robject_tree(o, &r->arena, &t, err) < 0)
				return -1;
			o->obj = (struct ynode *)t;
			o->from = NULL;
			o->doc = NULL;
		}
		walk(&r->arena, m, o->obj, 0);
	}
	return 0;
}
