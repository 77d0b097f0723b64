/*
 * sector7 backup: the gameplan's phase 0, made safe.  Every object the
 * cluster lists, one file each; every Secret in one CMS envelope for the
 * site's recipient certificate; every database of every PostgreSQL
 * cluster (and the legacy deployment's) dumped in its primary pod; a
 * manifest with every file's sha256, written last, and the directory
 * renamed into place only when all of it is on disk.
 *
 * sector7 backup verify DIR: every sum and size again, and every dump
 * read by pg_restore --list.
 *
 * This command loads the site and the cluster itself (its own -f,
 * --kubeconfig and --context), since verify needs neither.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "output.h"
#include "../backup/backup.h"
#include "../catalog/embedded.h"
#include "../crypto/crypto.h"
#include "../util/fs.h"
#include "../util/strbuf.h"
#include "../util/xmalloc.h"
#include "../version.h"
#include "../util/banned.h"

static const char *out_opt, *recipient_opt, *file_opt, *kubeconfig_opt,
    *context_opt, *pg_restore_opt;
static int skip_db_opt;
static long long timeout_opt = 3600;

static const struct opt_spec backup_opts[] = {
	{ "output-dir", 'o', OPT_STRING, &out_opt, "DIR",
	  "the backup's directory (must not exist; default: backup.local-dir/SITE-TIME)",
	  0, 0, NULL },
	{ "recipient", 0, OPT_STRING, &recipient_opt, "FILE",
	  "PEM certificate the Secrets are encrypted to (default: backup.recipient)",
	  0, 0, NULL },
	{ "skip-databases", 0, OPT_FLAG, &skip_db_opt, NULL,
	  "make no database dumps (recorded in the manifest; teardown refuses such a backup unless told)",
	  0, 0, NULL },
	{ "timeout", 0, OPT_INT, &timeout_opt, "SECONDS",
	  "one deadline for every request and dump of the backup (default 3600)",
	  1, 86400, NULL },
	{ "pg-restore", 0, OPT_STRING, &pg_restore_opt, "PROGRAM",
	  "verify: the pg_restore that lists the dumps (default: pg_restore; PostgreSQL 17 or later)",
	  0, 0, NULL },
	{ "file", 'f', OPT_STRING, &file_opt, "FILE",
	  "site description (default: the built-in sector7 site)", 0, 0, NULL },
	{ "kubeconfig", 0, OPT_STRING, &kubeconfig_opt, "FILE",
	  "kubeconfig to use (default: $KUBECONFIG, else ~/.kube/config)", 0, 0,
	  NULL },
	{ "context", 0, OPT_STRING, &context_opt, "NAME",
	  "kubeconfig context (default: its current-context)", 0, 0, NULL },
	{ NULL },
};

void
note_stderr(void *arg, const char *msg)
{
	(void)arg;
	fputs("  ", stderr);
	out_escaped(stderr, msg, strlen(msg), 600, 0);
	fputc('\n', stderr);
}

char *
site_relative(const struct cmd_ctx *c, const char *path)
{
	const char *slash;

	if (path[0] == '/' || c->site_file == NULL ||
	    (slash = strrchr(c->site_file, '/')) == NULL)
		return xstrdup(path);
	return xasprintf("%.*s/%s", (int)(slash - c->site_file), c->site_file, path);
}

int
backup_site_of(const struct cmd_ctx *c, struct backup_site *s,
    struct s7_error *err)
{
	struct strbuf sb;

	memset(s, 0, sizeof(*s));
	s->name = c->site.name;
	s->domain = c->site.domain;
	backup_site_id(s->name, s->domain, s->id);
	strbuf_init(&sb, 1024 * 1024);
	if (c->site_file) {
		if (fs_read(c->site_file, &sb, err) < 0) {
			strbuf_release(&sb);
			return -1;
		}
		sha256_hex(sb.buf, sb.len, s->text_sha256);
	} else {
		size_t len;
		const char *t = builtin_site_text(&len);

		sha256_hex(t, len, s->text_sha256);
	}
	strbuf_release(&sb);
	return 0;
}

/* --recipient, or backup.recipient: inline PEM or a path. */
static int
recipient(const struct cmd_ctx *c, struct strbuf *pem, struct s7_error *err)
{
	const struct ynode *v = site_get(&c->site, "backup.recipient");
	char *path;
	int r;

	if (recipient_opt == NULL && (v == NULL || v->str == NULL))
		return s7_error_class(err, S7_EUSAGE,
		    "no recipient for the Secrets: set backup.recipient in the site (a PEM certificate or its path) or give --recipient FILE (docs/backup.md says how to make one)");
	if (recipient_opt == NULL && strncmp(v->str, "-----BEGIN", 10) == 0)
		return strbuf_addstr(pem, v->str);
	path = recipient_opt ? xstrdup(recipient_opt) : site_relative(c, v->str);
	r = fs_read(path, pem, err);
	free(path);
	return r;
}

static char *
default_dir(const struct cmd_ctx *c, struct s7_error *err)
{
	const struct ynode *v = site_get(&c->site, "backup.local-dir");
	char stamp[32], *base, *dir;
	struct tm tm;
	time_t now = time(NULL);

	if (v == NULL || v->str == NULL) {
		s7_error_class(err, S7_EUSAGE,
		    "where to? give -o DIR or set backup.local-dir in the site");
		return NULL;
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	base = site_relative(c, v->str);
	if (fs_mkdirs(base, 0700, err) < 0) {
		free(base);
		return NULL;
	}
	dir = xasprintf("%s/%s-%s", base, c->site.name, stamp);
	free(base);
	return dir;
}

static int
verify_exec(const char *dir)
{
	struct manifest m;
	struct verify_opts vo;
	struct s7_error err;
	size_t i, dumps = 0;
	int code = EXIT_OK;

	s7_error_clear(&err);
	manifest_init(&m);
	memset(&vo, 0, sizeof(vo));
	vo.pg_restore = pg_restore_opt ? pg_restore_opt : "pg_restore";
	vo.note = isatty(2) ? note_stderr : NULL;
	if (manifest_load(&m, dir, &err) < 0 || backup_verify(&m, &vo, &err) < 0) {
		code = fail_with(&err);
		goto done;
	}
	for (i = 0; i < m.nfiles; i++)
		dumps += m.files[i].database != NULL;
	out_string(OUT_JSON, "backup", NULL, dir);
	out_bool(OUT_JSON, "verified", NULL, 1);
	out_uint(OUT_JSON, "files", NULL, m.nfiles);
	out_uint(OUT_JSON, "dumps", NULL, dumps);
	out_string(OUT_JSON, "site", NULL, m.site_name);
	out_string(OUT_JSON, "cluster_uid", NULL, m.cluster_uid);
	out_string(OUT_JSON, "finished", NULL, m.finished);
	out_bool(OUT_JSON, "databases_skipped", NULL, m.databases_skipped);
	out_text("%s: verified: %zu files, %zu database dumps listed by pg_restore%s; site %s, finished %s\n",
	    dir, m.nfiles, dumps, m.databases_skipped ? " (made with --skip-databases)" : "",
	    m.site_name, m.finished);
done:
	manifest_release(&m);
	return code;
}

static int
backup_check(struct cmd_ctx *c, int npos, char **pos)
{
	(void)c;
	if (npos > 0 && (strcmp(pos[0], "verify") != 0 || npos != 2)) {
		fprintf(stderr, "sector7: error: usage: sector7 backup [-o DIR] | sector7 backup verify DIR\n");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int
backup_exec(struct cmd_ctx *c, int npos, char **pos)
{
	struct backup_opts bo;
	struct backup_stats st;
	struct s7_error err;
	struct strbuf pem;
	char *dir = NULL;
	int code = EXIT_OK, loaded = 0;
	char subject[CERT_SUBJECT_MAX], sha[SHA256_HEXLEN];

	if (npos == 2)
		return verify_exec(pos[1]);
	s7_error_clear(&err);
	strbuf_init(&pem, 1024 * 1024);
	c->site_file = file_opt;
	c->kubeconfig = kubeconfig_opt;
	c->context = context_opt;
	if (load_site(c, &err) < 0) {
		code = fail_with(&err);
		goto done;
	}
	loaded = 1;
	if (site_errors(c)) {
		code = EXIT_INVALID;
		goto done;
	}
	memset(&bo, 0, sizeof(bo));
	c->deadline_s = (long)timeout_opt;
	if (recipient(c, &pem, &err) < 0 ||
	    crypto_cert_info(pem.buf, pem.len, subject, sha, &err) < 0 ||
	    backup_site_of(c, &bo.site, &err) < 0 ||
	    (dir = out_opt ? xstrdup(out_opt) : default_dir(c, &err)) == NULL ||
	    open_cluster(c, &err) < 0) {
		code = fail_with(&err);
		goto done;
	}
	bo.dir = dir;
	bo.recipient = pem.buf;
	bo.recipient_len = pem.len;
	bo.version = SECTOR7_VERSION;
	bo.skip_databases = skip_db_opt;
	bo.legacy_namespace = site_get(&c->site, "backup.legacy-namespace") ?
	    site_get(&c->site, "backup.legacy-namespace")->str : NULL;
	bo.note = note_stderr;
	if (backup_run(c->kube, &bo, &st, &err) < 0) {
		code = fail_with(&err);
		goto done;
	}
	out_string(OUT_JSON, "backup", NULL, dir);
	out_uint(OUT_JSON, "objects", NULL, st.objects);
	out_uint(OUT_JSON, "secrets", NULL, st.secrets);
	out_string(OUT_JSON, "recipient", NULL, subject);
	out_uint(OUT_JSON, "database_dumps", NULL, st.databases);
	out_bool(OUT_JSON, "databases_skipped", NULL, skip_db_opt);
	out_uint(OUT_JSON, "resources_skipped", NULL, st.skipped);
	out_uint(OUT_JSON, "files", NULL, st.files);
	out_uint(OUT_JSON, "bytes", NULL, st.bytes);
	out_float(OUT_JSON, "seconds", NULL, st.seconds);
	out_text("backup %s: %zu objects, %zu Secrets encrypted to %s, %zu database dumps%s; %zu files, %.1f MB in %.1fs\n",
	    dir, st.objects, st.secrets, subject, st.databases,
	    skip_db_opt ? " (skipped: --skip-databases)" : "", st.files,
	    (double)st.bytes / 1e6, st.seconds);
done:
	free(dir);
	strbuf_release(&pem);
	if (loaded) {
		findings_release(&c->findings);
		site_release(&c->site);
	}
	return code;
}

const struct cmd_entry cmd_backup_entry = {
	"backup", "back the cluster up: objects, encrypted Secrets, database dumps; or verify a backup",
	"[verify DIR]", 0, 2,
	"Writes every object the cluster lists (all namespaces and cluster-scoped\n"
	"resources, Events excepted) to its own file; every Secret, in one CMS envelope\n"
	"(AES-256) encrypted to the site's backup.recipient certificate, which\n"
	"`openssl cms -decrypt` opens without sector7; every database of every\n"
	"PostgreSQL cluster (pg_dumpall --globals-only and pg_dump -Fc, as the read-only\n"
	"dump role, in the cluster's primary pod) and the legacy deployment's; and a\n"
	"manifest with every file's sha256 and size, the site, the cluster's UID and the\n"
	"versions. The backup is built beside DIR and renamed into place when complete.\n"
	"`backup verify DIR` checks every file again and lists every dump with pg_restore.",
	backup_opts, 0, backup_check, backup_exec,
};
