/*
 * The tree is written the way render writes its directory: into
 * DIR.new-PID beside DIR, renamed into place when every file is there.
 * The Flux objects are built as node trees and written by the YAML
 * emitter, so what the site holds cannot change their structure.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flux.h"
#include "../catalog/template.h"
#include "../crypto/crypto.h"
#include "../util/fs.h"
#include "../util/strbuf.h"
#include "../util/text.h"
#include "../util/xmalloc.h"
#include "../version.h"
#include "../yaml/yaml.h"
#include "../util/banned.h"

#define FLUX_NS "flux-system"
#define MAX_COMPS 64

struct tree {
	struct rendered *r;
	const struct flux_opts *o;
	const char *root;		/* the temporary tree */
	struct strbuf sources;		/* SOURCES lines, in write order */
	size_t nfiles;
	struct arena *a;
};

static int
put(struct tree *t, const char *rel, const char *data, size_t len,
    struct s7_error *err)
{
	char *path = xasprintf("%s/%s", t->root, rel);
	char *dir = xstrdup(path);
	char sum[SHA256_HEXLEN];
	int ret = -1;

	*strrchr(dir, '/') = '\0';
	if (fs_mkdirs(dir, 0755, err) < 0)
		goto done;
	if (fs_exists(path)) {
		s7_error(err, "two exported files would both be '%s'", rel);
		goto done;
	}
	if (fs_write_atomic(path, data, len, 0644, err) < 0)
		goto done;
	sha256_hex(data, len, sum);
	strbuf_addf(&t->sources, "%s  %s\n", sum, rel);
	t->nfiles++;
	ret = 0;
done:
	free(path);
	free(dir);
	return ret;
}

static int
put_node(struct tree *t, const char *rel, const struct ynode *n,
    struct s7_error *err)
{
	struct strbuf sb;
	int ret;

	strbuf_init(&sb, STRBUF_LARGE);
	ret = yaml_emit(&sb, n, 0, err);
	if (ret == 0)
		ret = put(t, rel, sb.buf, sb.len, err);
	strbuf_release(&sb);
	return ret;
}

static const char *
comp_dir(struct tree *t, const struct rcomponent *rc)
{
	return arena_printf(t->a, "%02u-%s", rc->index, rc->c->name);
}

static const char *
flux_name(struct tree *t, const struct site *s, const struct rcomponent *rc)
{
	return arena_printf(t->a, "%s-%s", s->name, rc->c->name);
}

/* "./PATH/components/NN-name", PATH "." or "" meaning the root. */
static const char *
source_path(struct tree *t, const char *sub)
{
	const char *p = t->o->path ? t->o->path : ".";
	size_t l;

	while (p[0] == '.' && p[1] == '/')
		p += 2;
	l = strlen(p);
	while (l > 0 && p[l - 1] == '/')
		l--;
	if (l == 0 || (l == 1 && p[0] == '.'))
		return arena_printf(t->a, "./%s", sub);
	return arena_printf(t->a, "./%.*s/%s", (int)l, p, sub);
}

/* The apiVersion of a gate's object: the rendered one's, else by kind. */
static const char *
gate_api(struct rendered *r, const struct rgate *g)
{
	size_t i;

	for (i = 0; i < r->nobjs; i++) {
		const struct robject *o = &r->objs[i];

		if (strcmp(o->kind, g->kind) == 0 && strcmp(o->name, g->name) == 0 &&
		    strcmp(o->namespace ? o->namespace : "",
		    g->namespace ? g->namespace : "") == 0)
			return o->api_version;
	}
	if (strcmp(g->kind, "CustomResourceDefinition") == 0)
		return "apiextensions.k8s.io/v1";
	if (strcmp(g->kind, "Deployment") == 0 ||
	    strcmp(g->kind, "DaemonSet") == 0 ||
	    strcmp(g->kind, "StatefulSet") == 0)
		return "apps/v1";
	if (strcmp(g->kind, "Job") == 0)
		return "batch/v1";
	if (strcmp(g->kind, "Certificate") == 0)
		return "cert-manager.io/v1";
	return "v1";	/* Service, PersistentVolumeClaim */
}

/* What apply waits for before it starts component i: bit j for comp j. */
static void
dependencies(struct rendered *r, uint64_t *direct, uint64_t *closure)
{
	size_t i, j, k;
	int changed = 1;

	for (i = 0; i < r->ncomps; i++) {
		const struct rcomponent *rc = &r->comps[i];

		direct[i] = 0;
		if (!rc->enabled)
			continue;
		for (j = 0; j < r->ncomps; j++) {
			const struct rcomponent *d = &r->comps[j];

			if (j == i || !d->enabled)
				continue;
			if (d->c->phase < rc->c->phase)
				direct[i] |= (uint64_t)1 << j;
			for (k = 0; k < rc->c->nneeds; k++)
				if (strcmp(rc->c->needs[k], d->c->name) == 0)
					direct[i] |= (uint64_t)1 << j;
		}
		closure[i] = direct[i];
	}
	while (changed) {
		changed = 0;
		for (i = 0; i < r->ncomps; i++)
			for (j = 0; j < r->ncomps; j++)
				if ((closure[i] >> j & 1) &&
				    (closure[i] | closure[j]) != closure[i]) {
					closure[i] |= closure[j];
					changed = 1;
				}
	}
	/* Keep only what no other dependency already implies. */
	for (i = 0; i < r->ncomps; i++) {
		uint64_t keep = direct[i];

		for (j = 0; j < r->ncomps; j++)
			if (direct[i] >> j & 1)
				keep &= ~closure[j];
		direct[i] = keep;
	}
}

static struct ynode *
kv(struct arena *a, struct ynode *m, const char *k, const char *v)
{
	ynode_map_set(a, m, k, ynode_str(a, v));
	return m;
}

/* A Flux-level patch keeping objects of a kind when they leave the tree. */
static struct ynode *
keep_patch(struct arena *a, const char *api, const char *kind,
    struct s7_error *err)
{
	struct ynode *p = ynode_map(a), *meta = ynode_map(a), *ann = ynode_map(a);
	struct ynode *entry = ynode_map(a), *target = ynode_map(a);
	struct strbuf sb;
	struct ynode *text = NULL;

	kv(a, p, "apiVersion", api);
	kv(a, p, "kind", kind);
	kv(a, meta, "name", "any");
	kv(a, ann, "kustomize.toolkit.fluxcd.io/prune", "disabled");
	ynode_map_set(a, meta, "annotations", ann);
	ynode_map_set(a, p, "metadata", meta);
	strbuf_init(&sb, STRBUF_SMALL);
	if (yaml_emit(&sb, p, 0, err) == 0) {
		text = ynode_str(a, sb.buf);
		text->style = YS_LITERAL;
	}
	strbuf_release(&sb);
	if (text == NULL)
		return NULL;
	ynode_map_set(a, entry, "patch", text);
	kv(a, target, "kind", kind);
	ynode_map_set(a, entry, "target", target);
	return entry;
}

struct comp_info {
	struct ynode *health;	/* healthChecks, or NULL: wait */
	struct ynode *exprs;	/* healthCheckExprs, or NULL */
	int has_pvc, has_ns, has_job;
};

static int
component_checks(struct tree *t, size_t ci, struct comp_info *info,
    struct s7_error *err)
{
	struct rendered *r = t->r;
	struct arena *a = t->a;
	const struct rcomponent *rc = &r->comps[ci];
	size_t i;

	memset(info, 0, sizeof(*info));
	for (i = rc->first; i < rc->first + rc->nobj; i++) {
		const char *k = r->objs[i].kind;

		info->has_pvc |= strcmp(k, "PersistentVolumeClaim") == 0;
		info->has_ns |= strcmp(k, "Namespace") == 0;
		info->has_job |= strcmp(k, "Job") == 0;
	}
	/* The gates whose `when` holds, as render resolved them. */
	for (i = 0; i < rc->ngates; i++) {
		const struct rgate *g = &rc->gates[i];
		struct ynode *h;

		if (info->health == NULL)
			info->health = ynode_seq(a);
		h = ynode_map(a);
		kv(a, h, "apiVersion", gate_api(r, g));
		kv(a, h, "kind", g->kind);
		kv(a, h, "name", g->name);
		if (g->namespace)
			kv(a, h, "namespace", g->namespace);
		ynode_push(a, info->health, h);
		if (strcmp(g->type, "loadbalancer") == 0 && g->address) {
			struct ynode *e;

			/* Services of other types among the checks pass. */
			e = ynode_map(a);
			kv(a, e, "apiVersion", "v1");
			kv(a, e, "kind", "Service");
			ynode_map_set(a, e, "current", ynode_strf(a,
			    "spec.type != 'LoadBalancer' || (has(status.loadBalancer.ingress) && status.loadBalancer.ingress.exists(i, has(i.ip) && i.ip == '%s'))",
			    g->address));
			if (info->exprs == NULL)
				info->exprs = ynode_seq(a);
			ynode_push(a, info->exprs, e);
		}
	}
	return 0;
}

static struct ynode *
flux_kustomization(struct tree *t, const struct site *s, size_t ci,
    const uint64_t *deps, const struct comp_info *info, struct s7_error *err)
{
	struct rendered *r = t->r;
	struct arena *a = t->a;
	const struct rcomponent *rc = &r->comps[ci];
	struct ynode *k = ynode_map(a), *meta = ynode_map(a);
	struct ynode *labels = ynode_map(a), *spec = ynode_map(a);
	struct ynode *src = ynode_map(a);
	size_t j;

	kv(a, k, "apiVersion", "kustomize.toolkit.fluxcd.io/v1");
	kv(a, k, "kind", "Kustomization");
	kv(a, meta, "name", flux_name(t, s, rc));
	kv(a, meta, "namespace", FLUX_NS);
	kv(a, labels, "sector7.io/site", s->name);
	kv(a, labels, "sector7.io/component", rc->c->name);
	ynode_map_set(a, meta, "labels", labels);
	ynode_map_set(a, k, "metadata", meta);

	kv(a, spec, "interval", "10m");
	kv(a, spec, "retryInterval", "1m");
	kv(a, spec, "timeout", "15m");
	kv(a, spec, "path", source_path(t, arena_printf(a, "components/%s",
	    comp_dir(t, rc))));
	ynode_map_set(a, spec, "prune", ynode_bool(a, 1));
	kv(a, src, "kind", "GitRepository");
	kv(a, src, "name", t->o->source ? t->o->source : FLUX_NS);
	ynode_map_set(a, spec, "sourceRef", src);
	if (deps[ci]) {
		struct ynode *dl = ynode_seq(a);

		for (j = 0; j < r->ncomps; j++)
			if (deps[ci] >> j & 1) {
				struct ynode *d = ynode_map(a);

				kv(a, d, "name", flux_name(t, s, &r->comps[j]));
				ynode_push(a, dl, d);
			}
		ynode_map_set(a, spec, "dependsOn", dl);
	}
	if (info->health) {
		ynode_map_set(a, spec, "healthChecks", info->health);
		if (info->exprs)
			ynode_map_set(a, spec, "healthCheckExprs", info->exprs);
	} else {
		ynode_map_set(a, spec, "wait", ynode_bool(a, 1));
	}
	/* A Job's pod template cannot change in place: recreate it, as
	 * apply does. */
	if (info->has_job)
		ynode_map_set(a, spec, "force", ynode_bool(a, 1));
	if (info->has_pvc || info->has_ns) {
		struct ynode *pl = ynode_seq(a), *p;

		if (info->has_ns) {
			if ((p = keep_patch(a, "v1", "Namespace", err)) == NULL)
				return NULL;
			ynode_push(a, pl, p);
		}
		if (info->has_pvc) {
			if ((p = keep_patch(a, "v1", "PersistentVolumeClaim",
			    err)) == NULL)
				return NULL;
			ynode_push(a, pl, p);
		}
		ynode_map_set(a, spec, "patches", pl);
	}
	ynode_map_set(a, k, "spec", spec);
	return k;
}

static struct ynode *
kustomization(struct arena *a, struct ynode *resources)
{
	struct ynode *k = ynode_map(a);

	kv(a, k, "apiVersion", "kustomize.config.k8s.io/v1beta1");
	kv(a, k, "kind", "Kustomization");
	ynode_map_set(a, k, "resources", resources);
	return k;
}

static void
readme(struct tree *t, const struct site *s, const uint64_t *deps,
    const struct comp_info *infos, struct strbuf *sb)
{
	struct rendered *r = t->r;
	const char *f = t->o->site_file;
	const char *fopt = f ? arena_printf(t->a, " -f %s", f) : "";
	size_t i, j;

	strbuf_addf(sb, "# Flux tree of site %s\n\n", s->name);
	strbuf_addf(sb, "Written by `sector7 export --flux` (sector7 %s) from %s.\n"
	    "Do not edit: change the site and export again.\n\n",
	    SECTOR7_VERSION, f ? f : "the built-in site");
	strbuf_addstr(sb,
	    "- `flux/`: one Flux Kustomization per component (namespace `" FLUX_NS "`),\n"
	    "  in the order `sector7 apply` rolls them out: `dependsOn` holds what apply\n"
	    "  waits for first (the component's needs and the earlier phases).\n"
	    "- `components/NN-NAME/`: the component's objects, exactly as `sector7 render`\n"
	    "  writes them, and a `kustomization.yaml` listing them.\n"
	    "- `SOURCES`: the sha256 of every file.\n\n");
	strbuf_addstr(sb, "## Bootstrap\n\n");
	strbuf_addf(sb,
	    "1. Prepare the nodes from `sector7 render%s -o DIR`: `DIR/host/` holds each\n"
	    "   node's k3s configuration and Longhorn's prerequisites; Flux does not\n"
	    "   touch the hosts.\n", fopt);
	strbuf_addf(sb,
	    "2. Create the credentials. No Secret value is in this tree: the passwords,\n"
	    "   keys and tokens sector7 generates exist only in the cluster. Run, with\n"
	    "   the cluster's kubeconfig:\n\n"
	    "       sector7 secrets ensure%s\n\n"
	    "   It creates what is missing (and the namespaces it goes in) and never\n"
	    "   changes an existing value. Components whose Secrets are missing wait\n"
	    "   (their health checks fail and Flux tries again) until it has run.\n",
	    fopt);
	strbuf_addf(sb,
	    "3. Commit this tree to the repository of the GitRepository `%s`, at\n"
	    "   `%s`, and point Flux at `%s`, for example:\n\n"
	    "       flux create kustomization %s --source=GitRepository/%s \\\n"
	    "         --path=%s --prune=true --interval=10m\n\n",
	    t->o->source ? t->o->source : FLUX_NS,
	    source_path(t, ""), source_path(t, "flux"), s->name,
	    t->o->source ? t->o->source : FLUX_NS, source_path(t, "flux"));
	strbuf_addstr(sb,
	    "Namespaces and PersistentVolumeClaims carry\n"
	    "`kustomize.toolkit.fluxcd.io/prune: disabled` (a Flux patch, not in the\n"
	    "objects): Flux never deletes volumes, as `sector7 apply --prune` never does.\n"
	    "Flux checks a Service that a gate wants to have ready endpoints (an admission\n"
	    "webhook) only for existing; the Deployment behind it is checked for its\n"
	    "rollout.\n\n");
	strbuf_addstr(sb, "## Components\n\n| Kustomization | path | dependsOn | checks |\n|---|---|---|---|\n");
	for (i = 0; i < r->ncomps; i++) {
		const struct rcomponent *rc = &r->comps[i];
		int first = 1;

		if (!rc->enabled)
			continue;
		strbuf_addf(sb, "| %s | `%s` | ", flux_name(t, s, rc),
		    source_path(t, arena_printf(t->a, "components/%s",
		    comp_dir(t, rc))));
		for (j = 0; j < r->ncomps; j++)
			if (deps[i] >> j & 1) {
				strbuf_addf(sb, "%s%s", first ? "" : ", ",
				    flux_name(t, s, &r->comps[j]));
				first = 0;
			}
		if (first)
			strbuf_addstr(sb, "-");
		if (infos[i].health)
			strbuf_addf(sb, " | %zu health check%s%s |\n",
			    infos[i].health->n, infos[i].health->n == 1 ? "" : "s",
			    infos[i].exprs ?
			    " (the ingress address)" : "");
		else
			strbuf_addstr(sb, " | wait: every object ready |\n");
	}
}

static int
write_tree(struct tree *t, const struct site *s, struct s7_error *err)
{
	struct rendered *r = t->r;
	struct arena *a = t->a;
	uint64_t deps[MAX_COMPS], closure[MAX_COMPS];
	struct comp_info infos[MAX_COMPS];
	struct ynode *flux_res = ynode_seq(a);
	struct strbuf sb;
	size_t i, j;
	int ret = -1;

	if (r->ncomps > MAX_COMPS)
		return s7_error(err, "more than %d components", MAX_COMPS);
	dependencies(r, deps, closure);
	strbuf_init(&sb, STRBUF_LARGE);
	for (i = 0; i < r->ncomps; i++) {
		const struct rcomponent *rc = &r->comps[i];
		struct ynode *res, *fk;
		const char *dir;

		memset(&infos[i], 0, sizeof(infos[i]));
		if (!rc->enabled)
			continue;
		dir = comp_dir(t, rc);
		res = ynode_seq(a);
		for (j = rc->first; j < rc->first + rc->nobj; j++) {
			const struct robject *o = &r->objs[j];
			const char *p = strrchr(render_object_path(r, o), '/') + 1;

			strbuf_reset(&sb);
			if (render_object_yaml(o, &sb, err) < 0 ||
			    put(t, arena_printf(a, "components/%s/%s", dir, p),
			    sb.buf, sb.len, err) < 0)
				goto done;
			ynode_push(a, res, ynode_str(a, p));
		}
		if (put_node(t, arena_printf(a, "components/%s/kustomization.yaml",
		    dir), kustomization(a, res), err) < 0)
			goto done;
		if (component_checks(t, i, &infos[i], err) < 0)
			goto done;
		fk = flux_kustomization(t, s, i, deps, &infos[i], err);
		if (fk == NULL || put_node(t, arena_printf(a, "flux/%s.yaml", dir),
		    fk, err) < 0)
			goto done;
		ynode_push(a, flux_res, ynode_strf(a, "%s.yaml", dir));
	}
	if (put_node(t, "flux/kustomization.yaml", kustomization(a, flux_res),
	    err) < 0)
		goto done;
	strbuf_reset(&sb);
	readme(t, s, deps, infos, &sb);
	if (put(t, "README.md", sb.buf, sb.len, err) < 0)
		goto done;
	ret = 0;
done:
	strbuf_release(&sb);
	return ret;
}

int
export_flux(struct rendered *r, const struct site *s,
    const struct flux_opts *o, size_t *nfiles, struct s7_error *err)
{
	struct tree t;
	struct arena a;
	char *tmp = xasprintf("%s.new-%ld", o->dir, (long)getpid());
	char *sources = NULL;
	struct s7_error ignore;
	int exists, swapped, ret = -1;

	memset(&t, 0, sizeof(t));
	arena_init(&a);
	t.r = r;
	t.o = o;
	t.root = tmp;
	t.a = &a;
	strbuf_init(&t.sources, STRBUF_LARGE);
	strbuf_addf(&t.sources, "# sector7 export --flux of site '%s': sha256, file\n",
	    s->name);
	if (fs_replaceable_dir(o->dir, "SOURCES", "# sector7 export",
	    "earlier export (no SOURCES from sector7 export)", &exists, err) < 0)
		goto done;
	if (fs_remove_tree(tmp, err) < 0 || fs_mkdirs(tmp, 0755, err) < 0)
		goto done;
	if (write_tree(&t, s, err) < 0)
		goto fail;
	sources = xasprintf("%s/SOURCES", tmp);
	if (t.sources.overflow || fs_write_atomic(sources, t.sources.buf,
	    t.sources.len, 0644, err) < 0)
		goto fail;
	if ((swapped = fs_swap_dir(tmp, o->dir, exists, err)) < 0)
		goto fail;
	if (swapped > 0)
		goto done;
	*nfiles = t.nfiles + 1;
	ret = 0;
	goto done;
fail:
	fs_remove_tree(tmp, &ignore);
done:
	free(sources);
	strbuf_release(&t.sources);
	arena_release(&a);
	free(tmp);
	return ret;
}
