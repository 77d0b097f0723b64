/*
 * The command layer: the only code that prints results and picks exit
 * codes.  Each command lives in src/cmd/<name>.c and is listed in the
 * table in src/main.c.
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
	/* loaded by the dispatcher for commands that want the site */
	struct site site;
	struct findings findings;
	const char *site_name;
	struct kube_client *kube;	/* open_cluster() */
};

struct command {
	const char *name;
	int (*fn)(struct cmd_ctx *c, int npos, char **pos);
	const char *summary;	/* one line, for `sector7 help` */
	const char *usage;	/* arguments after the command name */
	const char *about;	/* paragraph for --help */
	const struct opt_spec *opts;	/* the command's own, or NULL */
	int max_pos;		/* positional arguments accepted */
	unsigned flags;
};

#define CMD_SITE 1u	/* load and check the site before running */
#define CMD_CLUSTER 2u	/* takes --kubeconfig and --context */

extern const struct command commands[];

int cmd_check(struct cmd_ctx *c, int npos, char **pos);
int cmd_render(struct cmd_ctx *c, int npos, char **pos);
int cmd_dns(struct cmd_ctx *c, int npos, char **pos);
int cmd_version(struct cmd_ctx *c, int npos, char **pos);
int cmd_apply(struct cmd_ctx *c, int npos, char **pos);
int cmd_status(struct cmd_ctx *c, int npos, char **pos);
int cmd_diff(struct cmd_ctx *c, int npos, char **pos);
int cmd_secrets(struct cmd_ctx *c, int npos, char **pos);
int cmd_fetch(struct cmd_ctx *c, int npos, char **pos);
int cmd_export(struct cmd_ctx *c, int npos, char **pos);

extern const struct opt_spec render_opts[];
extern const struct opt_spec apply_opts[];
extern const struct opt_spec diff_opts[];
extern const struct opt_spec fetch_opts[];
extern const struct opt_spec export_opts[];

/* Helpers shared by commands (src/cmd/common.c). */
int exit_code(const struct s7_error *err);
int is_json(const struct cmd_ctx *c);
void print_finding(FILE *fp, const struct finding *f);
/* Reads the site file (or the built-in site) and loads it into c->site. */
int load_site(struct cmd_ctx *c, struct s7_error *err);
const char *builtin_site_text(size_t *len);
/*
 * For commands that need a valid site: prints its errors to stderr and
 * returns 1 when there are any.
 */
int site_errors(struct cmd_ctx *c);
/* Prints n as pretty JSON on stdout (errors to stderr); 0 or -1. */
int print_json(const struct ynode *n);
/* Loads the catalog and renders c->site with the global options. */
int render_site(struct cmd_ctx *c, struct catalog *cat, struct rendered *r,
    struct s7_error *err);
/* Opens c->kube from the kubeconfig (warns when TLS is not verified). */
int open_cluster(struct cmd_ctx *c, struct s7_error *err);

#endif
