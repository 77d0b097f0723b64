/*
 * Build tool: writes docs/site.md from the site schema (src/site/schema.c),
 * so the reference cannot drift from what the loader accepts.  The test
 * suite regenerates it and compares.
 */
#include <stdio.h>
#include <string.h>

#include "site/schema.h"

static void
choices(const struct field *f, char *buf, size_t size)
{
	const char *const *c;
	size_t n = 0;

	buf[0] = '\0';
	for (c = f->choices; c && *c && n < size; c++)
		n += (size_t)snprintf(buf + n, size - n, "%s`%s`",
		    c == f->choices ? "" : ", ", *c);
}

/* "an IPv4 address" -> "IPv4 address" */
static const char *
noun(enum stype t)
{
	const char *s = stype_name(t);

	if (strncmp(s, "a ", 2) == 0)
		return s + 2;
	if (strncmp(s, "an ", 3) == 0)
		return s + 3;
	return s;
}

static void
walk(const struct field *fields, const char *prefix)
{
	const struct field *f;

	for (f = fields; f->key; f++) {
		char path[256], type[512], def[128];

		snprintf(path, sizeof(path), "%s%s", prefix, f->key);
		if (f->type == T_ENUM) {
			choices(f, type, sizeof(type));
		} else if (f->type == T_INT) {
			snprintf(type, sizeof(type), "integer %lld to %lld",
			    f->min, f->max);
		} else if (f->type == T_LIST && f->sub) {
			snprintf(type, sizeof(type), "list of mappings");
		} else if (f->type == T_LIST) {
			snprintf(type, sizeof(type), "list: %s", noun(f->item));
		} else {
			snprintf(type, sizeof(type), "%s", noun(f->type));
		}
		if (f->flags & F_REQUIRED)
			snprintf(def, sizeof(def), "required");
		else if (f->def)
			snprintf(def, sizeof(def), "`%s`", f->def);
		else
			snprintf(def, sizeof(def), "-");
		printf("| `%s` | %s | %s | %s |\n", path, type, def, f->help);
		if (f->type == T_MAP || (f->type == T_LIST && f->sub)) {
			char sub[300];

			snprintf(sub, sizeof(sub), "%s%s", path,
			    f->type == T_LIST ? "[]." : ".");
			walk(f->sub, sub);
		}
	}
}

int
main(void)
{
	printf("# The site description\n\n"
	    "One YAML file describes the site: what the team has (network, nodes,\n"
	    "domain) and what it wants (apps, TLS, storage, backups). `sector7 check`\n"
	    "validates it; every error names the key and its file:line:col. With no\n"
	    "`-f`, sector7 uses its built-in site, `examples/sector7.yaml`.\n\n"
	    "This page is generated from the schema the loader uses\n"
	    "(`src/site/schema.c`, `make docs`); the tests fail if it is out of date.\n\n"
	    "Sizes are Kubernetes quantities (`20Gi`, `500G`); durations are a number\n"
	    "with `h`, `d` or `w`; host names are one DNS label under `domain`, or `@`\n"
	    "for the domain itself.\n\n"
	    "| key | type | default | meaning |\n|---|---|---|---|\n");
	walk(site_schema, "");
	printf("\nDefaults that depend on other keys: `storage.replicas` is 2, or 1 on a\n"
	    "one-node site; `apps.n8n.gpu: auto` becomes `ollama` when a node has a GPU,\n"
	    "else `none`.\n");
	return ferror(stdout) ? 1 : 0;
}
