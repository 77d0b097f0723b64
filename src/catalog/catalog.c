/*
 * Descriptors are small and read once per run, so they are validated by
 * hand here rather than through a schema engine.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "embedded.h"
#include "../util/strnum.h"
#include "../util/text.h"
#include "../util/xmalloc.h"
#include "../yaml/yaml.h"
#include "../util/banned.h"

static const char *const desc_keys[] = {
	"name", "description", "phase", "needs", "when", "context", "upstream",
	"templates", "ready", "secrets", "claims", "readiness", "checks", NULL,
};
static const char *const claim_keys[] = { "kind", "size", "copies", NULL };
static const char *const readiness_keys[] = {
	"kind", "group", "field", "message", NULL,
};
static const char *const secret_keys[] = {
	"name", "namespace", "type", "when", "keys", "also", NULL,
};
static const char *const upstream_keys[] = {
	"url", "sha256", "file", "when", NULL,
};
static const char *const gate_keys[] = {
	"type", "kind", "name", "namespace", "when", "address", NULL,
};
static const char *const gate_types[] = {
	"established", "loadbalancer", "endpoints", "certificate", "job",
	"bound", "rollout", NULL,
};

const struct embedded_file *
embedded_find(const char *path)
{
	const struct embedded_file *f;

	for (f = embedded_files; f->path; f++)
		if (strcmp(f->path, path) == 0)
			return f;
	return NULL;
}

void
catalog_init(struct catalog *cat)
{
	memset(cat, 0, sizeof(*cat));
	arena_init(&cat->arena);
}

void
catalog_release(struct catalog *cat)
{
	arena_release(&cat->arena);
	memset(cat, 0, sizeof(*cat));
}

const char *
phase_name(const struct catalog *cat, int phase)
{
	return cat && phase >= 1 && phase <= cat->nphases ?
	    cat->phases[phase] : "?";
}

static int
at_error(struct s7_error *err, const struct ynode *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
at_error(struct s7_error *err, const struct ynode *at, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return s7_error_at(err, at->file, at->line, at->col, "%s", msg);
}

static int
check_keys(const struct ynode *m, const char *const *keys, const char *what,
    struct s7_error *err)
{
	size_t i;

	if (m->kind != Y_MAP)
		return at_error(err, m, "%s must be a mapping", what);
	for (i = 0; i < m->n; i++) {
		const struct ynode *k = m->v[2 * i];
		const char *const *p;

		for (p = keys; *p; p++)
			if (strcmp(*p, k->str) == 0)
				break;
		if (*p == NULL)
			return at_error(err, k, "unknown key '%s' in %s", k->str,
			    what);
	}
	return 0;
}

static const char *
req_str(const struct ynode *m, const char *key, struct s7_error *err)
{
	const struct ynode *v = ynode_get(m, key);

	if (v == NULL) {
		at_error(err, m, "missing '%s'", key);
		return NULL;
	}
	if (v->kind != Y_SCALAR || v->type != YT_STR) {
		at_error(err, v, "'%s' must be a string", key);
		return NULL;
	}
	return v->str;
}

static int
str_list(struct arena *a, const struct ynode *m, const char *key,
    const char ***out, size_t *n, struct s7_error *err)
{
	const struct ynode *v = ynode_get(m, key);
	size_t i;

	*out = NULL;
	*n = 0;
	if (v == NULL)
		return 0;
	if (v->kind != Y_SEQ)
		return at_error(err, v, "'%s' must be a list", key);
	*out = arena_array(a, v->n + 1, sizeof(**out));
	for (i = 0; i < v->n; i++) {
		if (v->v[i]->kind != Y_SCALAR || v->v[i]->type != YT_STR)
			return at_error(err, v->v[i], "'%s' items must be strings",
			    key);
		(*out)[i] = v->v[i]->str;
	}
	*n = v->n;
	return 0;
}

/* needs: [a, b], or {a: why, b: why} when the reason is worth saying. */
static int
load_needs(struct arena *a, struct component *c, const struct ynode *y,
    struct s7_error *err)
{
	const struct ynode *v = ynode_get(y, "needs");
	size_t i;

	if (v == NULL || v->kind != Y_MAP)
		return str_list(a, y, "needs", &c->needs, &c->nneeds, err);
	c->needs = arena_array(a, v->n + 1, sizeof(*c->needs));
	c->needs_why = arena_array(a, v->n + 1, sizeof(*c->needs_why));
	for (i = 0; i < v->n; i++) {
		const struct ynode *why = v->v[2 * i + 1];

		if (why->kind != Y_SCALAR || why->type != YT_STR)
			return at_error(err, why,
			    "the reason '%s' is needed must be a string",
			    v->v[2 * i]->str);
		c->needs[i] = v->v[2 * i]->str;
		c->needs_why[i] = why->str;
	}
	c->nneeds = v->n;
	return 0;
}

static int
load_claims(struct arena *a, struct component *c, const struct ynode *y,
    struct s7_error *err)
{
	const struct ynode *v = ynode_get(y, "claims");
	size_t i;

	if (v == NULL)
		return 0;
	if (v->kind != Y_SEQ)
		return at_error(err, v, "'claims' must be a list");
	c->claims = arena_array(a, v->n + 1, sizeof(*c->claims));
	for (i = 0; i < v->n; i++) {
		struct claim_rule *cr = &c->claims[i];

		if (check_keys(v->v[i], claim_keys, "a claim rule", err) < 0)
			return -1;
		if ((cr->kind = req_str(v->v[i], "kind", err)) == NULL ||
		    (cr->size = req_str(v->v[i], "size", err)) == NULL)
			return -1;
		cr->copies = ynode_get_str(v->v[i], "copies");
	}
	c->nclaims = v->n;
	return 0;
}

static int
load_readiness(struct arena *a, struct component *c, const struct ynode *y,
    struct s7_error *err)
{
	const struct ynode *v = ynode_get(y, "readiness");
	size_t i;

	if (v == NULL)
		return 0;
	if (v->kind != Y_SEQ)
		return at_error(err, v, "'readiness' must be a list");
	c->readiness = arena_array(a, v->n + 1, sizeof(*c->readiness));
	for (i = 0; i < v->n; i++) {
		struct ready_rule *rr = &c->readiness[i];

		if (check_keys(v->v[i], readiness_keys, "a readiness rule",
		    err) < 0)
			return -1;
		if ((rr->kind = req_str(v->v[i], "kind", err)) == NULL ||
		    (rr->group = req_str(v->v[i], "group", err)) == NULL ||
		    (rr->field = req_str(v->v[i], "field", err)) == NULL)
			return -1;
		rr->message = ynode_get_str(v->v[i], "message");
	}
	c->nreadiness = v->n;
	return 0;
}

static int
load_upstream(struct arena *a, struct component *c, const struct ynode *y,
    struct s7_error *err)
{
	const struct ynode *v = ynode_get(y, "upstream");
	size_t i, j;

	if (v == NULL)
		return 0;
	if (v->kind != Y_SEQ)
		return at_error(err, v, "'upstream' must be a list");
	c->upstream = arena_array(a, v->n + 1, sizeof(*c->upstream));
	for (i = 0; i < v->n; i++) {
		const struct ynode *u = v->v[i];
		struct upstream_src *s = &c->upstream[i];

		if (check_keys(u, upstream_keys, "an upstream entry", err) < 0)
			return -1;
		if ((s->url = req_str(u, "url", err)) == NULL ||
		    (s->sha256 = req_str(u, "sha256", err)) == NULL ||
		    (s->file = req_str(u, "file", err)) == NULL)
			return -1;
		s->when = ynode_get_str(u, "when");
		s->at = u;
		if (!text_has_prefix(s->url, "https://"))
			return at_error(err, ynode_get(u, "url"),
			    "upstream url '%s' must use https", s->url);
		if (strlen(s->sha256) != 64 ||
		    strspn(s->sha256, "0123456789abcdef") != 64)
			return at_error(err, ynode_get(u, "sha256"),
			    "'%s' is not a lowercase sha256 digest", s->sha256);
		if (s->file[0] == '/' || strstr(s->file, ".."))
			return at_error(err, ynode_get(u, "file"),
			    "upstream file '%s' must be a relative path without '..'",
			    s->file);
	}
	c->nupstream = v->n;
	for (i = 0; i < c->nupstream; i++)
		for (j = 0; j < i; j++)
			if (strcmp(c->upstream[i].file, c->upstream[j].file) == 0)
				return at_error(err, c->upstream[i].at,
				    "upstream file '%s' is listed twice",
				    c->upstream[i].file);
	return 0;
}

static int
load_gates(struct arena *a, struct component *c, const struct ynode *y,
    struct s7_error *err)
{
	const struct ynode *v = ynode_get(y, "ready");
	size_t i;

	if (v == NULL)
		return 0;
	if (v->kind != Y_SEQ)
		return at_error(err, v, "'ready' must be a list");
	c->gates = arena_array(a, v->n + 1, sizeof(*c->gates));
	for (i = 0; i < v->n; i++) {
		const struct ynode *g = v->v[i];
		struct gate *gt = &c->gates[i];
		const char *const *t;

		if (check_keys(g, gate_keys, "a readiness gate", err) < 0)
			return -1;
		if ((gt->type = req_str(g, "type", err)) == NULL ||
		    (gt->kind = req_str(g, "kind", err)) == NULL ||
		    (gt->name = req_str(g, "name", err)) == NULL)
			return -1;
		gt->namespace = ynode_get_str(g, "namespace");
		gt->when = ynode_get_str(g, "when");
		gt->address = ynode_get_str(g, "address");
		gt->at = g;
		for (t = gate_types; *t; t++)
			if (strcmp(*t, gt->type) == 0)
				break;
		if (*t == NULL)
			return at_error(err, ynode_get(g, "type"),
			    "unknown readiness gate '%s'", gt->type);
	}
	c->ngates = v->n;
	return 0;
}

static int
load_secrets(struct arena *a, struct component *c, const struct ynode *y,
    struct s7_error *err)
{
	const struct ynode *v = ynode_get(y, "secrets");
	size_t i, j;

	if (v == NULL)
		return 0;
	if (v->kind != Y_SEQ)
		return at_error(err, v, "'secrets' must be a list");
	c->secrets = arena_array(a, v->n + 1, sizeof(*c->secrets));
	for (i = 0; i < v->n; i++) {
		const struct ynode *sy = v->v[i], *keys;
		struct secret_spec *sp = &c->secrets[i];

		if (check_keys(sy, secret_keys, "a secret", err) < 0)
			return -1;
		if ((sp->name = req_str(sy, "name", err)) == NULL ||
		    (sp->namespace = req_str(sy, "namespace", err)) == NULL)
			return -1;
		sp->type = ynode_get_str(sy, "type");
		sp->when = ynode_get_str(sy, "when");
		sp->at = sy;
		if (str_list(a, sy, "also", &sp->also, &sp->nalso, err) < 0)
			return -1;
		keys = ynode_get(sy, "keys");
		if (keys == NULL || keys->kind != Y_MAP || keys->n == 0)
			return at_error(err, sy, "secret '%s' needs keys", sp->name);
		sp->keys = arena_array(a, keys->n + 1, sizeof(*sp->keys));
		for (j = 0; j < keys->n; j++) {
			const struct ynode *kv = keys->v[2 * j + 1];
			struct secret_key *k = &sp->keys[j];
			const char *gen = ynode_get_str(kv, "generate");
			const char *from = ynode_get_str(kv, "bcrypt");
			const char *err_s = NULL;
			const struct ynode *len = ynode_get(kv, "length");
			size_t l;

			k->key = keys->v[2 * j]->str;
			k->value = ynode_get_str(kv, "value");
			if (k->value) {
				k->gen = GEN_VALUE;
				continue;
			}
			if (from) {
				/* A hash of a key above it, itself not derived. */
				for (l = 0; l < j; l++)
					if (strcmp(sp->keys[l].key, from) == 0 &&
					    sp->keys[l].gen != GEN_BCRYPT)
						break;
				if (l == j)
					return at_error(err, kv,
					    "'%s' hashes '%s', which must be a key "
					    "of this secret above it", k->key, from);
				k->gen = GEN_BCRYPT;
				k->from = l;
				continue;
			}
			if (gen == NULL || len == NULL || len->kind != Y_SCALAR)
				return at_error(err, kv,
				    "secret key '%s' needs generate and length, "
				    "value, or bcrypt", k->key);
			if (strcmp(gen, "alnum") == 0)
				k->gen = GEN_ALNUM;
			else if (strcmp(gen, "hex") == 0)
				k->gen = GEN_HEX;
			else if (strcmp(gen, "base64") == 0)
				k->gen = GEN_BASE64;
			else if (strcmp(gen, "password") == 0)
				k->gen = GEN_PASSWORD;
			else
				return at_error(err, kv, "unknown generator '%s' "
				    "(alnum, hex, base64, password)", gen);
			k->n = (long)s7_strtonum(len->str, 16, 512, &err_s);
			if (err_s)
				return at_error(err, len,
				    "length '%s' must be 16 to 512", len->str);
		}
		sp->nkeys = keys->n;
	}
	c->nsecrets = v->n;
	return 0;
}

static int
load_templates(struct arena *a, struct component *c, const char *dir,
    const struct ynode *y, struct s7_error *err)
{
	const char **names;
	size_t n, i;

	if (str_list(a, y, "templates", &names, &n, err) < 0)
		return -1;
	c->tmpl = arena_array(a, n + 1, sizeof(*c->tmpl));
	for (i = 0; i < n; i++) {
		const struct embedded_file *f;
		struct ydocs docs;
		char *path = arena_printf(a, "%s/%s", dir, names[i]);

		if (strchr(names[i], '/') || (f = embedded_find(path)) == NULL)
			return at_error(err, ynode_get(y, "templates")->v[i],
			    "template '%s' is not in %s", names[i], dir);
		if (yaml_parse(a, path, f->data, f->len, &docs, err) < 0)
			return -1;
		c->tmpl[i].path = path;
		c->tmpl[i].docs = docs.doc;
		c->tmpl[i].ndocs = docs.n;
	}
	c->ntmpl = n;
	return 0;
}

static int
load_component(struct arena *a, struct component *c, const char *path,
    const struct embedded_file *f, int nphases, struct s7_error *err)
{
	struct ynode *y;
	const char *dir, *slash, *err_s;
	const struct ynode *ph;

	if (yaml_parse_one(a, path, f->data, f->len, &y, err) < 0)
		return -1;
	if (check_keys(y, desc_keys, "a component descriptor", err) < 0)
		return -1;
	c->y = y;
	if ((c->name = req_str(y, "name", err)) == NULL ||
	    (c->description = req_str(y, "description", err)) == NULL)
		return -1;
	slash = strrchr(path, '/');
	dir = arena_strndup(a, path, (size_t)(slash - path));
	if (strcmp(strrchr(dir, '/') + 1, c->name) != 0)
		return at_error(err, ynode_get(y, "name"),
		    "component '%s' must live in catalog/%s/", c->name, c->name);
	ph = ynode_get(y, "phase");
	if (ph == NULL || ph->kind != Y_SCALAR)
		return at_error(err, y, "missing 'phase'");
	c->phase = (int)s7_strtonum(ph->str, 1, nphases, &err_s);
	if (err_s)
		return at_error(err, ph, "phase '%s' must be 1 to %d (catalog/phases.yaml)",
		    ph->str, nphases);
	c->when = ynode_get_str(y, "when");
	c->context = ynode_get(y, "context");
	if (c->context && c->context->kind != Y_MAP)
		return at_error(err, c->context, "'context' must be a mapping");
	if (load_needs(a, c, y, err) < 0 ||
	    load_claims(a, c, y, err) < 0 ||
	    load_readiness(a, c, y, err) < 0 ||
	    load_upstream(a, c, y, err) < 0 ||
	    load_gates(a, c, y, err) < 0 ||
	    load_secrets(a, c, y, err) < 0 ||
	    load_templates(a, c, dir, y, err) < 0)
		return -1;
	return 0;
}

static int
cmp_phase_name(const void *x, const void *y)
{
	const struct component *a = x, *b = y;

	if (a->phase != b->phase)
		return a->phase - b->phase;
	return strcmp(a->name, b->name);
}

/*
 * Orders components so needs come first; among those ready at the same
 * time, lower phase then name first (Kahn's algorithm over a sorted list,
 * so the order is the same on every run).
 */
static int
order(struct catalog *cat, struct s7_error *err)
{
	struct component *out;
	char *done;
	size_t n = cat->n, placed = 0, i, j, k;

	qsort(cat->c, n, sizeof(*cat->c), cmp_phase_name);
	for (i = 0; i < n; i++)
		for (j = 0; j < cat->c[i].nneeds; j++)
			if (catalog_find(cat, cat->c[i].needs[j]) == NULL)
				return at_error(err, ynode_get(cat->c[i].y, "needs"),
				    "component '%s' needs unknown component '%s'",
				    cat->c[i].name, cat->c[i].needs[j]);
	out = arena_array(&cat->arena, n + 1, sizeof(*out));
	done = arena_alloc(&cat->arena, n + 1);
	while (placed < n) {
		int progress = 0;

		for (i = 0; i < n; i++) {
			int ready = 1;

			if (done[i])
				continue;
			for (j = 0; j < cat->c[i].nneeds && ready; j++) {
				ready = 0;
				for (k = 0; k < n; k++)
					if (done[k] && strcmp(cat->c[k].name,
					    cat->c[i].needs[j]) == 0)
						ready = 1;
			}
			if (!ready)
				continue;
			out[placed++] = cat->c[i];
			done[i] = 1;
			progress = 1;
			break;
		}
		if (!progress) {
			for (i = 0; i < n && done[i]; i++)
				;
			return at_error(err, ynode_get(cat->c[i].y, "needs"),
			    "component '%s' is part of a dependency cycle",
			    cat->c[i].name);
		}
	}
	cat->c = out;
	return 0;
}

/* catalog/phases.yaml: a list of names, phases[1] the first. */
int
catalog_load_phases(struct catalog *cat, struct s7_error *err)
{
	const struct embedded_file *f = embedded_find("catalog/phases.yaml");
	struct ynode *y;
	size_t i;

	if (f == NULL)
		return s7_error(err, "catalog/phases.yaml is missing");
	if (yaml_parse_one(&cat->arena, f->path, f->data, f->len, &y, err) < 0)
		return -1;
	if (y->kind != Y_SEQ || y->n == 0 || y->n > 32)
		return at_error(err, y, "phases must be a list of 1 to 32 names");
	cat->phases = arena_array(&cat->arena, y->n + 2, sizeof(*cat->phases));
	cat->phases[0] = "";
	for (i = 0; i < y->n; i++) {
		if (y->v[i]->kind != Y_SCALAR || y->v[i]->type != YT_STR)
			return at_error(err, y->v[i], "a phase must be a name");
		cat->phases[i + 1] = y->v[i]->str;
	}
	cat->nphases = (int)y->n;
	return 0;
}

const struct tmpl_file *
catalog_lib(struct catalog *cat, const char *name, struct s7_error *err)
{
	const struct embedded_file *f;
	struct tmpl_file *t;
	struct ydocs docs;
	char *path;
	size_t i;

	for (i = 0; i < cat->nlib; i++)
		if (strcmp(strrchr(cat->lib[i].path, '/') + 1, name) == 0)
			return &cat->lib[i];
	path = arena_printf(&cat->arena, "catalog/lib/%s", name);
	if (strchr(name, '/') || (f = embedded_find(path)) == NULL) {
		s7_error(err, "no shared template '%s' in catalog/lib/", name);
		return NULL;
	}
	if (yaml_parse(&cat->arena, path, f->data, f->len, &docs, err) < 0)
		return NULL;
	if (cat->nlib == cat->alib) {
		struct tmpl_file *v;

		cat->alib = cat->alib ? 2 * cat->alib : 8;
		v = arena_array(&cat->arena, cat->alib, sizeof(*v));
		if (cat->nlib)
			memcpy(v, cat->lib, cat->nlib * sizeof(*v));
		cat->lib = v;
	}
	t = &cat->lib[cat->nlib++];
	t->path = path;
	t->docs = docs.doc;
	t->ndocs = docs.n;
	return t;
}

int
catalog_load(struct catalog *cat, struct s7_error *err)
{
	const struct embedded_file *f;
	size_t n = 0, i;

	if (catalog_load_phases(cat, err) < 0)
		return -1;

	for (f = embedded_files; f->path; f++)
		if (text_has_prefix(f->path, "catalog/") &&
		    text_has_suffix(f->path, "/component.yaml"))
			n++;
	cat->c = arena_array(&cat->arena, n + 1, sizeof(*cat->c));
	for (f = embedded_files; f->path; f++) {
		if (!text_has_prefix(f->path, "catalog/") ||
		    !text_has_suffix(f->path, "/component.yaml"))
			continue;
		if (load_component(&cat->arena, &cat->c[cat->n], f->path, f,
		    cat->nphases, err) < 0)
			return -1;
		for (i = 0; i < cat->n; i++)
			if (strcmp(cat->c[i].name, cat->c[cat->n].name) == 0)
				return at_error(err, cat->c[cat->n].y,
				    "component '%s' is defined twice",
				    cat->c[i].name);
		cat->n++;
	}
	return order(cat, err);
}

const struct component *
catalog_find(const struct catalog *cat, const char *name)
{
	size_t i;

	for (i = 0; i < cat->n; i++)
		if (strcmp(cat->c[i].name, name) == 0)
			return &cat->c[i];
	return NULL;
}
