/*
 * Prometheus's HTTP API answers (/api/v1/targets, /rules, /alerts,
 * /query_range), judged.  Alerts that fire by design are not failures:
 * Watchdog (always firing, to prove the pipeline works), InfoInhibitor
 * (fires while an info alert has nothing worse beside it), and alerts
 * of severity none or info, which kube-prometheus routes nowhere
 * (catalog/monitoring/alertmanager.yaml).  A check may name more under
 * `allow:`.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "../util/strbuf.h"
#include "../util/banned.h"

static const char *const always_firing[] = { "Watchdog", "InfoInhibitor", NULL };

static const struct ynode *
data_of(struct vitem *it, const struct ynode *answer, const char *what)
{
	const char *status = ynode_get_str(answer, "status");

	if (answer == NULL || status == NULL || strcmp(status, "success") != 0) {
		const char *e = ynode_get_str(answer, "error");

		verify_set(it, V_FAIL, "%s: %s", what, e ? e :
		    "not a Prometheus API answer");
		return NULL;
	}
	return ynode_get(answer, "data");
}

void
prom_judge_targets(struct vitem *it, const struct ynode *answer)
{
	const struct ynode *data = data_of(it, answer, "targets"), *t;
	struct strbuf down;
	size_t i, up = 0, n;

	if (data == NULL)
		return;
	t = ynode_get(data, "activeTargets");
	n = t ? t->n : 0;
	strbuf_init(&down, 400);
	for (i = 0; i < n; i++) {
		const char *h = ynode_get_str(t->v[i], "health");
		const struct ynode *l = ynode_get(t->v[i], "labels");

		if (h && strcmp(h, "up") == 0) {
			up++;
			continue;
		}
		strbuf_addf(&down, "%s%s %s (%s)", down.len ? "; " : "",
		    ynode_get_str(l, "job") ? ynode_get_str(l, "job") : "?",
		    ynode_get_str(t->v[i], "scrapeUrl") ?
		    ynode_get_str(t->v[i], "scrapeUrl") : "?",
		    ynode_get_str(t->v[i], "lastError") &&
		    *ynode_get_str(t->v[i], "lastError") ?
		    ynode_get_str(t->v[i], "lastError") : h ? h : "unknown");
	}
	if (n == 0)
		verify_set(it, V_FAIL, "Prometheus has no active targets");
	else if (up < n)
		verify_set(it, V_FAIL, "%zu of %zu targets up; down: %s", up, n,
		    down.buf ? down.buf : "");
	else
		verify_set(it, V_PASS, "%zu of %zu targets up", up, n);
	strbuf_release(&down);
}

void
prom_judge_rules(struct vitem *it, const struct ynode *answer)
{
	const struct ynode *data = data_of(it, answer, "rules"), *g;
	struct strbuf bad;
	size_t i, j, rules = 0, alerting = 0, nbad = 0;

	if (data == NULL)
		return;
	g = ynode_get(data, "groups");
	strbuf_init(&bad, 400);
	for (i = 0; g && i < g->n; i++) {
		const struct ynode *r = ynode_get(g->v[i], "rules");

		for (j = 0; r && j < r->n; j++) {
			const char *h = ynode_get_str(r->v[j], "health");
			const char *type = ynode_get_str(r->v[j], "type");

			rules++;
			if (type && strcmp(type, "alerting") == 0)
				alerting++;
			if (h && strcmp(h, "ok") != 0 && strcmp(h, "unknown") != 0) {
				nbad++;
				strbuf_addf(&bad, "%s%s: %s", bad.len ? "; " : "",
				    ynode_get_str(r->v[j], "name") ?
				    ynode_get_str(r->v[j], "name") : "?",
				    ynode_get_str(r->v[j], "lastError") ?
				    ynode_get_str(r->v[j], "lastError") : h);
			}
		}
	}
	if (rules == 0)
		verify_set(it, V_FAIL, "no rules loaded");
	else if (nbad)
		verify_set(it, V_FAIL, "%zu of %zu rules fail to evaluate: %s",
		    nbad, rules, bad.buf);
	else
		verify_set(it, V_PASS, "%zu rules in %zu groups loaded (%zu alerting), all evaluating",
		    rules, g ? g->n : 0, alerting);
	strbuf_release(&bad);
}

int
prom_alert_ignored(const struct ynode *labels, const struct ynode *allow)
{
	const char *name = ynode_get_str(labels, "alertname");
	const char *sev = ynode_get_str(labels, "severity");
	size_t i;

	if (name == NULL)
		return 0;
	for (i = 0; always_firing[i]; i++)
		if (strcmp(always_firing[i], name) == 0)
			return 1;
	if (sev && (strcmp(sev, "none") == 0 || strcmp(sev, "info") == 0))
		return 1;
	for (i = 0; allow && allow->kind == Y_SEQ && i < allow->n; i++)
		if (allow->v[i]->str && strcmp(allow->v[i]->str, name) == 0)
			return 1;
	return 0;
}

static void
add_alert(struct strbuf *sb, const struct ynode *labels)
{
	const char *ns = ynode_get_str(labels, "namespace");

	strbuf_addf(sb, "%s%s%s%s%s", sb->len ? ", " : "",
	    ynode_get_str(labels, "alertname"), ns ? " (" : "", ns ? ns : "",
	    ns ? ")" : "");
}

void
prom_judge_alerts(struct vitem *it, const struct ynode *answer,
    const struct ynode *allow)
{
	const struct ynode *data = data_of(it, answer, "alerts"), *a;
	struct strbuf firing, ignored;
	size_t i, nfiring = 0;
	int watchdog = 0;

	if (data == NULL)
		return;
	a = ynode_get(data, "alerts");
	strbuf_init(&firing, 500);
	strbuf_init(&ignored, 300);
	for (i = 0; a && i < a->n; i++) {
		const struct ynode *l = ynode_get(a->v[i], "labels");
		const char *state = ynode_get_str(a->v[i], "state");
		const char *name = ynode_get_str(l, "alertname");

		if (state == NULL || strcmp(state, "firing") != 0)
			continue;
		if (name && strcmp(name, "Watchdog") == 0)
			watchdog = 1;
		if (prom_alert_ignored(l, allow)) {
			if (strstr(ignored.buf ? ignored.buf : "", name ? name : "?") == NULL)
				strbuf_addf(&ignored, "%s%s", ignored.len ? ", " : "",
				    name ? name : "?");
			continue;
		}
		nfiring++;
		add_alert(&firing, l);
	}
	if (nfiring)
		verify_set(it, V_FAIL, "%zu alert%s firing: %s", nfiring,
		    nfiring == 1 ? "" : "s", firing.buf);
	else
		verify_set(it, V_PASS, "no alert firing%s%s%s%s", ignored.len ?
		    " (by design: " : "", ignored.len ? ignored.buf : "",
		    ignored.len ? ")" : "", watchdog ? "" :
		    "; note: Watchdog is not firing");
	strbuf_release(&firing);
	strbuf_release(&ignored);
}

void
prom_judge_alert_history(struct vitem *it, const struct ynode *answer,
    const struct ynode *allow, const char *window)
{
	const struct ynode *data = data_of(it, answer, "alert history"), *res;
	struct strbuf fired;
	size_t i, n = 0;

	if (data == NULL)
		return;
	res = ynode_get(data, "result");
	strbuf_init(&fired, 500);
	for (i = 0; res && i < res->n; i++) {
		const struct ynode *l = ynode_get(res->v[i], "metric");

		if (prom_alert_ignored(l, allow))
			continue;
		if (fired.buf && ynode_get_str(l, "alertname") &&
		    strstr(fired.buf, ynode_get_str(l, "alertname")))
			continue;
		n++;
		add_alert(&fired, l);
	}
	if (n)
		verify_set(it, V_FAIL, "fired in the last %s: %s", window, fired.buf);
	else
		verify_set(it, V_PASS, "no alert fired in the last %s", window);
	strbuf_release(&fired);
}
