/*
 * sector7 diff: what apply would change.  Every object of the site is
 * sent as a server-side dry run and compared with the live object; each
 * difference is printed as a unified diff (Secret values only as hashes).
 * Exit status as diff(1): 0 nothing differs, 1 something would change.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "../catalog/catalog.h"
#include "../kube/apply.h"
#include "../render/render.h"
#include "../version.h"
#include "../util/banned.h"

static long long dphase;
static const char *donly;

static const struct opt_spec diff_opts[] = {
	{ "phase", 0, OPT_INT, &dphase, "N", "only the components of phase N",
	  1, 5, NULL },
	{ "only", 0, OPT_STRING, &donly, "COMPONENT", "only this component",
	  0, 0, NULL },
	{ NULL },
};

/* Each line of notes on stderr, after the diffs. */
static void
print_notes(const struct strbuf *notes)
{
	const char *p = notes->buf, *nl;

	while (p && *p) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		fprintf(stderr, "sector7: %.*s\n", (int)(nl - p), p);
		p = *nl ? nl + 1 : nl;
	}
}

static int
diff_exec(struct cmd_ctx *c, int npos, char **pos)
{
	struct apply_opts ao;
	struct s7_error err;
	struct strbuf out, notes;
	size_t changed = 0;
	int code;

	(void)npos;
	(void)pos;
	s7_error_clear(&err);
	strbuf_init(&out, STRBUF_LARGE);
	strbuf_init(&notes, STRBUF_SMALL);
	memset(&ao, 0, sizeof(ao));
	ao.phase = (int)dphase;
	ao.only = donly;
	ao.version = SECTOR7_VERSION;
	if (apply_diff(c->kube, &c->r, &ao, &c->site, &out, &notes, &changed,
	    &err) < 0) {
		fwrite(out.buf, 1, out.len, stdout);
		print_notes(&notes);
		code = fail_with(&err);
		goto done;
	}
	fwrite(out.buf, 1, out.len, stdout);
	print_notes(&notes);
	if (changed)
		fprintf(stderr, "sector7: %zu object%s would change\n", changed,
		    changed == 1 ? "" : "s");
	code = changed ? 1 : 0;
done:
	strbuf_release(&notes);
	strbuf_release(&out);
	return code;
}

const struct cmd_entry cmd_diff_entry = {
	"diff", "what apply would change (server-side dry run)", "", 0, 0,
	"Sends every object of the site to the API server as a server-side dry run and\n"
	"compares the result with the live object: a unified diff per object that would\n"
	"change (Secret values shown only as hashes). Exit status as diff(1): 0 when\n"
	"nothing differs, 1 when something would change; errors are 3 and 4.",
	diff_opts, CMD_RENDER | CMD_CLUSTER, NULL, diff_exec,
};
