/*
 * sector7 verify: the gameplan's validation checklists, run against the
 * live site.  Each catalog component declares its checks (docs/verify.md);
 * they run at once under one deadline, and the report lists them by the
 * gameplan's phases, one line each: passed, failed or skipped, with the
 * evidence.  With --since, the success criteria over a window: no
 * restarts, no alerts, backups ran, nothing changed by hand.
 *
 * Exit 0 when every check passed (skipped ones do not fail), 6 when any
 * failed, 4 when the cluster cannot be read before any check runs.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "output.h"
#include "../catalog/catalog.h"
#include "../render/render.h"
#include "../verify/verify.h"
#include "../util/banned.h"

static long long phase_opt, timeout_opt = 20, since_s;
static const char *only_opt, *resolver_opt, *public_opt, *ingress_opt,
    *prometheus_opt, *since_opt;

static const struct opt_spec verify_opts[] = {
	{ "phase", 0, OPT_INT, &phase_opt, "N",
	  "only the checks of phase N (the phases: sector7 help)", 1, 32, NULL },
	{ "only", 0, OPT_STRING, &only_opt, "COMPONENT",
	  "only this component's checks", 0, 0, NULL },
	{ "timeout", 0, OPT_INT, &timeout_opt, "SECONDS",
	  "one deadline for every probe (default 20)", 1, 3600, NULL },
	{ "resolver", 0, OPT_STRING, &resolver_opt, "ADDR[:PORT]",
	  "the internal resolver (default: the site's gateway, port 53)", 0, 0,
	  NULL },
	{ "public-resolver", 0, OPT_STRING, &public_opt, "ADDR[:PORT]",
	  "a resolver outside the split horizon for the public records (default: the system's, unless it is inside the site's network)",
	  0, 0, NULL },
	{ "ingress", 0, OPT_STRING, &ingress_opt, "ADDR[:PORT]",
	  "send the HTTPS probes here instead of the site's ingress address, port 443", 0, 0, NULL },
	{ "prometheus", 0, OPT_STRING, &prometheus_opt, "URL",
	  "ask Prometheus at URL instead of through the API server's service proxy",
	  0, 0, NULL },
	{ "since", 0, OPT_STRING, &since_opt, "WINDOW",
	  "also the success criteria over the window (e.g. 48h): restarts, alerts, backup runs, changes by hand",
	  0, 0, NULL },
	{ NULL },
};

static const char *
mark(enum vres r)
{
	return r == V_PASS ? "\u2713" : r == V_FAIL ? "\u2717" : "-";
}

static const char *
result_word(enum vres r)
{
	return r == V_PASS ? "pass" : r == V_FAIL ? "fail" : "skipped";
}

static const char *
section(const struct catalog *cat, int phase, char *buf, size_t size)
{
	if (phase == VERIFY_SINCE_PHASE)
		snprintf(buf, size, "Success criteria (--since %s)", since_opt);
	else
		snprintf(buf, size, "Phase %d: %s", phase, phase_name(cat, phase));
	return buf;
}

/* One line per check, grouped by phase; the same calls make the JSON. */
static void
print_report(const struct catalog *cat, const struct verify_report *rep)
{
	char title[128];
	int phase;
	size_t i;

	out_open_array("items");
	for (phase = 1; phase <= VERIFY_SINCE_PHASE; phase++) {
		int header = 0;

		for (i = 0; i < rep->n; i++) {
			const struct vitem *it = &rep->items[i];

			if (it->phase != phase)
				continue;
			section(cat, phase, title, sizeof(title));
			if (!header) {
				out_text("%s", phase > 1 && i ? "\n" : "");
				out_string(OUT_TEXT, NULL, "%s\n", title);
				header = 1;
			}
			out_open_object(NULL);
			out_int(OUT_JSON, "phase", NULL, it->phase);
			out_string(OUT_JSON, "section", NULL, title);
			out_text("  %s ", mark(it->res));
			out_string(OUT_ANY, "component", "%s ", it->component);
			out_string(OUT_JSON, "kind", NULL, it->kind);
			out_string(OUT_JSON, "check", NULL, it->check);
			out_string(OUT_ANY, "subject", "%s: ", it->subject);
			out_string(OUT_JSON, "result", NULL, result_word(it->res));
			out_text("%s", it->res == V_SKIP ? "skipped: " : "");
			out_string(OUT_ANY, "evidence", "%s\n", it->evidence);
			if (it->ms)
				out_int(OUT_JSON, "ms", NULL, it->ms);
			out_close_object();
		}
	}
	out_close_array();
	out_uint(OUT_JSON, "passed", NULL, rep->passed);
	out_uint(OUT_JSON, "failed", NULL, rep->failed);
	out_uint(OUT_JSON, "skipped", NULL, rep->skipped);
	out_float(OUT_JSON, "seconds", NULL, rep->seconds);
	out_uint(OUT_JSON, "api_requests", NULL, rep->api_requests);
	out_text("\n%zu passed, %zu failed, %zu skipped in %.1f s\n", rep->passed,
	    rep->failed, rep->skipped, rep->seconds);
}

static int
verify_check(struct cmd_ctx *c, int npos, char **pos)
{
	c->deadline_s = (long)timeout_opt;	/* the probes' deadline too */
	(void)npos;
	(void)pos;
	if (since_opt && verify_parse_window(since_opt, &since_s) < 0) {
		fprintf(stderr, "sector7: error: --since '%s' is not a window like 48h, 2d or 90m\n",
		    since_opt);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int
verify_exec(struct cmd_ctx *c, int npos, char **pos)
{
	struct s7_error err;
	struct verify_report rep;
	struct verify_opts o;
	int code = EXIT_OK;

	(void)npos;
	(void)pos;
	s7_error_clear(&err);
	memset(&o, 0, sizeof(o));
	o.phase = (int)phase_opt;
	o.only = only_opt;
	o.timeout_ms = (long)timeout_opt * 1000;
	o.resolver = resolver_opt;
	o.public_resolver = public_opt;
	o.ingress = ingress_opt;
	o.prometheus = prometheus_opt;
	o.since_s = since_s;
	verify_report_init(&rep);
	if (verify_collect(&rep, &c->r, &o, &err) < 0 ||
	    verify_run(&rep, c->kube, &c->r, &c->site, &o, &err) < 0) {
		code = fail_with(&err);
		goto done;
	}
	print_report(&c->cat, &rep);
	if (rep.failed)
		code = EXIT_VERIFY;
done:
	verify_report_release(&rep);
	return code;
}

const struct cmd_entry cmd_verify_entry = {
	"verify", "the gameplan's validation checklists, run against the live site",
	"", 0, 0,
	"Runs the checks every component declares, all at once under one deadline:\n"
	"objects' conditions through the API (nodes, GPU, LoadBalancer address, default\n"
	"StorageClass, issuers, certificates), the internal and public DNS records, each\n"
	"app's health path over HTTPS through the ingress address with its certificate\n"
	"chain and expiry, the databases and roles as the dump role, Prometheus's targets,\n"
	"rules and alerts, and the age of the last backups. One line per check, by phase:\n"
	"passed, failed or skipped, with the evidence. --since adds the success criteria\n"
	"over a window: restarts, alerts that fired, backup runs, changes by hand.\n"
	"Exit 0 when nothing failed, 6 when a check failed, 4 when the cluster cannot be read.",
	verify_opts, CMD_RENDER | CMD_CLUSTER, verify_check, verify_exec,
};
