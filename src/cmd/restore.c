/*
 * sector7 restore DIR: a backup back onto a cluster, in the order that
 * keeps what cannot be made again:
 *
 *   1. the backup must verify (every sum) and be of this site (its name
 *      and domain), unless --force;
 *   2. credentials first: every Secret of the envelope (decrypted with
 *      --key), before `secrets ensure` could make new ones, so n8n's
 *      encryption key and AppFlowy's JWT secret survive;
 *   3. kept volumes rebound to the rendered claims (--recreate-volumes:
 *      also the backup's, when the cluster lacks them);
 *   4. the site applied (the rollout engine), with the workloads of the
 *      components that use a restored database held at 0 replicas;
 *   5. the databases restored, in each PostgreSQL cluster's new primary;
 *   6. the site applied again (the workloads start on restored data);
 *   7. every other object of the backup that no controller makes;
 *   8. the status of every component.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "events.h"
#include "output.h"
#include "../backup/backup.h"
#include "../backup/restore.h"
#include "../plan/plan.h"
#include "../rollout/rollout.h"
#include "../util/fs.h"
#include "../util/xmalloc.h"
#include "../version.h"
#include "../util/banned.h"

static const char *key_opt;
static int force_opt, recreate_opt;
static long long timeout_opt = 300;

static const struct opt_spec restore_opts[] = {
	{ "key", 0, OPT_STRING, &key_opt, "FILE",
	  "the backup recipient's private key (PEM), to decrypt the Secrets", 0, 0,
	  NULL },
	{ "force", 0, OPT_FLAG, &force_opt, NULL,
	  "restore a backup of another site (name or domain differs)", 0, 0, NULL },
	{ "recreate-volumes", 0, OPT_FLAG, &recreate_opt, NULL,
	  "create the backup's volumes of the rendered claims that this cluster lacks (their storage must still exist)",
	  0, 0, NULL },
	{ "timeout", 0, OPT_INT, &timeout_opt, "SECONDS",
	  "how long each wave, and each PostgreSQL primary, may take (default 300)",
	  1, 86400, NULL },
	{ NULL },
};

static void
event(void *arg, const struct rollout_event *ev)
{
	(void)arg;
	if (ev->type == RE_FAILED || ev->type == RE_NOT_READY ||
	    ev->type == RE_POD || ev->type == RE_EVENT || ev->type == RE_REPLACED)
		event_print(stderr, ev);
}

/* Whether component ci uses a database the backup restores. */
static int
uses_database(const struct rendered *r, size_t ci)
{
	const struct component *c = r->comps[ci].c;
	size_t i;

	for (i = 0; i < c->nneeds; i++)
		if (strcmp(c->needs[i], "postgres") == 0)
			return 1;
	for (i = r->comps[ci].first; i < r->comps[ci].first + r->comps[ci].nobj; i++)
		if (strcmp(r->objs[i].kind, "Cluster") == 0)
			return 1;
	return 0;
}

struct held {
	struct ynode *spec;
	struct ynode *replicas;		/* as rendered, or NULL */
};

/*
 * Holds (0 replicas) every Deployment and StatefulSet of the components
 * that use a database; *n gets how many, the originals kept in h.
 */
static struct held *
hold(struct rendered *r, size_t *n)
{
	struct held *h = xcalloc(r->nobjs + 1, sizeof(*h));
	size_t i;

	*n = 0;
	for (i = 0; i < r->nobjs; i++) {
		struct robject *o = &r->objs[i];
		struct ynode *spec;

		if (!r->comps[o->comp].enabled || !uses_database(r, o->comp) ||
		    o->obj == NULL || (strcmp(o->kind, "Deployment") &&
		    strcmp(o->kind, "StatefulSet")))
			continue;
		spec = ynode_get(o->obj, "spec");
		if (spec == NULL)
			continue;
		h[*n].spec = spec;
		h[*n].replicas = ynode_get(spec, "replicas");
		ynode_map_set(&r->arena, spec, "replicas", ynode_int(&r->arena, 0));
		(*n)++;
	}
	return h;
}

static void
unhold(struct rendered *r, struct held *h, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (h[i].replicas)
			ynode_map_set(&r->arena, h[i].spec, "replicas", h[i].replicas);
		else
			ynode_map_del(h[i].spec, "replicas");
	}
}

static int
apply(struct cmd_ctx *c, const char *what, struct rollout_stats *st,
    struct s7_error *err)
{
	struct rollout_opts ro;
	struct plan p;
	int r;

	fprintf(stderr, "%s\n", what);
	memset(&ro, 0, sizeof(ro));
	memset(&p, 0, sizeof(p));
	memset(st, 0, sizeof(*st));
	ro.set = c->site.name;
	ro.timeout_s = (long)timeout_opt;
	ro.version = SECTOR7_VERSION;
	ro.event = event;
	r = plan_make(&p, &c->r, 0, NULL, err) < 0 ? -1 :
	    rollout_apply(c->kube, &c->r, &p, &ro, st, err);
	plan_release(&p);
	return r;
}

/*
 * The place for the post-restore check: `sector7 verify` (the gameplan's
 * checklists) belongs here once it exists; until then the status of every
 * component, which must be ready.
 */
static int
check_after(struct cmd_ctx *c, size_t *ready, struct s7_error *err)
{
	struct comp_status *cs = xcalloc(c->r.ncomps + 1, sizeof(*cs));
	size_t i;
	int ret = 0;

	*ready = 0;
	if (rollout_status(c->kube, &c->r, cs, err) < 0) {
		free(cs);
		return -1;
	}
	for (i = 0; i < c->r.ncomps; i++) {
		if (!cs[i].enabled)
			continue;
		if (cs[i].state == KS_CURRENT)
			(*ready)++;
		else if (ret == 0)
			ret = s7_error_class(err, S7_ECLUSTER, "after the restore, %s is %s: %s",
			    cs[i].name, kstatus_name(cs[i].state), cs[i].why);
	}
	free(cs);
	return ret;
}

static int
restore_check(struct cmd_ctx *c, int npos, char **pos)
{
	c->deadline_s = (long)timeout_opt;	/* moved on per step */
	(void)npos;
	(void)pos;
	if (key_opt == NULL) {
		fprintf(stderr, "sector7: error: restore needs --key FILE: the private key of the backup's recipient, to decrypt its Secrets\n");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int
restore_exec(struct cmd_ctx *c, int npos, char **pos)
{
	const char *dir = pos[0];
	struct manifest m;
	struct backup_site site;
	struct restore_stats st;
	struct rollout_stats rs;
	struct s7_error err;
	struct strbuf key;
	struct claim *claims = NULL;
	struct held *held = NULL;
	size_t nclaims = 0, nheld = 0, i, ready = 0;
	double t0 = (double)http_now_ms() / 1000;
	int code = EXIT_OK;

	(void)npos;
	s7_error_clear(&err);
	memset(&st, 0, sizeof(st));
	manifest_init(&m);
	strbuf_init(&key, 1024 * 1024);
	if (manifest_load(&m, dir, &err) < 0 || backup_verify(&m, NULL, &err) < 0 ||
	    backup_site_of(c, &site, &err) < 0) {
		code = fail_with(&err);
		goto done;
	}
	if (strcmp(site.id, m.site_id) != 0 && !force_opt) {
		s7_error_class(&err, S7_EVERIFY,
		    "%s: a backup of site %s (%s), not of %s (%s): --force to restore it anyway",
		    dir, m.site_name ? m.site_name : "?", m.site_domain ? m.site_domain : "?",
		    site.name, site.domain);
		code = fail_with(&err);
		goto done;
	}
	if (strcmp(site.text_sha256, m.site_sha256 ? m.site_sha256 : "") != 0)
		fprintf(stderr, "note: the site file changed since the backup was made\n");
	cmd_deadline(c);
	if (fs_read(key_opt, &key, &err) < 0 ||
	    restore_secrets(c->kube, &m, key.buf, key.len, &st, note_stderr, NULL,
	    &err) < 0) {
		code = fail_with(&err);
		goto done;
	}
	claims = xcalloc(c->r.nobjs + 1, sizeof(*claims));
	for (i = 0; i < c->r.nobjs; i++)
		if (c->r.comps[c->r.objs[i].comp].enabled &&
		    strcmp(c->r.objs[i].kind, "PersistentVolumeClaim") == 0 &&
		    c->r.objs[i].namespace) {
			claims[nclaims].namespace = c->r.objs[i].namespace;
			claims[nclaims].name = c->r.objs[i].name;
			if (robject_tree(&c->r.objs[i], &c->r.arena,
			    &claims[nclaims].obj, &err) < 0) {
				code = fail_with(&err);
				goto done;
			}
			nclaims++;
		}
	cmd_deadline(c);
	if (restore_volumes(c->kube, &m, claims, nclaims, recreate_opt, &st,
	    note_stderr, NULL, &err) < 0) {
		code = fail_with(&err);
		goto done;
	}
	if (m.ndbs) {
		held = hold(&c->r, &nheld);
		if (apply(c, "applying the site, the workloads of restored databases held at 0 replicas",
		    &rs, &err) < 0) {
			unhold(&c->r, held, nheld);
			code = fail_with(&err);
			goto done;
		}
		unhold(&c->r, held, nheld);
		cmd_deadline(c);
		if (restore_databases(c->kube, &m, (long)timeout_opt, &st, note_stderr,
		    NULL, &err) < 0) {
			code = fail_with(&err);
			goto done;
		}
	} else if (m.databases_skipped) {
		fprintf(stderr, "note: the backup was made with --skip-databases: no database is restored\n");
	}
	if (apply(c, "applying the site", &rs, &err) < 0) {
		code = fail_with(&err);
		goto done;
	}
	cmd_deadline(c);
	if (restore_objects(c->kube, &m, &st, note_stderr, NULL, &err) < 0 ||
	    check_after(c, &ready, &err) < 0) {
		code = fail_with(&err);
		goto done;
	}
	out_string(OUT_JSON, "backup", NULL, dir);
	out_uint(OUT_JSON, "secrets", NULL, st.secrets);
	out_uint(OUT_JSON, "secrets_present", NULL, st.secrets_present);
	out_uint(OUT_JSON, "volumes_rebound", NULL, st.volumes_rebound);
	out_uint(OUT_JSON, "volumes_recreated", NULL, st.volumes_recreated);
	out_uint(OUT_JSON, "databases", NULL, st.databases);
	out_uint(OUT_JSON, "objects_applied", NULL, rs.objects);
	out_uint(OUT_JSON, "objects_restored", NULL, st.objects_created);
	out_uint(OUT_JSON, "objects_present", NULL, st.objects_present);
	out_uint(OUT_JSON, "objects_skipped", NULL, st.objects_skipped);
	out_uint(OUT_JSON, "components_ready", NULL, ready);
	out_float(OUT_JSON, "seconds", NULL, (double)http_now_ms() / 1000 - t0);
	out_text("restored %s: %zu Secrets, %zu volumes rebound (%zu created again), %zu databases, %zu objects restored from the backup (%zu there already, %zu left to their controllers); %zu components ready in %.1fs\n",
	    dir, st.secrets, st.volumes_rebound, st.volumes_recreated, st.databases,
	    st.objects_created, st.objects_present, st.objects_skipped, ready,
	    (double)http_now_ms() / 1000 - t0);
done:
	free(claims);
	free(held);
	strbuf_release_secret(&key);
	manifest_release(&m);
	return code;
}

const struct cmd_entry cmd_restore_entry = {
	"restore", "put a backup back onto a cluster: credentials, volumes, the site, databases, objects",
	"DIR", 1, 1,
	"Refuses a backup that does not verify (naming the file) or of another site\n"
	"(unless --force). Restores the Secrets first (decrypted with --key), so the\n"
	"credentials sector7 generated keep their values; rebinds kept volumes to the\n"
	"rendered claims; applies the site with the workloads of restored databases held\n"
	"at 0 replicas; restores every database with pg_restore in its PostgreSQL\n"
	"cluster's new primary; applies the site again; creates every other object of\n"
	"the backup that no controller makes; then checks every component's status.",
	restore_opts, CMD_RENDER | CMD_CLUSTER, restore_check, restore_exec,
};
