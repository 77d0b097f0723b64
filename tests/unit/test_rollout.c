/*
 * The rollout engine's up-to-date check, the plan, the catalog's facts and
 * the ApplySet id, table-driven.  With "--applyset NAME NAMESPACE" it
 * prints the id sector7 gives that parent, for the integration test to
 * hold against the one kubectl writes.
 */
#include <stdlib.h>

#include "unit.h"
#include "catalog/catalog.h"
#include "kube/applyset.h"
#include "plan/plan.h"
#include "render/checks.h"
#include "render/images.h"
#include "rollout/rollout.h"
#include "site/site.h"
#include "yaml/yaml.h"

static struct ynode *
doc(struct arena *a, const char *text)
{
	struct ynode *n = NULL;
	struct s7_error err;

	if (yaml_parse_one(a, "test", text, strlen(text), &n, &err) < 0) {
		fprintf(stderr, "bad test YAML: %s\n", err.msg);
		exit(2);
	}
	return n;
}

/* want, have, and whether have holds everything want sets. */
static const struct {
	const char *want, *have;
	int subset;
} subsets[] = {
	{ "{a: 1}", "{a: 1, b: 2}", 1 },
	{ "{a: 1}", "{a: 2}", 0 },
	{ "{a: 1}", "{b: 1}", 0 },
	{ "{a: \"80\"}", "{a: 80}", 1 },		/* same text, other type */
	/* rendered YAML against what the server sent, as JSON gives it */
	{ "{a: 0555}", "{\"a\": 365}", 1 },
	{ "{a: 0555}", "{\"a\": 555}", 0 },
	{ "{a: 0x1F}", "{\"a\": 31}", 1 },
	{ "{a: 1.50}", "{\"a\": 1.5}", 1 },
	{ "{a: True}", "{\"a\": true}", 1 },
	{ "{a: {b: c}}", "{a: {b: c, d: e}}", 1 },
	{ "{a: {b: c}}", "{a: {b: x}}", 0 },
	{ "{a: [1, 2]}", "{a: [1, 2]}", 1 },
	{ "{a: [1, 2]}", "{a: [1, 2, 3]}", 0 },	/* lists: same length */
	{ "{a: [1, 2]}", "{a: [2, 1]}", 0 },
	{ "{a: [{x: 1}]}", "{a: [{x: 1, y: 2}]}", 1 },
	/* zero values match absent ones: the server omits them */
	{ "{a: false}", "{}", 1 },
	{ "{a: 0}", "{}", 1 },
	{ "{a: \"\"}", "{}", 1 },
	{ "{a: []}", "{}", 1 },
	{ "{a: {}}", "{}", 1 },
	{ "{a: null}", "{a: 5}", 1 },
	{ "{a: true}", "{}", 0 },
	{ "{a: []}", "{a: {}}", 1 },
	{ "{a: [1]}", "{a: {}}", 0 },
};

static void
subset_cases(void)
{
	struct arena a;
	size_t i;

	arena_init(&a);
	for (i = 0; i < sizeof(subsets) / sizeof(subsets[0]); i++) {
		int got = rollout_subset(doc(&a, subsets[i].want),
		    doc(&a, subsets[i].have));

		if (got != subsets[i].subset)
			fprintf(stderr, "subset case %zu: %s in %s\n", i,
			    subsets[i].want, subsets[i].have);
		CHECK(got == subsets[i].subset);
	}
	arena_release(&a);
}

/*
 * Values kubectl v1.36.3 wrote in the applyset.kubernetes.io/id label of
 * parents it made (kubectl apply --applyset=secret/NAME -n NS); the
 * integration test asks kubectl again on every run.
 */
static const struct {
	const char *name, *ns, *id;
} ids[] = {
	{ "sector7", "sector7",
	  "applyset-iJYtloqe92UUh2FIQu0XBFdq-_EGaTXWU4REC8byEM0-v1" },
	{ "lab", "lab",
	  "applyset-n1_2u_zPzDTq7zVX90gMXMoa9ZU-6O683EH0sijQShU-v1" },
	{ "probe", "probe",
	  "applyset-3-NBXGwrHqBN9phNPpw1-kck1kZiHHnxGld8N2b2B-Q-v1" },
};

static void
applyset_cases(void)
{
	char id[APPLYSET_ID_MAX], gk[128];
	size_t i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		applyset_id(ids[i].name, ids[i].ns, id);
		CHECK_STR(id, ids[i].id);
	}
	applyset_group_kind("apps/v1", "Deployment", gk, sizeof(gk));
	CHECK_STR(gk, "Deployment.apps");
	applyset_group_kind("v1", "ConfigMap", gk, sizeof(gk));
	CHECK_STR(gk, "ConfigMap");
	applyset_group_kind("postgresql.cnpg.io/v1", "Cluster", gk, sizeof(gk));
	CHECK_STR(gk, "Cluster.postgresql.cnpg.io");
}

/* A stack of components for plan_make, without rendering anything. */
struct fake {
	struct catalog cat;
	struct component c[8];
	struct rcomponent rc[8];
	struct rendered r;
};

static void
fake(struct fake *f, const char *spec)
{
	/* spec: "name:phase:enabled:need,need;..." in dependency order */
	static char buf[512];
	char *p, *save = NULL;
	size_t n = 0;

	memset(f, 0, sizeof(*f));
	snprintf(buf, sizeof(buf), "%s", spec);
	f->cat.nphases = 5;
	for (p = strtok_r(buf, ";", &save); p && n < 8;
	    p = strtok_r(NULL, ";", &save), n++) {
		static const char *needs[8][4];
		char *name = strtok(p, ":"), *ph = strtok(NULL, ":"),
		    *en = strtok(NULL, ":"), *nd = strtok(NULL, ":");
		size_t k = 0;

		f->c[n].name = name;
		f->c[n].phase = atoi(ph);
		for (nd = nd ? strtok(nd, ",") : NULL; nd && k < 4;
		    nd = strtok(NULL, ","))
			needs[n][k++] = nd;
		f->c[n].needs = needs[n];
		f->c[n].nneeds = k;
		f->rc[n].c = &f->c[n];
		f->rc[n].enabled = en[0] == '1';
	}
	f->cat.c = f->c;
	f->cat.n = n;
	f->r.cat = &f->cat;
	f->r.comps = f->rc;
	f->r.ncomps = n;
}

/* The plan as "phase:a,b|phase:c" */
static void
plan_string(const struct plan *p, const struct rendered *r, char *out,
    size_t size)
{
	size_t i, j, o = 0;

	out[0] = '\0';
	for (i = 0; i < p->n; i++) {
		o += (size_t)snprintf(out + o, size - o, "%s%d:", i ? "|" : "",
		    p->waves[i].phase);
		for (j = 0; j < p->waves[i].n; j++)
			o += (size_t)snprintf(out + o, size - o, "%s%s",
			    j ? "," : "", r->comps[p->waves[i].comps[j]].c->name);
	}
}

static const struct {
	const char *stack;
	int phase;
	const char *only, *plan;	/* NULL plan: an error */
} plans[] = {
	/* needs in the same phase make waves; other phases order them */
	{ "metallb:1:1;cert-manager:1:1;ingress:1:1:metallb;nvidia:2:1;"
	  "postgres:3:1;n8n:3:1:postgres;nocodb:3:1:postgres", 0, NULL,
	  "1:metallb,cert-manager|1:ingress|2:nvidia|3:postgres|3:n8n,nocodb" },
	/* a disabled component goes nowhere, and does not hold its users */
	{ "metallb:1:1;nvidia:2:0;postgres:3:1;n8n:3:1:postgres", 0, NULL,
	  "1:metallb|3:postgres|3:n8n" },
	{ "postgres:3:0;n8n:3:1:postgres", 0, NULL, "3:n8n" },
	/* --phase and --only narrow it */
	{ "metallb:1:1;postgres:3:1;n8n:3:1:postgres", 3, NULL,
	  "3:postgres|3:n8n" },
	{ "metallb:1:1;postgres:3:1;n8n:3:1:postgres", 0, "n8n", "3:n8n" },
	{ "metallb:1:1;postgres:3:1", 2, NULL, NULL },	/* nothing in phase 2 */
	{ "metallb:1:1;postgres:3:1", 9, NULL, NULL },	/* no phase 9 */
	{ "metallb:1:1", 0, "nope", NULL },
	{ "metallb:1:0", 0, "metallb", NULL },		/* disabled */
};

static void
plan_cases(void)
{
	size_t i;

	for (i = 0; i < sizeof(plans) / sizeof(plans[0]); i++) {
		struct fake f;
		struct plan p;
		struct s7_error err;
		char got[512];
		int r;

		fake(&f, plans[i].stack);
		r = plan_make(&p, &f.r, plans[i].phase, plans[i].only, &err);
		if (plans[i].plan == NULL) {
			CHECK(r < 0 && err.class == S7_EUSAGE);
			continue;
		}
		CHECK(r == 0);
		if (r < 0)
			continue;
		plan_string(&p, &f.r, got, sizeof(got));
		CHECK_STR(got, plans[i].plan);
		CHECK(p.partial == (plans[i].phase || plans[i].only));
		plan_release(&p);
	}
}

/* The catalog as built in: facts the rest of sector7 reads from it. */
static void
catalog_cases(void)
{
	struct catalog cat;
	struct s7_error err;
	const struct component *c;
	size_t i, j, k;

	catalog_init(&cat);
	CHECK(catalog_load(&cat, &err) == 0);
	CHECK(cat.nphases == 5);
	CHECK_STR(phase_name(&cat, 1), "infrastructure");
	CHECK_STR(phase_name(&cat, 5), "monitoring and backups");
	CHECK_STR(phase_name(&cat, 6), "?");
	CHECK_STR(phase_name(&cat, 0), "?");
	/* every component comes after what it needs */
	for (i = 0; i < cat.n; i++)
		for (j = 0; j < cat.c[i].nneeds; j++) {
			for (k = 0; k < i; k++)
				if (strcmp(cat.c[k].name, cat.c[i].needs[j]) == 0)
					break;
			CHECK(k < i);
		}
	c = catalog_find(&cat, "n8n");
	CHECK(c && c->nneeds == 1 && strcmp(c->needs[0], "postgres") == 0 &&
	    c->needs_why && strstr(c->needs_why[0], "PostgreSQL"));
	c = catalog_find(&cat, "postgres");
	CHECK(c && c->nclaims == 1 && strcmp(c->claims[0].kind, "Cluster") == 0);
	CHECK(c && c->nreadiness == 1 &&
	    strcmp(c->readiness[0].field, "status.applied") == 0);
	CHECK(c && c->context && ynode_path(c->context, "postgresql.image"));
	c = catalog_find(&cat, "ingress");
	CHECK(c && c->context && ynode_get(c->context, "ingress-controller"));
	CHECK(catalog_lib(&cat, "valkey.yaml", &err) != NULL);
	CHECK(catalog_lib(&cat, "valkey.yaml", &err) ==
	    catalog_lib(&cat, "valkey.yaml", &err));	/* parsed once */
	CHECK(catalog_lib(&cat, "nope.yaml", &err) == NULL);
	CHECK(catalog_lib(&cat, "../n8n/n8n.yaml", &err) == NULL);
	catalog_release(&cat);
}

static const struct {
	const char *ref, *want;		/* NULL want: unchanged */
} mirrored[] = {
	{ "quay.io/jetstack/cert-manager-controller:v1.21.1",
	  "reg.lan:5000/m/quay.io/jetstack/cert-manager-controller:v1.21.1" },
	{ "valkey/valkey:9.1.1-alpine",
	  "reg.lan:5000/m/docker.io/valkey/valkey:9.1.1-alpine" },
	{ "nginx:1.27", "reg.lan:5000/m/docker.io/library/nginx:1.27" },
	{ "localhost/x:1", "reg.lan:5000/m/localhost/x:1" },
	{ "ghcr.io/a/b:1@sha256:0123", "reg.lan:5000/m/ghcr.io/a/b:1@sha256:0123" },
	{ "reg.lan:5000/m/quay.io/x:1", NULL },	/* already there */
	{ "docker.io/x/y:2", "reg.lan:5000/m/docker.io/x/y:2" },
	{ "ghcr.io/p:17@sha256:ab", "local/p:17" },	/* an override wins */
};

static void
image_cases(void)
{
	static const char *from[] = { "ghcr.io/p:17@sha256:ab" };
	static const char *to[] = { "local/p:17" };
	struct image_map m = { "reg.lan:5000/m", from, to, 1, 0 };
	struct image_map only = { NULL, from, to, 1, 0 };
	struct arena a;
	size_t i;

	arena_init(&a);
	for (i = 0; i < sizeof(mirrored) / sizeof(mirrored[0]); i++) {
		const char *got = image_rewrite(&a, &m, mirrored[i].ref);

		if (mirrored[i].want == NULL)
			CHECK(got == NULL);
		else
			CHECK_STR(got, mirrored[i].want);
	}
	/* overrides alone: nothing else moves */
	CHECK(image_rewrite(&a, &only, "quay.io/x:1") == NULL);
	CHECK_STR(image_rewrite(&a, &only, "ghcr.io/p:17@sha256:ab"), "local/p:17");
	arena_release(&a);
}

int
main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--applyset") == 0) {
		char id[APPLYSET_ID_MAX];

		applyset_id(argv[2], argv[3], id);
		printf("%s\n", id);
		return 0;
	}
	subset_cases();
	applyset_cases();
	plan_cases();
	catalog_cases();
	image_cases();
	return unit_done("rollout");
}
