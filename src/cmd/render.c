/*
 * sector7 render: the whole stack on disk (or on stdout), for review, for
 * `git diff` between site changes, and for anyone who wants to apply it
 * with kubectl instead.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "output.h"
#include "../util/banned.h"

static const char *out_dir;

static const struct opt_spec render_opts[] = {
	{ "out", 'o', OPT_STRING, &out_dir, "DIR",
	  "write the render directory DIR (replaces an earlier render there)",
	  0, 0, NULL },
	{ NULL },
};

static void
summary(struct rendered *r, size_t nfiles)
{
	size_t i, total = 0;

	out_text("%-3s %-16s %-24s %s\n", "#", "component", "phase", "objects");
	out_string(OUT_JSON, "directory", NULL, out_dir);
	out_uint(OUT_JSON, "files", NULL, nfiles);
	out_open_array("components");
	for (i = 0; i < r->ncomps; i++) {
		const struct rcomponent *rc = &r->comps[i];
		size_t j, up = 0, tm = 0;

		for (j = rc->first; j < rc->first + rc->nobj; j++) {
			if (r->objs[j].src == SRC_TEMPLATE)
				tm++;
			else
				up++;
		}
		if (rc->enabled)
			total += rc->nobj;
		out_open_object(NULL);
		out_uint(OUT_TEXT, NULL, "%02llu  ", rc->index);
		out_string(OUT_ANY, "name", "%-16s ", rc->c->name);
		out_int(OUT_JSON, "phase", NULL, rc->c->phase);
		out_string(OUT_TEXT, NULL, "%-24s ", phase_name(r->cat, rc->c->phase));
		out_bool(OUT_JSON, "enabled", NULL, rc->enabled);
		out_uint(OUT_JSON, "objects", NULL, rc->nobj);
		if (rc->enabled)
			out_text("%zu (%zu upstream, %zu from templates)\n",
			    rc->nobj, up, tm);
		else
			out_text("(not used by this site)\n");
		out_close_object();
	}
	out_close_array();
	out_text("%zu objects", total);
	if (nfiles)
		out_text(", %zu files written to %s", nfiles, out_dir);
	out_text("\n");
}

static int
render_exec(struct cmd_ctx *c, int npos, char **pos)
{
	struct s7_error err;
	size_t nfiles = 0;
	int code = EXIT_OK;

	(void)npos;
	(void)pos;
	s7_error_clear(&err);
	if (out_dir == NULL) {
		/* The objects themselves are the result: one YAML stream. */
		if (render_stream(&c->r, stdout, &err) < 0)
			code = fail_with(&err);
		return code;
	}
	if (render_write_dir(&c->r, &c->site, out_dir, &nfiles, &err) < 0)
		return fail_with(&err);
	summary(&c->r, nfiles);
	return EXIT_OK;
}

const struct cmd_entry cmd_render_entry = {
	"render", "write every manifest, host file, DNS record and firewall rule",
	"", 0, 0,
	"Renders the site through the catalog. With -o, writes one file per object under\n"
	"DIR/manifests (in apply order), the k3s configs and node prerequisites under\n"
	"DIR/host, DNS records under DIR/dns, port forwards under DIR/firewall, and\n"
	"DIR/SOURCES (sha256 and origin of every file). Without -o, prints the objects\n"
	"as one YAML stream. Upstream manifests come from the local cache only and are\n"
	"checked against their pinned sha256.",
	render_opts, CMD_RENDER, NULL, render_exec,
};
