/*
 * sector7 render: the whole stack on disk (or on stdout), for review, for
 * `git diff` between site changes, and for anyone who wants to apply it
 * with kubectl instead.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "../catalog/catalog.h"
#include "../render/render.h"
#include "../version.h"
#include "../util/banned.h"

static const char *out_dir;

const struct opt_spec render_opts[] = {
	{ "out", 'o', OPT_STRING, &out_dir, "DIR",
	  "write the render directory DIR (replaces an earlier render there)",
	  0, 0, NULL },
	{ NULL },
};

static void
summary_text(struct rendered *r, size_t nfiles)
{
	size_t i, total = 0;

	printf("%-3s %-16s %-24s %s\n", "#", "component", "phase", "objects");
	for (i = 0; i < r->ncomps; i++) {
		const struct rcomponent *rc = &r->comps[i];
		size_t j, up = 0, tm = 0;

		if (!rc->enabled) {
			printf("%02u  %-16s %-24s %s\n", rc->index, rc->c->name,
			    phase_name(rc->c->phase), "(not used by this site)");
			continue;
		}
		for (j = rc->first; j < rc->first + rc->nobj; j++) {
			if (r->objs[j].src == SRC_TEMPLATE)
				tm++;
			else
				up++;
		}
		total += rc->nobj;
		printf("%02u  %-16s %-24s %zu (%zu upstream, %zu from templates)\n",
		    rc->index, rc->c->name, phase_name(rc->c->phase), rc->nobj,
		    up, tm);
	}
	printf("%zu objects", total);
	if (nfiles)
		printf(", %zu files written to %s", nfiles, out_dir);
	printf("\n");
}

static int
summary_json(struct rendered *r, size_t nfiles)
{
	struct arena a;
	struct ynode *root, *list;
	size_t i;
	int ret;

	arena_init(&a);
	root = ynode_map(&a);
	list = ynode_seq(&a);
	for (i = 0; i < r->ncomps; i++) {
		const struct rcomponent *rc = &r->comps[i];
		struct ynode *m = ynode_map(&a);

		ynode_map_set(&a, m, "name", ynode_str(&a, rc->c->name));
		ynode_map_set(&a, m, "phase", ynode_int(&a, rc->c->phase));
		ynode_map_set(&a, m, "enabled", ynode_bool(&a, rc->enabled));
		ynode_map_set(&a, m, "objects", ynode_int(&a, (long long)rc->nobj));
		ynode_push(&a, list, m);
	}
	ynode_map_set(&a, root, "directory", ynode_str(&a, out_dir));
	ynode_map_set(&a, root, "files", ynode_int(&a, (long long)nfiles));
	ynode_map_set(&a, root, "components", list);
	ret = print_json(root);
	arena_release(&a);
	return ret;
}

int
cmd_render(struct cmd_ctx *c, int npos, char **pos)
{
	struct catalog cat;
	struct rendered r;
	struct s7_error err;
	struct strbuf sb;
	size_t nfiles = 0;
	int code = EXIT_OK;

	(void)npos;
	(void)pos;
	if (site_errors(c))
		return EXIT_INVALID;
	s7_error_clear(&err);
	catalog_init(&cat);
	rendered_init(&r);
	strbuf_init(&sb, STRBUF_LARGE);
	if (render_site(c, &cat, &r, &err) < 0) {
		s7_error_print(&err, stderr);
		code = exit_code(&err);
		goto done;
	}
	if (out_dir == NULL) {
		if (render_stream(&r, &sb, &err) < 0) {
			s7_error_print(&err, stderr);
			code = exit_code(&err);
			goto done;
		}
		fwrite(sb.buf, 1, sb.len, stdout);
		goto done;
	}
	if (render_write_dir(&r, &c->site, out_dir, &nfiles, &err) < 0) {
		s7_error_print(&err, stderr);
		code = exit_code(&err);
		goto done;
	}
	if (is_json(c)) {
		if (summary_json(&r, nfiles) < 0)
			code = EXIT_FAILED;
	} else {
		summary_text(&r, nfiles);
	}
done:
	strbuf_release(&sb);
	rendered_release(&r);
	catalog_release(&cat);
	return code;
}
