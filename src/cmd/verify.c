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
#include "../catalog/catalog.h"
#include "../render/render.h"
#include "../verify/verify.h"
#include "../util/banned.h"

static long long phase_opt, timeout_opt = 20;
static const char *only_opt, *resolver_opt, *public_opt, *ingress_opt,
    *prometheus_opt, *since_opt;

const struct opt_spec verify_opts[] = {
	{ "phase", 0, OPT_INT, &phase_opt, "N",
	  "only the checks of phase N (1 infrastructure, 2 gpu, 3 core services, 4 appflowy, 5 monitoring and backups)",
	  1, 5, NULL },
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
section(int phase, char *buf, size_t size)
{
	if (phase == VERIFY_SINCE_PHASE)
		snprintf(buf, size, "Success criteria (--since %s)", since_opt);
	else
		snprintf(buf, size, "Phase %d: %s", phase, phase_name(phase));
	return buf;
}

static void
print_text(const struct verify_report *rep)
{
	char title[128];
	int phase;
	size_t i;

	for (phase = 1; phase <= VERIFY_SINCE_PHASE; phase++) {
		int header = 0;

		for (i = 0; i < rep->n; i++) {
			const struct vitem *it = &rep->items[i];

			if (it->phase != phase)
				continue;
			if (!header) {
				printf("%s%s\n", phase > 1 && i ? "\n" : "",
				    section(phase, title, sizeof(title)));
				header = 1;
			}
			printf("  %s %s %s: %s%s\n", mark(it->res), it->component,
			    it->subject, it->res == V_SKIP ? "skipped: " : "",
			    it->evidence);
		}
	}
	printf("\n%zu passed, %zu failed, %zu skipped in %.1f s\n", rep->passed,
	    rep->failed, rep->skipped, rep->seconds);
}

static int
print_report_json(const struct verify_report *rep)
{
	struct arena a;
	struct ynode *root, *list;
	char title[128];
	size_t i;
	int ret;

	arena_init(&a);
	root = ynode_map(&a);
	list = ynode_seq(&a);
	for (i = 0; i < rep->n; i++) {
		const struct vitem *it = &rep->items[i];
		struct ynode *m = ynode_map(&a);

		ynode_map_set(&a, m, "phase", ynode_int(&a, it->phase));
		ynode_map_set(&a, m, "section", ynode_str(&a, section(it->phase,
		    title, sizeof(title))));
		ynode_map_set(&a, m, "component", ynode_str(&a, it->component));
		ynode_map_set(&a, m, "kind", ynode_str(&a, it->kind));
		ynode_map_set(&a, m, "check", ynode_str(&a, it->check));
		ynode_map_set(&a, m, "subject", ynode_str(&a, it->subject));
		ynode_map_set(&a, m, "result", ynode_str(&a, result_word(it->res)));
		ynode_map_set(&a, m, "evidence", ynode_str(&a, it->evidence));
		if (it->ms)
			ynode_map_set(&a, m, "ms", ynode_int(&a, it->ms));
		ynode_push(&a, list, m);
	}
	ynode_map_set(&a, root, "passed", ynode_int(&a, (long long)rep->passed));
	ynode_map_set(&a, root, "failed", ynode_int(&a, (long long)rep->failed));
	ynode_map_set(&a, root, "skipped", ynode_int(&a, (long long)rep->skipped));
	{
		char secs[32];

		snprintf(secs, sizeof(secs), "%.3f", rep->seconds);
		ynode_map_set(&a, root, "seconds", ynode_scalar(&a, YT_FLOAT, secs,
		    strlen(secs)));
	}
	ynode_map_set(&a, root, "api_requests", ynode_int(&a,
	    (long long)rep->api_requests));
	ynode_map_set(&a, root, "items", list);
	ret = print_json(root);
	arena_release(&a);
	return ret;
}

int
cmd_verify(struct cmd_ctx *c, int npos, char **pos)
{
	struct catalog cat;
	struct rendered r;
	struct s7_error err;
	struct verify_report rep;
	struct verify_opts o;
	int code = EXIT_OK;

	(void)npos;
	(void)pos;
	if (site_errors(c))
		return EXIT_INVALID;
	s7_error_clear(&err);
	memset(&o, 0, sizeof(o));
	o.phase = (int)phase_opt;
	o.only = only_opt;
	o.timeout_ms = (long)timeout_opt * 1000;
	o.resolver = resolver_opt;
	o.public_resolver = public_opt;
	o.ingress = ingress_opt;
	o.prometheus = prometheus_opt;
	if (since_opt && verify_parse_window(since_opt, &o.since_s) < 0) {
		fprintf(stderr, "sector7: error: --since '%s' is not a window like 48h, 2d or 90m\n",
		    since_opt);
		return EXIT_USAGE;
	}
	catalog_init(&cat);
	rendered_init(&r);
	verify_report_init(&rep);
	if (render_site(c, &cat, &r, &err) < 0 ||
	    verify_collect(&rep, &r, &o, &err) < 0 ||
	    open_cluster(c, &err) < 0 ||
	    verify_run(&rep, c->kube, &r, &c->site, &o, &err) < 0) {
		s7_error_print(&err, stderr);
		code = exit_code(&err);
		goto done;
	}
	if (is_json(c)) {
		if (print_report_json(&rep) < 0)
			code = EXIT_FAILED;
	} else
		print_text(&rep);
	if (code == EXIT_OK && rep.failed)
		code = EXIT_VERIFY;
done:
	verify_report_release(&rep);
	rendered_release(&r);
	catalog_release(&cat);
	return code;
}
