/*
 * sector7 status: the live state of every component of the site, one
 * line each (ready, progressing, failed, absent, or not used by this
 * site), with the reason when it is not ready.  It lists each kind once
 * and changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "output.h"
#include "../catalog/catalog.h"
#include "../rollout/rollout.h"
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
status_exec(struct cmd_ctx *c, int npos, char **pos)
{
	struct rendered *r = &c->r;
	struct s7_error err;
	struct comp_status *cs = NULL;
	size_t i;
	int code = EXIT_OK;

	(void)npos;
	(void)pos;
	s7_error_clear(&err);
	cs = xcalloc(r->ncomps + 1, sizeof(*cs));
	if (rollout_status(c->kube, r, cs, &err) < 0) {
		code = fail_with(&err);
		goto done;
	}
	out_begin_array(out_is_json());
	out_text("%-14s %-5s %-12s %s\n", "COMPONENT", "PHASE", "STATE", "DETAIL");
	for (i = 0; i < r->ncomps; i++) {
		out_open_object(NULL);
		out_string(OUT_ANY, "name", "%-14s ", cs[i].name);
		out_int(OUT_ANY, "phase", "%-5lld ", cs[i].phase);
		out_string(OUT_ANY, "state", "%-12s ", word(&cs[i]));
		out_uint(OUT_JSON, "objects", NULL, cs[i].objects);
		out_uint(OUT_JSON, "present", NULL, cs[i].present);
		out_string(OUT_JSON, "reason", NULL, cs[i].why);
		if (!cs[i].enabled)
			out_text("not used by this site\n");
		else if (cs[i].state == KS_CURRENT)
			out_text("%zu object%s\n", cs[i].objects,
			    cs[i].objects == 1 ? "" : "s");
		else
			out_string(OUT_TEXT, NULL, "%s\n", cs[i].why);
		out_close_object();
	}
done:
	free(cs);
	return code;
}

const struct cmd_entry cmd_status_entry = {
	"status", "the live state of every component", "", 0, 0,
	"One line per component of the site: ready, progressing, failed or absent, with\n"
	"the reason when it is not ready (the object and what it waits for), from the\n"
	"same readiness rules apply uses. Reads the cluster; changes nothing.",
	NULL, CMD_RENDER | CMD_CLUSTER, NULL, status_exec,
};
