/*
 * sector7 apply: renders the site and rolls it out, phase by phase and
 * wave by wave, waiting on readiness between waves.  The command builds
 * the plan (src/plan) and hands it to the rollout engine (src/rollout).
 * Progress goes to stderr (redrawn in place on a terminal, plain lines
 * otherwise), with what happened to objects as it happens; the summary
 * goes to stdout, as text or JSON.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "events.h"
#include "output.h"
#include "../plan/plan.h"
#include "../rollout/rollout.h"
#include "../version.h"
#include "../util/banned.h"

static long long phase_opt, timeout_opt = 300;
static const char *only_opt;
static int prune_opt, prune_data_opt, verbose_opt;

static const struct opt_spec apply_opts[] = {
	{ "phase", 0, OPT_INT, &phase_opt, "N",
	  "only the components of phase N (the phases: sector7 help)",
	  1, 32, NULL },
	{ "only", 0, OPT_STRING, &only_opt, "COMPONENT",
	  "only this component", 0, 0, NULL },
	{ "prune", 0, OPT_FLAG, &prune_opt, NULL,
	  "delete objects that left the rendered set (never volumes or credentials)",
	  0, 0, NULL },
	{ "prune-data", 0, OPT_FLAG, &prune_data_opt, NULL,
	  "with --prune: also delete PVCs, PVs and credential Secrets", 0, 0,
	  NULL },
	{ "verbose", 'v', OPT_FLAG, &verbose_opt, NULL,
	  "list every object created or changed", 0, 0, NULL },
	{ "timeout", 0, OPT_INT, &timeout_opt, "SECONDS",
	  "how long each wave may take to become ready (default 300)", 1,
	  86400, NULL },
	{ NULL },
};

struct printer {
	int tty;
	size_t drawn;		/* lines drawn for the current wave */
	size_t wave;
	enum comp_state last[64];
	double last_why[64];
	struct events evs;
	const struct catalog *cat;
};

static const char *
state_word(enum comp_state s)
{
	switch (s) {
	case CS_QUEUED: return "queued";
	case CS_APPLYING: return "applying";
	case CS_WAITING: return "waiting";
	case CS_READY: return "ready";
	case CS_FAILED: return "failed";
	}
	return "?";
}

static void
counts(const struct comp_progress *c, char *buf, size_t size)
{
	snprintf(buf, size, "%zu object%s, %zu changed", c->objects,
	    c->objects == 1 ? "" : "s", c->changed);
}

static void
progress(void *arg, const struct rollout_progress *p)
{
	struct printer *pr = arg;
	size_t i;
	char cnt[128];

	if (p->wave != pr->wave) {
		pr->wave = p->wave;
		pr->drawn = 0;
		memset(pr->last, 0xff, sizeof(pr->last));
		memset(pr->last_why, 0, sizeof(pr->last_why));
		fprintf(stderr, "wave %zu/%zu (phase %d, %s)\n", p->wave,
		    p->nwaves, p->phase, phase_name(pr->cat, p->phase));
	}
	if (pr->tty) {
		if (pr->drawn)
			fprintf(stderr, "\033[%zuA\033[J", pr->drawn);
		for (i = 0; i < p->n; i++) {
			const struct comp_progress *c = &p->comps[i];

			counts(c, cnt, sizeof(cnt));
			fprintf(stderr, "  %-14s %-9s %5.1fs  %s%s", c->name,
			    state_word(c->state), c->seconds, cnt,
			    c->why[0] && c->state != CS_READY ? "; " : "");
			if (c->state != CS_READY)
				out_escaped(stderr, c->why, strlen(c->why), 100, 0);
			fputc('\n', stderr);
		}
		pr->drawn = p->final ? 0 : p->n;
		fflush(stderr);
		return;
	}
	/* Plain lines: state changes, and what is awaited every 15 s. */
	for (i = 0; i < p->n && i < 64; i++) {
		const struct comp_progress *c = &p->comps[i];
		int changed = pr->last[i] != c->state;

		if (!changed && !(c->state == CS_WAITING && c->why[0] &&
		    c->seconds - pr->last_why[i] >= 15))
			continue;
		counts(c, cnt, sizeof(cnt));
		if (c->state == CS_WAITING && c->why[0]) {
			fprintf(stderr, "  %s: waiting (%.0fs): ", c->name,
			    c->seconds);
			out_escaped(stderr, c->why, strlen(c->why), 300, 0);
			fputc('\n', stderr);
			pr->last_why[i] = c->seconds;
		} else {
			fprintf(stderr, "  %s: %s (%s, %.1fs)\n", c->name,
			    state_word(c->state), cnt, c->seconds);
		}
		pr->last[i] = c->state;
	}
}

/* An event: below the progress block, which is drawn again after it. */
static void
event(void *arg, const struct rollout_event *ev)
{
	struct printer *pr = arg;

	if (pr->tty && pr->drawn) {
		fprintf(stderr, "\033[%zuA\033[J", pr->drawn);
		pr->drawn = 0;
	}
	event_print(stderr, ev);
	events_keep(&pr->evs, ev);
}

static int
apply_check(struct cmd_ctx *c, int npos, char **pos)
{
	c->deadline_s = (long)timeout_opt;	/* moved on per wave */
	(void)npos;
	(void)pos;
	if (prune_data_opt && !prune_opt) {
		fprintf(stderr, "sector7: error: --prune-data needs --prune\n");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int
apply_exec(struct cmd_ctx *c, int npos, char **pos)
{
	struct rollout_opts ro;
	struct rollout_stats st;
	struct s7_error err;
	struct printer pr;
	struct plan p;
	int code = EXIT_OK;

	(void)npos;
	(void)pos;
	s7_error_clear(&err);
	memset(&st, 0, sizeof(st));
	memset(&pr, 0, sizeof(pr));
	memset(&p, 0, sizeof(p));
	events_init(&pr.evs);
	pr.tty = isatty(2);
	pr.cat = &c->cat;
	memset(&ro, 0, sizeof(ro));
	ro.set = c->site.name;
	ro.prune = prune_opt;
	ro.prune_data = prune_data_opt;
	ro.timeout_s = (long)timeout_opt;
	ro.verbose = verbose_opt;
	ro.version = SECTOR7_VERSION;
	ro.progress = progress;
	ro.event = event;
	ro.arg = &pr;
	if (plan_make(&p, &c->r, (int)phase_opt, only_opt, &err) < 0 ||
	    rollout_apply(c->kube, &c->r, &p, &ro, &st, &err) < 0) {
		code = fail_with(&err);
		goto done;
	}
	out_uint(OUT_JSON, "objects", NULL, st.objects);
	out_uint(OUT_JSON, "applied", NULL, st.applied);
	out_uint(OUT_JSON, "unchanged", NULL, st.unchanged);
	out_uint(OUT_JSON, "pruned", NULL, st.pruned);
	out_uint(OUT_JSON, "secrets_created", NULL, st.secrets_created +
	    st.secrets_added);
	out_uint(OUT_JSON, "requests", NULL, st.requests);
	out_uint(OUT_JSON, "mutating_requests", NULL, st.mutating);
	out_uint(OUT_JSON, "connections", NULL, st.connections);
	out_uint(OUT_JSON, "http2_answers", NULL, st.http2);
	out_float(OUT_JSON, "seconds", NULL, st.seconds);
	events_json(&pr.evs, "events");
	if (st.applied == 0 && st.pruned == 0)
		out_text("no changes: %zu objects up to date and ready (%.1fs)\n",
		    st.objects, st.seconds);
	else
		out_text("applied %zu of %zu objects (%zu unchanged), pruned %zu; all ready in %.1fs\n",
		    st.applied, st.objects, st.unchanged, st.pruned, st.seconds);
done:
	plan_release(&p);
	events_release(&pr.evs);
	return code;
}

const struct cmd_entry cmd_apply_entry = {
	"apply", "roll the site out to the cluster, phase by phase, waiting on readiness",
	"", 0, 0,
	"Renders the site and applies it by server-side apply (field manager sector7), in\n"
	"the gameplan's phases; inside a phase, components whose needs are met go out\n"
	"together, every object of a wave in parallel over one connection. Between waves\n"
	"it waits until everything is ready: CRDs established, workloads rolled out,\n"
	"LoadBalancer addresses assigned, webhooks answering, certificates issued, jobs\n"
	"complete, volumes bound. Objects that already match are not sent, so applying an\n"
	"unchanged site changes nothing (\"no changes\"). Membership is an ApplySet\n"
	"(the labels kubectl uses); --prune deletes what left the set.",
	apply_opts, CMD_RENDER | CMD_CLUSTER, apply_check, apply_exec,
};
