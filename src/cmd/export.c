/*
 * sector7 export: the rendered stack in a form another tool rolls out.
 * --flux DIR writes a Flux tree (src/export/flux.h): for a site run by
 * GitOps, where Flux applies what sector7 renders and sector7 keeps
 * checking, generating credentials and reporting status.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "../export/flux.h"
#include "../util/banned.h"

static const char *flux_dir;
static const char *source_name;
static const char *repo_path;

const struct opt_spec export_opts[] = {
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

int
cmd_export(struct cmd_ctx *c, int npos, char **pos)
{
	struct catalog cat;
	struct rendered r;
	struct s7_error err;
	struct flux_opts fo;
	size_t i, nfiles = 0, ncomp = 0;
	int code = EXIT_OK;

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
	if (site_errors(c))
		return EXIT_INVALID;
	s7_error_clear(&err);
	catalog_init(&cat);
	rendered_init(&r);
	if (render_site(c, &cat, &r, &err) < 0)
		goto fail;
	memset(&fo, 0, sizeof(fo));
	fo.dir = flux_dir;
	fo.source = source_name;
	fo.path = repo_path;
	fo.site_file = c->site_file;
	if (export_flux(&r, &c->site, &fo, &nfiles, &err) < 0)
		goto fail;
	for (i = 0; i < r.ncomps; i++)
		ncomp += r.comps[i].enabled;
	printf("%zu Flux Kustomizations, %zu objects, %zu files written to %s\n",
	    ncomp, r.nobjs, nfiles, flux_dir);
	printf("no Secret values are in it: create the credentials with 'sector7 secrets ensure%s%s' (see %s/README.md)\n",
	    c->site_file ? " -f " : "", c->site_file ? c->site_file : "",
	    flux_dir);
	goto done;
fail:
	s7_error_print(&err, stderr);
	code = exit_code(&err);
done:
	rendered_release(&r);
	catalog_release(&cat);
	return code;
}
