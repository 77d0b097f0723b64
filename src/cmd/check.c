/*
 * sector7 check: validates the site with no network access.  The findings
 * are the result, so they go to stdout; the exit code is 3 when there is
 * at least one error.
 */
#include <stdio.h>

#include "cmd.h"
#include "../util/banned.h"

static int
findings_json(struct cmd_ctx *c)
{
	struct arena a;
	struct ynode *root, *list;
	size_t i;
	int ret;

	arena_init(&a);
	root = ynode_map(&a);
	list = ynode_seq(&a);
	ynode_map_set(&a, root, "file", ynode_str(&a, c->site_name));
	ynode_map_set(&a, root, "site", c->site.name ?
	    ynode_str(&a, c->site.name) : ynode_null(&a));
	ynode_map_set(&a, root, "errors", ynode_int(&a,
	    (long long)c->findings.errors));
	ynode_map_set(&a, root, "warnings", ynode_int(&a,
	    (long long)c->findings.warnings));
	ynode_map_set(&a, root, "notes", ynode_int(&a,
	    (long long)c->findings.notes));
	for (i = 0; i < c->findings.n; i++) {
		const struct finding *f = &c->findings.v[i];
		struct ynode *m = ynode_map(&a);

		ynode_map_set(&a, m, "severity", ynode_str(&a,
		    severity_name(f->sev)));
		ynode_map_set(&a, m, "key", ynode_str(&a, f->key));
		ynode_map_set(&a, m, "file", ynode_str(&a, f->file));
		ynode_map_set(&a, m, "line", ynode_int(&a, f->line));
		ynode_map_set(&a, m, "column", ynode_int(&a, f->col));
		ynode_map_set(&a, m, "message", ynode_str(&a, f->msg));
		if (f->detail)
			ynode_map_set(&a, m, "detail", ynode_str(&a, f->detail));
		ynode_push(&a, list, m);
	}
	ynode_map_set(&a, root, "findings", list);
	ret = print_json(root);
	arena_release(&a);
	return ret;
}

int
cmd_check(struct cmd_ctx *c, int npos, char **pos)
{
	const struct findings *f = &c->findings;
	size_t i;

	(void)npos;
	(void)pos;
	if (is_json(c)) {
		if (findings_json(c) < 0)
			return EXIT_FAILED;
	} else {
		for (i = 0; i < f->n; i++)
			print_finding(stdout, &f->v[i]);
		printf("%s: %zu error%s, %zu warning%s, %zu note%s\n",
		    c->site_name, f->errors, f->errors == 1 ? "" : "s",
		    f->warnings, f->warnings == 1 ? "" : "s", f->notes,
		    f->notes == 1 ? "" : "s");
	}
	return f->errors ? EXIT_INVALID : EXIT_OK;
}
