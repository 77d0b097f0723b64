/*
 * sector7 diff: what apply would change.  Every object of the site that
 * is not already up to date is sent as a server-side dry run and
 * compared with the live object; each difference is printed as a unified
 * diff (Secret values only as hashes).  Exit status as diff(1): 0
 * nothing differs, 1 something would change.  With --output json the
 * diffs and notes are fields of one object.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "events.h"
#include "output.h"
#include "../plan/plan.h"
#include "../rollout/rollout.h"
#include "../version.h"
#include "../util/banned.h"

static long long dphase;
static const char *donly;

static const struct opt_spec diff_opts[] = {
	{ "phase", 0, OPT_INT, &dphase, "N",
	  "only the components of phase N (the phases: sector7 help)", 1, 32,
	  NULL },
	{ "only", 0, OPT_STRING, &donly, "COMPONENT", "only this component",
	  0, 0, NULL },
	{ NULL },
};

/* Notes go to stderr as they come, each line after "sector7: ". */
static void
note(void *arg, const struct rollout_event *ev)
{
	struct events *evs = arg;

	if (!out_is_json()) {
		fputs("sector7: ", stderr);
		event_print(stderr, ev);
	}
	events_keep(evs, ev);
}

static int
diff_exec(struct cmd_ctx *c, int npos, char **pos)
{
	struct rollout_opts ro;
	struct rollout_stats st;
	struct s7_error err;
	struct strbuf out;
	struct events evs;
	struct plan p;
	int code, failed;

	(void)npos;
	(void)pos;
	s7_error_clear(&err);
	memset(&st, 0, sizeof(st));
	memset(&p, 0, sizeof(p));
	strbuf_init(&out, STRBUF_TEXT);
	events_init(&evs);
	memset(&ro, 0, sizeof(ro));
	ro.set = c->site.name;
	ro.version = SECTOR7_VERSION;
	ro.event = note;
	ro.arg = &evs;
	failed = plan_make(&p, &c->r, (int)dphase, donly, &err) < 0 ||
	    rollout_diff(c->kube, &c->r, &p, &ro, &out, &st, &err) < 0;
	if (out_is_json()) {
		out_uint(OUT_JSON, "objects", NULL, st.objects);
		out_uint(OUT_JSON, "unchanged", NULL, st.unchanged);
		out_uint(OUT_JSON, "changed", NULL, st.changed);
		out_string(OUT_JSON, "diff", NULL, out.buf);
		events_json(&evs, "notes");
	} else
		fwrite(out.buf, 1, out.len, stdout);
	if (failed)
		code = fail_with(&err);
	else {
		if (st.changed)
			fprintf(stderr, "sector7: %zu object%s would change\n",
			    st.changed, st.changed == 1 ? "" : "s");
		code = st.changed ? 1 : 0;
	}
	plan_release(&p);
	events_release(&evs);
	strbuf_release(&out);
	return code;
}

const struct cmd_entry cmd_diff_entry = {
	"diff", "what apply would change (server-side dry run)", "", 0, 0,
	"Sends every object of the site that is not already up to date to the API server\n"
	"as a server-side dry run and compares the result with the live object: a unified\n"
	"diff per object that would change (Secret values shown only as hashes). Exit\n"
	"status as diff(1): 0 when nothing differs, 1 when something would change; errors\n"
	"are 3 and 4.",
	diff_opts, CMD_RENDER | CMD_CLUSTER, NULL, diff_exec,
};
