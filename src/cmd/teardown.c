/*
 * sector7 teardown: the gameplan's phase 1 (delete every app namespace),
 * made safe.  It refuses without a verified backup of this cluster
 * younger than 24 hours, shows what it deletes and asks (or --yes), keeps
 * every bound volume of those namespaces for 7 days (reclaim policy
 * Retain, label sector7.io/keep-until), and deletes the namespaces of the
 * rendered objects in reverse order of the rollout, one at a time, never
 * forcing one.  kube-system, kube-public, kube-node-lease and default are
 * never deleted; sector7's own namespace only with --include-set, and
 * longhorn-system (which holds the kept volumes' data) only with
 * --include-storage.
 *
 * sector7 teardown --expired: deletes the kept volumes past their date.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "output.h"
#include "../backup/backup.h"
#include "../backup/teardown.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

static const char *backup_opt;
static int yes_opt, expired_opt, include_set_opt, include_storage_opt,
    without_db_opt;
static long long timeout_opt = 600;

static const struct opt_spec teardown_opts[] = {
	{ "backup", 0, OPT_STRING, &backup_opt, "DIR",
	  "a backup of this cluster made less than 24 hours ago (verified first)",
	  0, 0, NULL },
	{ "yes", 'y', OPT_FLAG, &yes_opt, NULL,
	  "do not ask (needed without a terminal)", 0, 0, NULL },
	{ "expired", 0, OPT_FLAG, &expired_opt, NULL,
	  "only delete the kept volumes past their keep-until date", 0, 0, NULL },
	{ "include-set", 0, OPT_FLAG, &include_set_opt, NULL,
	  "also delete sector7's own namespace (the site's name)", 0, 0, NULL },
	{ "include-storage", 0, OPT_FLAG, &include_storage_opt, NULL,
	  "also delete longhorn-system, and with it the kept volumes' data", 0, 0,
	  NULL },
	{ "without-dumps", 0, OPT_FLAG, &without_db_opt, NULL,
	  "accept a backup made with --skip-databases", 0, 0, NULL },
	{ "timeout", 0, OPT_INT, &timeout_opt, "SECONDS",
	  "how long each namespace may take to go (default 600)", 1, 86400, NULL },
	{ NULL },
};

static int
protected_ns(const struct cmd_ctx *c, const char *ns)
{
	static const char *const never[] = { "kube-system", "kube-public",
	    "kube-node-lease", "default", NULL };
	size_t i;

	for (i = 0; never[i]; i++)
		if (strcmp(ns, never[i]) == 0)
			return 1;
	if (!include_set_opt && strcmp(ns, c->site.name) == 0)
		return 1;
	if (!include_storage_opt && strcmp(ns, "longhorn-system") == 0)
		return 1;
	return 0;
}

/* The rendered namespaces, last to appear first. */
static size_t
namespaces(const struct cmd_ctx *c, const char **out, size_t cap)
{
	size_t i, j, n = 0;

	for (i = 0; i < c->r.nobjs; i++) {
		const struct robject *o = &c->r.objs[i];
		const char *ns = strcmp(o->kind, "Namespace") == 0 ? o->name :
		    o->namespace;
		int seen = 0;

		if (ns == NULL || !c->r.comps[o->comp].enabled || protected_ns(c, ns))
			continue;
		for (j = 0; j < n; j++)
			seen |= strcmp(out[j], ns) == 0;
		if (!seen && n < cap)
			out[n++] = ns;
	}
	for (i = 0; i < n / 2; i++) {
		const char *t = out[i];

		out[i] = out[n - 1 - i];
		out[n - 1 - i] = t;
	}
	return n;
}

static int
check_backup(const struct cmd_ctx *c, struct s7_error *err)
{
	struct manifest m;
	struct arena a;
	const char *uid = NULL;
	time_t now = time(NULL);
	int ret = -1;

	manifest_init(&m);
	arena_init(&a);
	if (manifest_load(&m, backup_opt, err) < 0 ||
	    backup_verify(&m, NULL, err) < 0)
		goto done;
	if (now - m.finished_t > 24 * 3600 || m.finished_t > now + 300) {
		s7_error_class(err, S7_EVERIFY,
		    "%s: the backup finished %s, more than 24 hours ago: make a fresh one (sector7 backup)",
		    backup_opt, m.finished);
		goto done;
	}
	if (cluster_uid(c->kube, &a, &uid, err) < 0)
		goto done;
	if (strcmp(uid, m.cluster_uid) != 0) {
		s7_error_class(err, S7_EVERIFY,
		    "%s: a backup of another cluster (kube-system uid %s, this one's is %s)",
		    backup_opt, m.cluster_uid, uid);
		goto done;
	}
	if (m.databases_skipped && !without_db_opt) {
		s7_error_class(err, S7_EVERIFY,
		    "%s: made with --skip-databases, so it holds no database: --without-dumps to tear down anyway",
		    backup_opt);
		goto done;
	}
	ret = 0;
done:
	manifest_release(&m);
	arena_release(&a);
	return ret;
}

static int
ask(void)
{
	char line[32];

	fprintf(stderr, "Delete these namespaces? Type 'yes' to go on: ");
	fflush(stderr);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return 0;
	return strcmp(line, "yes\n") == 0;
}

static int
teardown_check(struct cmd_ctx *c, int npos, char **pos)
{
	c->deadline_s = (long)timeout_opt;
	(void)npos;
	(void)pos;
	if (expired_opt)
		return EXIT_OK;
	if (backup_opt == NULL) {
		fprintf(stderr, "sector7: error: teardown needs --backup DIR: a verified backup of this cluster, less than 24 hours old\n");
		return EXIT_USAGE;
	}
	if (!yes_opt && !(isatty(0) && isatty(2))) {
		fprintf(stderr, "sector7: error: teardown asks before it deletes, and there is no terminal to ask on: give --yes\n");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int
expired_exec(struct cmd_ctx *c)
{
	struct s7_error err;
	size_t n = 0;

	s7_error_clear(&err);
	if (teardown_expired(c->kube, time(NULL), (long)timeout_opt, note_stderr,
	    NULL, &n, &err) < 0)
		return fail_with(&err);
	out_uint(OUT_JSON, "deleted", NULL, n);
	out_text("%zu kept volume%s past their date deleted\n", n, n == 1 ? "" : "s");
	return EXIT_OK;
}

static int
teardown_exec(struct cmd_ctx *c, int npos, char **pos)
{
	struct teardown_plan p;
	struct s7_error err;
	const char **order = NULL;
	size_t n, i;
	time_t until = time(NULL) + KEEP_DAYS * 24 * 3600;
	char when[32];
	int code = EXIT_OK;

	(void)npos;
	(void)pos;
	if (expired_opt)
		return expired_exec(c);
	s7_error_clear(&err);
	teardown_plan_init(&p);
	if (check_backup(c, &err) < 0) {
		code = fail_with(&err);
		goto done;
	}
	order = xcalloc(c->r.nobjs + 1, sizeof(*order));
	n = namespaces(c, order, c->r.nobjs);
	if (teardown_plan_make(c->kube, order, n, &p, &err) < 0) {
		code = fail_with(&err);
		goto done;
	}
	rfc3339(until, when);
	fprintf(stderr, "backup %s verified (this cluster, less than 24 hours old)\n",
	    backup_opt);
	fprintf(stderr, "namespaces to delete, in this order:\n");
	for (i = 0; i < p.nns; i++)
		fprintf(stderr, "  %s\n", p.namespaces[i]);
	fprintf(stderr, "volumes kept until %s (reclaim policy Retain, label %s):\n",
	    when, KEEP_LABEL);
	for (i = 0; i < p.npvs; i++)
		fprintf(stderr, "  %s (%s/%s)\n", p.pvs[i].name,
		    p.pvs[i].claim_namespace, p.pvs[i].claim_name);
	if (p.nns == 0) {
		out_text("nothing to delete\n");
		goto done;
	}
	if (!yes_opt && !ask()) {
		fprintf(stderr, "sector7: nothing deleted\n");
		code = EXIT_FAILED;
		goto done;
	}
	cmd_deadline(c);	/* the answer may have taken a while */
	if (teardown_keep(c->kube, &p, until, &err) < 0 ||
	    teardown_delete(c->kube, &p, (long)timeout_opt, note_stderr, NULL,
	    &err) < 0) {
		code = fail_with(&err);
		goto done;
	}
	out_open_array("namespaces");
	for (i = 0; i < p.nns; i++)
		out_string(OUT_JSON, NULL, NULL, p.namespaces[i]);
	out_close_array();
	out_open_array("kept_volumes");
	for (i = 0; i < p.npvs; i++)
		out_string(OUT_JSON, NULL, NULL, p.pvs[i].name);
	out_close_array();
	out_string(OUT_JSON, "keep_until", NULL, when);
	out_text("deleted %zu namespaces; %zu volumes kept until %s (sector7 teardown --expired deletes them after)\n",
	    p.nns, p.npvs, when);
done:
	free(order);
	teardown_plan_release(&p);
	return code;
}

const struct cmd_entry cmd_teardown_entry = {
	"teardown", "delete the site's namespaces, keeping their volumes 7 days (needs a fresh backup)",
	"", 0, 0,
	"Refuses unless --backup names a backup of this cluster (same kube-system uid)\n"
	"that verifies and is less than 24 hours old. Shows the namespaces it deletes\n"
	"and the volumes it keeps, and asks (--yes: without asking; without a terminal\n"
	"--yes is required). Every bound PersistentVolume of those namespaces gets reclaim\n"
	"policy Retain and the label sector7.io/keep-until (a unix time 7 days ahead)\n"
	"first; then the namespaces of the rendered objects go one at a time, in reverse\n"
	"rollout order, each waited for. Nothing is forced: finalizers are left alone.\n"
	"--expired deletes only the kept volumes past their date.",
	teardown_opts, CMD_RENDER | CMD_CLUSTER, teardown_check, teardown_exec,
};
