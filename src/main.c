/*
 * sector7: one site description in, a running platform on k3s out.
 *
 * This file holds the command table and the dispatcher: the global
 * options, the usage and help made from each entry's option tables, the
 * loading an entry asks for (site, render, cluster), and the final check
 * that standard output was written.  One command per file in src/cmd/.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "cmd/cmd.h"
#include "cmd/output.h"
#include "util/text.h"
#include "version.h"
#include "util/banned.h"

static const char *const outputs[] = { "text", "json", NULL };
static struct cmd_ctx ctx;

static const struct opt_spec global_opts[] = {
	{ "output", 0, OPT_CHOICE, &ctx.output, "FORMAT",
	  "text (default) or json", 0, 0, outputs },
	{ "help", 'h', OPT_FLAG, &ctx.help, NULL, "show help for the command",
	  0, 0, NULL },
	{ NULL },
};

static const struct opt_spec site_opts[] = {
	{ "file", 'f', OPT_STRING, &ctx.site_file, "FILE",
	  "site description (default: the built-in sector7 site)", 0, 0, NULL },
	{ NULL },
};

static const struct opt_spec render_opts[] = {
	{ "upstream", 0, OPT_STRING, &ctx.upstream, "DIR",
	  "cache of pinned upstream manifests (default: $SECTOR7_UPSTREAM or ~/.cache/sector7/upstream)",
	  0, 0, NULL },
	{ NULL },
};

static const struct opt_spec cluster_opts[] = {
	{ "kubeconfig", 0, OPT_STRING, &ctx.kubeconfig, "FILE",
	  "kubeconfig to use (default: $KUBECONFIG, else ~/.kube/config)", 0, 0,
	  NULL },
	{ "context", 0, OPT_STRING, &ctx.context, "NAME",
	  "kubeconfig context (default: its current-context)", 0, 0, NULL },
	{ NULL },
};

static int help_exec(struct cmd_ctx *c, int npos, char **pos);

static const struct cmd_entry help_entry = {
	"help", "show help for a command", "[COMMAND]", 0, 1,
	"Lists the commands, or shows the help of one.",
	NULL, 0, NULL, help_exec,
};

static const struct cmd_entry *const commands[] = {
	&cmd_check_entry,
	&cmd_render_entry,
	&cmd_dns_entry,
	&cmd_apply_entry,
	&cmd_diff_entry,
	&cmd_status_entry,
	&cmd_verify_entry,
	&cmd_secrets_entry,
	&cmd_backup_entry,
	&cmd_restore_entry,
	&cmd_teardown_entry,
	&cmd_fetch_entry,
	&cmd_export_entry,
	&cmd_version_entry,
	&help_entry,
	NULL,
};

static const struct cmd_entry *
find_command(const char *name)
{
	const struct cmd_entry *const *c;

	for (c = commands; *c; c++)
		if (strcmp((*c)->name, name) == 0)
			return *c;
	return NULL;
}

static unsigned
needs(const struct cmd_entry *c)
{
	unsigned f = c->flags;

	if (f & CMD_RENDER)
		f |= CMD_VALID;
	if (f & CMD_VALID)
		f |= CMD_SITE;
	return f;
}

/* The option tables of a command: its own first, the globals last. */
static void
command_tables(const struct cmd_entry *c, const struct opt_spec **t)
{
	unsigned f = needs(c);
	size_t n = 0;

	if (c->opts)
		t[n++] = c->opts;
	if (f & CMD_SITE)
		t[n++] = site_opts;
	if (f & (CMD_RENDER | CMD_UPSTREAM))
		t[n++] = render_opts;
	if (f & CMD_CLUSTER)
		t[n++] = cluster_opts;
	t[n++] = global_opts;
	t[n] = NULL;
}

/* "sector7 NAME [-f FILE] [--opt VALUE] ... ARGS", from the tables. */
static void
usage_line(FILE *fp, const struct cmd_entry *c)
{
	const struct opt_spec *tables[3] = { site_opts, c->opts, NULL };
	const struct opt_spec *o;
	size_t i;

	fprintf(fp, "sector7 %s", c->name);
	for (i = (needs(c) & CMD_SITE) ? 0 : 1; i < 2; i++)
		for (o = tables[i]; o && o->name; o++) {
			if (o->alias)
				fprintf(fp, " [-%c%s%s]", o->alias,
				    o->value ? " " : "", o->value ? o->value : "");
			else
				fprintf(fp, " [--%s%s%s]", o->name,
				    o->value ? " " : "", o->value ? o->value : "");
		}
	if (c->args && *c->args)
		fprintf(fp, " %s", c->args);
	fputc('\n', fp);
}

static void
command_help(FILE *fp, const struct cmd_entry *c)
{
	const struct opt_spec *tables[6];

	command_tables(c, tables);
	fputs("usage: ", fp);
	usage_line(fp, c);
	fprintf(fp, "\n%s\n\noptions:\n", c->about);
	opt_help(fp, tables);
}

static void
main_help(FILE *fp)
{
	const struct cmd_entry *const *c;
	const struct opt_spec *tables[] = { site_opts, render_opts, global_opts,
	    NULL };
	struct catalog cat;
	struct s7_error err;
	int i;

	fprintf(fp, "usage: sector7 [options] COMMAND [arguments]\n\n"
	    "Turns one site description into a running, verified self-hosted\n"
	    "platform on a small k3s cluster.\n\ncommands:\n");
	for (c = commands; *c; c++)
		fprintf(fp, "  %-10s %s\n", (*c)->name, (*c)->summary);
	fprintf(fp, "\nglobal options:\n");
	opt_help(fp, tables);
	catalog_init(&cat);
	s7_error_clear(&err);
	if (catalog_load_phases(&cat, &err) == 0) {
		fprintf(fp, "\nphases (apply and diff --phase N):\n");
		for (i = 1; i <= cat.nphases; i++)
			fprintf(fp, "  %d  %s\n", i, phase_name(&cat, i));
	}
	catalog_release(&cat);
	fprintf(fp, "\n'sector7 COMMAND --help' shows a command's options.\n"
	    "Exit codes: 0 success, 1 failed, 2 usage, 3 invalid site or template,\n"
	    "4 cluster or API error, 5 readiness timeout, 6 verification failed.\n");
}

static int
help_exec(struct cmd_ctx *c, int npos, char **pos)
{
	const struct cmd_entry *cmd;

	(void)c;
	if (npos == 0) {
		main_help(stdout);
		return EXIT_OK;
	}
	cmd = find_command(pos[0]);
	if (cmd == NULL) {
		fprintf(stderr, "sector7: error: unknown command '%s'\n", pos[0]);
		return EXIT_USAGE;
	}
	command_help(stdout, cmd);
	return EXIT_OK;
}

static int
usage_error(const struct s7_error *err, const char *cmd)
{
	fprintf(stderr, "sector7: error: %s\n", err->msg);
	if (cmd)
		fprintf(stderr, "sector7: see 'sector7 %s --help'\n", cmd);
	else
		fprintf(stderr, "sector7: see 'sector7 help'\n");
	return EXIT_USAGE;
}

/* Results went to stdout: make sure they really got there. */
static int
finish(int code)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "sector7: error: cannot write to standard output: %s\n",
		    strerror(errno ? errno : EIO));
		return code == EXIT_OK ? EXIT_FAILED : code;
	}
	return code;
}

/* Loads what the entry asks for, in order; an exit code. */
static int
load(const struct cmd_entry *cmd, struct s7_error *err)
{
	unsigned f = needs(cmd);

	if (f & CMD_SITE) {
		if (load_site(&ctx, err) < 0) {
			s7_error_print(err, stderr);
			return EXIT_FAILED;
		}
		if ((f & CMD_VALID) && site_errors(&ctx))
			return EXIT_INVALID;
	}
	if ((f & CMD_RENDER) && render_site(&ctx, 0, err) < 0)
		return fail_with(err);
	if ((f & CMD_CLUSTER) && open_cluster(&ctx, err) < 0)
		return fail_with(err);
	return EXIT_OK;
}

static void
unload(const struct cmd_entry *cmd)
{
	unsigned f = needs(cmd);

	kube_close(ctx.kube);
	ctx.kube = NULL;
	if (ctx.rendered) {
		rendered_release(&ctx.r);
		catalog_release(&ctx.cat);
	}
	if (f & CMD_SITE) {
		findings_release(&ctx.findings);
		site_release(&ctx.site);
	}
}

/* Global options may come before the command: where does it start? */
static int
command_index(int argc, char **argv)
{
	const struct opt_spec *tables[] = { site_opts, render_opts, global_opts,
	    NULL };
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const struct opt_spec *const *t;
		const struct opt_spec *o;
		int takes = 0;

		if (strcmp(argv[i], "--") == 0)
			break;
		for (t = tables; *t; t++)
			for (o = *t; o->name; o++)
				if ((argv[i][1] == '-' &&
				    strcmp(argv[i] + 2, o->name) == 0) ||
				    (argv[i][1] == o->alias && argv[i][2] == '\0'))
					takes = o->kind != OPT_FLAG;
		i += takes;
	}
	return i > argc ? argc : i;
}

static int
run(int argc, char **argv)
{
	const struct opt_spec *tables[6] = { site_opts, render_opts, global_opts,
	    NULL };
	const struct cmd_entry *cmd;
	struct s7_error err;
	char *pos[256];
	int i, npos = 0, code;

	s7_error_clear(&err);
	ctx.output = "text";
	if (argc > 256) {
		s7_error_class(&err, S7_EUSAGE, "too many arguments");
		return usage_error(&err, NULL);
	}
	i = command_index(argc, argv);
	if (opt_parse(tables, i - 1, argv + 1, pos, &npos, &err) < 0)
		return usage_error(&err, NULL);
	if (i >= argc) {
		if (ctx.help) {
			main_help(stdout);
			return finish(EXIT_OK);
		}
		main_help(stderr);
		return EXIT_USAGE;
	}
	cmd = find_command(argv[i]);
	if (cmd == NULL) {
		const char *names[32];
		const char *sugg;
		size_t n = 0;

		while (commands[n] && n < 31) {
			names[n] = commands[n]->name;
			n++;
		}
		names[n] = NULL;
		sugg = text_suggest(argv[i], names);
		if (sugg)
			s7_error_class(&err, S7_EUSAGE,
			    "unknown command '%s'; did you mean '%s'?", argv[i],
			    sugg);
		else
			s7_error_class(&err, S7_EUSAGE, "unknown command '%s'",
			    argv[i]);
		return usage_error(&err, NULL);
	}
	command_tables(cmd, tables);
	if (opt_parse(tables, argc - i - 1, argv + i + 1, pos, &npos, &err) < 0)
		return usage_error(&err, cmd->name);
	if (ctx.help) {
		command_help(stdout, cmd);
		return finish(EXIT_OK);
	}
	if (npos > cmd->max_args) {
		s7_error_class(&err, S7_EUSAGE, "unexpected argument '%s'",
		    pos[cmd->max_args]);
		return usage_error(&err, cmd->name);
	}
	if (npos < cmd->min_args) {
		s7_error_class(&err, S7_EUSAGE, "%s needs %s", cmd->name,
		    cmd->args);
		return usage_error(&err, cmd->name);
	}
	if (cmd->check && (code = cmd->check(&ctx, npos, pos)) != EXIT_OK)
		return finish(code);
	code = load(cmd, &err);
	out_begin(is_json(&ctx));
	if (code == EXIT_OK)
		code = cmd->exec(&ctx, npos, pos);
	out_end();
	unload(cmd);
	return finish(code);
}

int
main(int argc, char **argv)
{
	/* Generated credentials pass through this process: no core dumps. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	return run(argc, argv);
}
