/*
 * sector7 export: the rendered stack in a form another tool rolls out.
 * --flux DIR writes a Flux tree (src/export/flux.h): for a site run by
 * GitOps, where Flux applies what sector7 renders and sector7 keeps
 * checking, generating credentials and reporting status.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "output.h"
#include "../export/flux.h"
#include "../util/banned.h"

static const char *flux_dir;
static const char *source_name;
static const char *repo_path;

static const struct opt_spec export_opts[] = {
	{ "flux", 0, OPT_STRING, &flux_dir, "DIR",
	  "write a Flux tree to DIR (replaces an earlier export there)",
	  0, 0, NULL },
	{ "source", 0, OPT_STRING, &source_name, "NAME",
	  "the GitRepository the Kustomizations read (default flux-system)",
	  0, 0, NULL },
	{ "path", 0, OPT_STRING, &repo_path, "PATH",
	  "where DIR sits in that repository (default: its root)", 0, 0, NULL },
	{ NULL },
};

static int
export_check(struct cmd_ctx *c, int npos, char **pos)
{
	(void)c;
	(void)npos;
	(void)pos;
	if (flux_dir == NULL) {
		fprintf(stderr, "sector7: error: export needs --flux DIR\n"
		    "sector7: see 'sector7 export --help'\n");
		return EXIT_USAGE;
	}
	if (repo_path && (repo_path[0] == '/' || strstr(repo_path, ".."))) {
		fprintf(stderr, "sector7: error: --path '%s' must be a relative path inside the repository, without '..'\n"
		    "sector7: see 'sector7 export --help'\n", repo_path);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int
export_exec(struct cmd_ctx *c, int npos, char **pos)
{
	struct s7_error err;
	struct flux_opts fo;
	size_t i, nfiles = 0, ncomp = 0;

	(void)npos;
	(void)pos;
	s7_error_clear(&err);
	memset(&fo, 0, sizeof(fo));
	fo.dir = flux_dir;
	fo.source = source_name;
	fo.path = repo_path;
	fo.site_file = c->site_file;
	if (export_flux(&c->r, &c->site, &fo, &nfiles, &err) < 0)
		return fail_with(&err);
	for (i = 0; i < c->r.ncomps; i++)
		ncomp += c->r.comps[i].enabled;
	out_uint(OUT_ANY, "kustomizations", "%llu Flux Kustomizations, ", ncomp);
	out_uint(OUT_ANY, "objects", "%llu objects, ", c->r.nobjs);
	out_uint(OUT_ANY, "files", "%llu files written to ", nfiles);
	out_string(OUT_ANY, "directory", "%s\n", flux_dir);
	out_text("no Secret values are in it: create the credentials with 'sector7 secrets ensure%s%s' (see %s/README.md)\n",
	    c->site_file ? " -f " : "", c->site_file ? c->site_file : "",
	    flux_dir);
	return EXIT_OK;
}

const struct cmd_entry cmd_export_entry = {
	"export", "write the rendered stack as a Flux tree", "", 0, 0,
	"Renders the site and writes a tree for Flux to DIR: one Flux Kustomization\n"
	"(kustomize.toolkit.fluxcd.io/v1) per component under DIR/flux, each pointing at\n"
	"DIR/components/NN-NAME with that component's rendered objects and a\n"
	"kustomization.yaml. dependsOn follows the order apply uses (needs, then phases),\n"
	"healthChecks the components' readiness gates (wait: true where there are none).\n"
	"No Secret values are written: DIR/README.md says how to create the credentials\n"
	"with 'sector7 secrets ensure'. An existing DIR is replaced only when it holds an\n"
	"earlier export.",
	export_opts, CMD_RENDER, export_check, export_exec,
};
