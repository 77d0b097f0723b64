/*
 * The command layer: the only code that prints results and picks exit
 * codes.  Each command lives in src/cmd/<name>.c and exports one entry
 * (struct cmd_entry), after tmux's cmd-*.c: its name, options, positional
 * arguments, help, and what the dispatcher must load before it runs (the
 * site, the rendered stack, the cluster connection).  src/main.c lists
 * the entries, parses, loads what an entry asks for and calls it; the
 * usage line and --help are generated from the entry's option tables.
 */
#ifndef S7_CMD_H
#define S7_CMD_H

#include <stdio.h>

#include "../site/site.h"
#include "../util/error.h"
#include "../util/opt.h"
#include "../kube/client.h"
#include "../catalog/catalog.h"
#include "../render/render.h"

/* Exit codes (docs/exit-codes.md). */
enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_INVALID = 3,
	EXIT_CLUSTER = 4,
	EXIT_TIMEOUT = 5,
	EXIT_VERIFY = 6,
};

#define BUILTIN_SITE "<built-in>"

struct cmd_ctx {
	/* global options */
	const char *site_file;	/* -f; NULL: the built-in site */
	const char *output;	/* "text" or "json" */
	const char *upstream;	/* --upstream */
	int help;
	const char *kubeconfig;	/* --kubeconfig */
	const char *context;	/* --context */

	/* loaded by the dispatcher as the entry asks */
	struct site site;		/* CMD_SITE */
	struct findings findings;
	const char *site_name;
	struct catalog cat;		/* CMD_RENDER, or render_site() */
	struct rendered r;
	int rendered;			/* cat and r to release */
	struct kube_client *kube;	/* CMD_CLUSTER */
	/*
	 * The command's deadline in seconds from connecting, for every
	 * request, retry and wait (0: CMD_DEADLINE_S).  Commands with
	 * --timeout set it in their check hook; a rollout moves it on per
	 * wave.
	 */
	long deadline_s;
};

#define CMD_DEADLINE_S 600L

#define CMD_SITE 0x1u	/* load the site and check it */
#define CMD_VALID 0x2u	/* refuse a site with errors (exit 3); implies SITE */
#define CMD_RENDER 0x4u	/* render the site through the catalog; implies VALID */
#define CMD_CLUSTER 0x8u	/* --kubeconfig, --context; connect before running */
#define CMD_UPSTREAM 0x10u	/* takes --upstream without rendering (fetch) */

struct cmd_entry {
	const char *name;
	const char *summary;	/* one line, for `sector7 help` */
	const char *args;	/* positional arguments for the usage line, or "" */
	int min_args, max_args;
	const char *about;	/* paragraph for --help */
	const struct opt_spec *opts;	/* the command's own, or NULL */
	unsigned flags;
	/* Checks the arguments before anything is loaded; an exit code. */
	int (*check)(struct cmd_ctx *c, int npos, char **pos);
	int (*exec)(struct cmd_ctx *c, int npos, char **pos);
};

extern const struct cmd_entry cmd_check_entry;
extern const struct cmd_entry cmd_render_entry;
extern const struct cmd_entry cmd_dns_entry;
extern const struct cmd_entry cmd_apply_entry;
extern const struct cmd_entry cmd_diff_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_verify_entry;
extern const struct cmd_entry cmd_secrets_entry;
extern const struct cmd_entry cmd_version_entry;
extern const struct cmd_entry cmd_backup_entry;
extern const struct cmd_entry cmd_restore_entry;
extern const struct cmd_entry cmd_teardown_entry;
extern const struct cmd_entry cmd_fetch_entry;
extern const struct cmd_entry cmd_export_entry;

/* Helpers shared by commands (src/cmd/common.c). */
int exit_code(const struct s7_error *err);
int is_json(const struct cmd_ctx *c);
/* Prints err on stderr and returns its exit code. */
int fail_with(const struct s7_error *err);
void print_finding(FILE *fp, const struct finding *f);
/* Reads the site file (or the built-in site) and loads it into c->site. */
int load_site(struct cmd_ctx *c, struct s7_error *err);
const char *builtin_site_text(size_t *len);
/*
 * For commands that need a valid site: prints its errors to stderr and
 * returns 1 when there are any.
 */
int site_errors(struct cmd_ctx *c);
/*
 * Loads the catalog and renders c->site into c->cat and c->r, then adds
 * the checks that need the render (dependencies, storage budget) to
 * c->findings.  A full render with new errors prints them and fails; a
 * templates-only render (for check) reads no upstream cache.
 */
int render_site(struct cmd_ctx *c, int templates_only, struct s7_error *err);
/* Opens c->kube from the kubeconfig (warns when TLS is not verified). */
int open_cluster(struct cmd_ctx *c, struct s7_error *err);
/* A step begins: the command's deadline is deadline_s from now again. */
void cmd_deadline(struct cmd_ctx *c);

/* Shared by backup, restore and teardown (src/cmd/backup.c). */
struct backup_site;
/* The site's identity and the sha256 of its text, for a backup. */
int backup_site_of(const struct cmd_ctx *c, struct backup_site *s,
    struct s7_error *err);
/* path, relative to the site file's directory unless absolute. */
char *site_relative(const struct cmd_ctx *c, const char *path);
/* A backup_note_fn: the note on stderr, indented. */
void note_stderr(void *arg, const char *msg);

#endif
