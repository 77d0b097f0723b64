/*
 * sector7: one site description in, a running platform on k3s out.
 *
 * This file holds the command table and the dispatcher: global options,
 * the site loading that commands ask for, exit codes, and the final check
 * that standard output was written.  One command per file in src/cmd/.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "util/text.h"
#include "version.h"
#include "util/banned.h"

static const char *const outputs[] = { "text", "json", NULL };
static struct cmd_ctx ctx;

static const struct opt_spec global_opts[] = {
	{ "file", 'f', OPT_STRING, &ctx.site_file, "FILE",
	  "site description (default: the built-in sector7 site)", 0, 0, NULL },
	{ "output", 0, OPT_CHOICE, &ctx.output, "FORMAT",
	  "text (default) or json", 0, 0, outputs },
	{ "upstream", 0, OPT_STRING, &ctx.upstream, "DIR",
	  "cache of pinned upstream manifests (default: $SECTOR7_UPSTREAM or ~/.cache/sector7/upstream)",
	  0, 0, NULL },
	{ "help", 'h', OPT_FLAG, &ctx.help, NULL, "show help for the command",
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

static int cmd_help(struct cmd_ctx *c, int npos, char **pos);

const struct command commands[] = {
	{ "check", cmd_check, "validate the site: network plan, names, storage budget, dependencies, hazards",
	  "[-f FILE]",
	  "Validates the site description without touching the network. Errors name the key\n"
	  "and file:line:col and make the exit code 3; warnings and notes say what a careful\n"
	  "operator wants to know, including where sector7 differs from the gameplan and why.",
	  NULL, 0, CMD_SITE },
	{ "render", cmd_render, "write every manifest, host file, DNS record and firewall rule",
	  "[-f FILE] [-o DIR]",
	  "Renders the site through the catalog. With -o, writes one file per object under\n"
	  "DIR/manifests (in apply order), the k3s configs and node prerequisites under\n"
	  "DIR/host, DNS records under DIR/dns, port forwards under DIR/firewall, and\n"
	  "DIR/SOURCES (sha256 and origin of every file). Without -o, prints the objects\n"
	  "as one YAML stream. Upstream manifests come from the local cache only and are\n"
	  "checked against their pinned sha256.",
	  render_opts, 0, CMD_SITE },
	{ "dns", cmd_dns, "print internal (Unbound) and external DNS records",
	  "[-f FILE]",
	  "Prints the host overrides for the internal resolver (every web host to the\n"
	  "ingress address, every node to its address) and the records for the public\n"
	  "zone (the domain to the public address, a wildcard CNAME for the hosts).",
	  NULL, 0, CMD_SITE },
	{ "apply", cmd_apply, "roll the site out to the cluster, phase by phase, waiting on readiness",
	  "[-f FILE] [--phase N] [--only COMPONENT] [--prune [--prune-data]] [--timeout S]",
	  "Renders the site and applies it by server-side apply (field manager sector7), in\n"
	  "the gameplan's phases; inside a phase, components whose needs are met go out\n"
	  "together, every object of a wave in parallel over one connection. Between waves\n"
	  "it waits until everything is ready: CRDs established, workloads rolled out,\n"
	  "LoadBalancer addresses assigned, webhooks answering, certificates issued, jobs\n"
	  "complete, volumes bound. Objects that already match are not sent, so applying an\n"
	  "unchanged site changes nothing (\"no changes\"). Membership is an ApplySet\n"
	  "(the labels kubectl uses); --prune deletes what left the set.",
	  apply_opts, 0, CMD_SITE | CMD_CLUSTER },
	{ "diff", cmd_diff, "what apply would change (server-side dry run)",
	  "[-f FILE] [--phase N] [--only COMPONENT]",
	  "Sends every object of the site to the API server as a server-side dry run and\n"
	  "compares the result with the live object: a unified diff per object that would\n"
	  "change (Secret values shown only as hashes). Exit status as diff(1): 0 when\n"
	  "nothing differs, 1 when something would change; errors are 3 and 4.",
	  diff_opts, 0, CMD_SITE | CMD_CLUSTER },
	{ "status", cmd_status, "the live state of every component",
	  "[-f FILE]",
	  "One line per component of the site: ready, progressing, failed or absent, with\n"
	  "the reason when it is not ready (the object and what it waits for), from the\n"
	  "same readiness rules apply uses. Reads the cluster; changes nothing.",
	  NULL, 0, CMD_SITE | CMD_CLUSTER },
	{ "secrets", cmd_secrets, "generated credentials: ensure, list, show",
	  "ensure | list | show NAMESPACE/NAME [KEY]",
	  "ensure creates every credential the site's components declare that does not\n"
	  "exist yet (database passwords, JWT secrets, n8n's encryption key, admin\n"
	  "passwords, S3 keys) as Kubernetes Secrets with values from the OS random\n"
	  "source, and adds missing keys to existing ones. It never changes an existing\n"
	  "value (except a bcrypt hash of a password, made again when the password\n"
	  "changed) and never prints one: it names keys and shows a hash. apply runs it\n"
	  "before anything that needs the secrets. list shows every declared key, present or\n"
	  "missing, as a hash. show prints one value, and only to a terminal.",
	  NULL, 3, CMD_SITE | CMD_CLUSTER },
	{ "fetch", cmd_fetch, "download the pinned upstream manifests into the cache",
	  "[--mirror DIR|URL] [--cacert FILE] [--jobs N] [--check]",
	  "Downloads every upstream file the catalog pins (each component's upstream:\n"
	  "url, sha256, file) into the upstream cache (--upstream, $SECTOR7_UPSTREAM, else\n"
	  "~/.cache/sector7/upstream), several at a time, following redirects, with TLS\n"
	  "verified. A file enters the cache only after its sha256 matched the pin; until\n"
	  "then it is a partial file under DIR/.partial, and an interrupted download is\n"
	  "continued where it stopped, by the next attempt or the next fetch. Files already\n"
	  "there with the right sha256 are not downloaded again. For an air-gapped site,\n"
	  "--mirror takes the files from a directory laid out like the cache, or from\n"
	  "URL/<file> on an internal server (--cacert for its CA). Exit 1 when any file\n"
	  "failed, naming it and why. This is the only command that downloads.",
	  fetch_opts, 0, 0 },
	{ "export", cmd_export, "write the rendered stack as a Flux tree",
	  "[-f FILE] --flux DIR [--source NAME] [--path PATH]",
	  "Renders the site and writes a tree for Flux to DIR: one Flux Kustomization\n"
	  "(kustomize.toolkit.fluxcd.io/v1) per component under DIR/flux, each pointing at\n"
	  "DIR/components/NN-NAME with that component's rendered objects and a\n"
	  "kustomization.yaml. dependsOn follows the order apply uses (needs, then phases),\n"
	  "healthChecks the components' readiness gates (wait: true where there are none).\n"
	  "No Secret values are written: DIR/README.md says how to create the credentials\n"
	  "with 'sector7 secrets ensure'. An existing DIR is replaced only when it holds an\n"
	  "earlier export.",
	  export_opts, 0, CMD_SITE },
	{ "version", cmd_version, "print the version", "", "Prints sector7's version.",
	  NULL, 0, 0 },
	{ "help", cmd_help, "show help for a command", "[COMMAND]",
	  "Lists the commands, or shows the help of one.", NULL, 1, 0 },
	{ NULL },
};

static const struct command *
find_command(const char *name)
{
	const struct command *c;

	for (c = commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

/* The option tables of a command: its own, the cluster's, the globals. */
static void
command_tables(const struct command *c, const struct opt_spec **t)
{
	size_t n = 0;

	if (c->opts)
		t[n++] = c->opts;
	if (c->flags & CMD_CLUSTER)
		t[n++] = cluster_opts;
	t[n++] = global_opts;
	t[n] = NULL;
}

static void
command_help(FILE *fp, const struct command *c)
{
	const struct opt_spec *tables[4];

	command_tables(c, tables);
	fprintf(fp, "usage: sector7 %s%s%s\n\n%s\n\noptions:\n", c->name,
	    *c->usage ? " " : "", c->usage, c->about);
	opt_help(fp, tables);
}

static void
main_help(FILE *fp)
{
	const struct command *c;
	const struct opt_spec *tables[2] = { global_opts, NULL };

	fprintf(fp, "usage: sector7 [options] COMMAND [arguments]\n\n"
	    "Turns one site description into a running, verified self-hosted\n"
	    "platform on a small k3s cluster.\n\ncommands:\n");
	for (c = commands; c->name; c++)
		fprintf(fp, "  %-10s %s\n", c->name, c->summary);
	fprintf(fp, "\nglobal options:\n");
	opt_help(fp, tables);
	fprintf(fp, "\n'sector7 COMMAND --help' shows a command's options.\n"
	    "Exit codes: 0 success, 1 failed, 2 usage, 3 invalid site or template,\n"
	    "4 cluster or API error, 5 readiness timeout, 6 verification failed.\n");
}

static int
cmd_help(struct cmd_ctx *c, int npos, char **pos)
{
	const struct command *cmd;

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

static int
run(int argc, char **argv)
{
	const struct opt_spec *tables[4] = { NULL, NULL, NULL, NULL };
	const struct command *cmd;
	struct s7_error err;
	char *pos[256];
	int i, npos = 0, code;

	s7_error_clear(&err);
	ctx.output = "text";
	if (argc > 256)
		return usage_error(&err, NULL);
	/* Global options may come before the command. */
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const struct opt_spec *o;
		int takes = 0;

		if (strcmp(argv[i], "--") == 0)
			break;
		for (o = global_opts; o->name; o++)
			if ((argv[i][1] == '-' && strcmp(argv[i] + 2, o->name) == 0) ||
			    (argv[i][1] == o->alias && argv[i][2] == '\0'))
				takes = o->kind != OPT_FLAG;
		i += takes;
	}
	if (i > argc)
		i = argc;
	tables[0] = global_opts;
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
		const struct command *c;

		for (c = commands; c->name && n < 31; c++)
			names[n++] = c->name;
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
	if (npos > cmd->max_pos) {
		s7_error_class(&err, S7_EUSAGE, "unexpected argument '%s'",
		    pos[cmd->max_pos]);
		return usage_error(&err, cmd->name);
	}
	if (cmd->flags & CMD_SITE) {
		if (load_site(&ctx, &err) < 0) {
			s7_error_print(&err, stderr);
			return EXIT_FAILED;
		}
	}
	code = cmd->fn(&ctx, npos, pos);
	kube_close(ctx.kube);
	ctx.kube = NULL;
	if (cmd->flags & CMD_SITE) {
		findings_release(&ctx.findings);
		site_release(&ctx.site);
	}
	return finish(code);
}

int
main(int argc, char **argv)
{
	return run(argc, argv);
}
