/*
 * sector7 check: validates the site with no network access.  The findings
 * are the result, so they go to stdout; the exit code is 3 when there is
 * at least one error.
 */
#include <stdio.h>

#include "cmd.h"
#include "output.h"
#include "../util/banned.h"

static int
check_exec(struct cmd_ctx *c, int npos, char **pos)
{
	const struct findings *f = &c->findings;
	struct s7_error err;
	size_t i;

	(void)npos;
	(void)pos;
	/* What needs the catalog: dependencies and the storage budget, from
	 * the templates alone (no upstream cache needed). */
	if (f->errors == 0 && render_site(c, 1, &err) < 0)
		return fail_with(&err);
	out_string(OUT_JSON, "file", NULL, c->site_name);
	out_string(OUT_JSON, "site", NULL, c->site.name);
	out_uint(OUT_JSON, "errors", NULL, f->errors);
	out_uint(OUT_JSON, "warnings", NULL, f->warnings);
	out_uint(OUT_JSON, "notes", NULL, f->notes);
	out_open_array("findings");
	for (i = 0; i < f->n; i++) {
		const struct finding *x = &f->v[i];

		if (!out_is_json()) {
			print_finding(stdout, x);
			continue;
		}
		out_open_object(NULL);
		out_string(OUT_JSON, "severity", NULL, severity_name(x->sev));
		out_string(OUT_JSON, "key", NULL, x->key);
		out_string(OUT_JSON, "file", NULL, x->file);
		out_uint(OUT_JSON, "line", NULL, x->line);
		out_uint(OUT_JSON, "column", NULL, x->col);
		out_string(OUT_JSON, "message", NULL, x->msg);
		if (x->detail)
			out_string(OUT_JSON, "detail", NULL, x->detail);
		out_close_object();
	}
	out_close_array();
	out_text("%s: %zu error%s, %zu warning%s, %zu note%s\n", c->site_name,
	    f->errors, f->errors == 1 ? "" : "s", f->warnings,
	    f->warnings == 1 ? "" : "s", f->notes, f->notes == 1 ? "" : "s");
	return f->errors ? EXIT_INVALID : EXIT_OK;
}

const struct cmd_entry cmd_check_entry = {
	"check", "validate the site: network plan, names, storage budget, dependencies, hazards",
	"", 0, 0,
	"Validates the site description without touching the network. Errors name the key\n"
	"and file:line:col and make the exit code 3; warnings and notes say what a careful\n"
	"operator wants to know, including where sector7 differs from the gameplan and why.",
	NULL, CMD_SITE, NULL, check_exec,
};
