/*
 * sector7 status: the live state of every component of the site, one
 * line each (ready, progressing, failed, absent, or not used by this
 * site), with the reason when it is not ready.  It lists each kind once
 * and changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "../catalog/catalog.h"
#include "../kube/apply.h"
#include "../render/render.h"
#include "../util/xmalloc.h"
#include "../version.h"
#include "../util/banned.h"

static const char *
word(const struct comp_status *cs)
{
	if (!cs->enabled)
		return "unused";
	return kstatus_name(cs->state);
}

static int
status_json(struct comp_status *cs, size_t n)
{
	struct arena a;
	struct ynode *list = NULL;
	size_t i;
	int ret;

	arena_init(&a);
	list = ynode_seq(&a);
	for (i = 0; i < n; i++) {
		struct ynode *m = ynode_map(&a);

		ynode_map_set(&a, m, "name", ynode_str(&a, cs[i].name));
		ynode_map_set(&a, m, "phase", ynode_int(&a, cs[i].phase));
		ynode_map_set(&a, m, "state", ynode_str(&a, word(&cs[i])));
		ynode_map_set(&a, m, "objects", ynode_int(&a,
		    (long long)cs[i].objects));
		ynode_map_set(&a, m, "present", ynode_int(&a,
		    (long long)cs[i].present));
		ynode_map_set(&a, m, "reason", ynode_str(&a, cs[i].why));
		ynode_push(&a, list, m);
	}
	ret = print_json(list);
	arena_release(&a);
	return ret;
}

int
cmd_status(struct cmd_ctx *c, int npos, char **pos)
{
	struct catalog cat;
	struct rendered r;
	struct s7_error err;
	struct comp_status *cs = NULL;
	size_t i;
	int code = EXIT_OK;

	(void)npos;
	(void)pos;
	if (site_errors(c))
		return EXIT_INVALID;
	s7_error_clear(&err);
	catalog_init(&cat);
	rendered_init(&r);
	if (render_site(c, &cat, &r, &err) < 0 || open_cluster(c, &err) < 0) {
		s7_error_print(&err, stderr);
		code = exit_code(&err);
		goto done;
	}
	cs = xcalloc(r.ncomps + 1, sizeof(*cs));
	if (apply_status(c->kube, &r, cs, &err) < 0) {
		s7_error_print(&err, stderr);
		code = exit_code(&err);
		goto done;
	}
	if (is_json(c)) {
		if (status_json(cs, r.ncomps) < 0)
			code = EXIT_FAILED;
		goto done;
	}
	printf("%-14s %-5s %-12s %s\n", "COMPONENT", "PHASE", "STATE", "DETAIL");
	for (i = 0; i < r.ncomps; i++) {
		if (!cs[i].enabled) {
			printf("%-14s %-5d %-12s %s\n", cs[i].name, cs[i].phase,
			    "unused", "not used by this site");
			continue;
		}
		if (cs[i].state == KS_CURRENT)
			printf("%-14s %-5d %-12s %zu object%s\n", cs[i].name,
			    cs[i].phase, "ready", cs[i].objects,
			    cs[i].objects == 1 ? "" : "s");
		else
			printf("%-14s %-5d %-12s %s\n", cs[i].name, cs[i].phase,
			    kstatus_name(cs[i].state), cs[i].why);
	}
done:
	free(cs);
	rendered_release(&r);
	catalog_release(&cat);
	return code;
}
