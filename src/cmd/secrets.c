/*
 * sector7 secrets: the credentials the stack needs.
 *
 *   ensure   create what is missing (never change an existing value)
 *   list     every declared secret and key, present or missing, as hashes
 *   show     one value, and only to a terminal
 *
 * Values come from the OS random source and are never printed by
 * anything but `show`, never written to files or to rendered output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "events.h"
#include "output.h"
#include "../kube/applyset.h"
#include "../rollout/secrets.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

static int
secrets_check(struct cmd_ctx *c, int npos, char **pos)
{
	const char *sub = pos[0];

	(void)c;
	if (strcmp(sub, "ensure") && strcmp(sub, "list") && strcmp(sub, "show")) {
		fprintf(stderr, "sector7: error: unknown subcommand '%s'\n"
		    "sector7: see 'sector7 secrets --help'\n", sub);
		return EXIT_USAGE;
	}
	if (strcmp(sub, "show") == 0 ? (npos < 2 || npos > 3) : npos != 1) {
		fprintf(stderr, "sector7: error: usage: sector7 secrets %s\n",
		    strcmp(sub, "show") == 0 ? "show NAMESPACE/NAME [KEY]" : sub);
		return EXIT_USAGE;
	}
	if (strcmp(sub, "show") == 0 && !isatty(1)) {
		fprintf(stderr, "sector7: error: secrets show prints a value only to a terminal, not to a pipe or a file\n");
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

static void
ensured(void *arg, const struct rollout_event *ev)
{
	if (!out_is_json())
		event_print(stdout, ev);
	events_keep(arg, ev);
}

static void
listed(void *arg, const struct secret_entry *se)
{
	(void)arg;
	out_open_object(NULL);
	out_string(OUT_ANY, "component", "%-14s ", se->component);
	out_string(OUT_JSON, "namespace", NULL, se->namespace);
	out_string(OUT_JSON, "name", NULL, se->name);
	out_text("%s/%s", se->namespace, se->name);
	if (se->key) {
		out_string(OUT_ANY, "key", " %s: ", se->key);
		out_bool(OUT_JSON, "present", NULL, se->present);
		if (se->present)
			out_string(OUT_ANY, "sha256", "sha256 %s\n", se->hash);
		else
			out_text("missing\n");
	} else {
		out_string(OUT_ANY, "copy_of", ": copy of %s, ", se->of);
		out_bool(OUT_JSON, "present", NULL, se->present);
		out_bool(OUT_JSON, "in_sync", NULL, se->in_sync);
		out_text("%s\n", !se->present ? "missing" : se->in_sync ?
		    "in sync" : "differs");
	}
	out_close_object();
}

static int
secrets_exec(struct cmd_ctx *c, int npos, char **pos)
{
	struct s7_error err;
	const char *sub = pos[0];

	s7_error_clear(&err);
	if (strcmp(sub, "ensure") == 0) {
		struct rollout_stats st;
		struct events evs;
		char id[APPLYSET_ID_MAX];
		int ret;

		memset(&st, 0, sizeof(st));
		events_init(&evs);
		applyset_id(c->site.name, c->site.name, id);
		ret = secrets_ensure(c->kube, &c->r, (size_t)-1, id, ensured, &evs,
		    &st, &err);
		events_json(&evs, "changes");
		events_release(&evs);
		if (ret < 0)
			return fail_with(&err);
		out_uint(OUT_JSON, "created", NULL, st.secrets_created);
		out_uint(OUT_JSON, "added", NULL, st.secrets_added);
		out_uint(OUT_JSON, "renewed", NULL, st.secrets_updated);
		out_uint(OUT_JSON, "kept", NULL, st.secrets_kept);
		out_text("%zu created, %zu added to existing secrets, "
		    "%zu hashes renewed, %zu kept\n", st.secrets_created,
		    st.secrets_added, st.secrets_updated, st.secrets_kept);
		return EXIT_OK;
	}
	if (strcmp(sub, "list") == 0) {
		out_begin_array(out_is_json());
		if (secrets_list(c->kube, &c->r, listed, NULL, &err) < 0)
			return fail_with(&err);
		return EXIT_OK;
	}
	{
		char *v = NULL;
		size_t len = 0;

		if (secrets_value(c->kube, &c->r, pos[1], npos > 2 ? pos[2] : NULL,
		    &v, &len, &err) < 0)
			return fail_with(&err);
		/* The value itself, on a terminal (checked): never JSON. */
		fwrite(v, 1, len, stdout);
		fputc('\n', stdout);
		fflush(stdout);
		xfree_secret(v, len);
	}
	return EXIT_OK;
}

const struct cmd_entry cmd_secrets_entry = {
	"secrets", "generated credentials: ensure, list, show",
	"ensure | list | show NAMESPACE/NAME [KEY]", 1, 3,
	"ensure creates every credential the site's components declare that does not\n"
	"exist yet (database passwords, JWT secrets, n8n's encryption key, admin\n"
	"passwords, S3 keys) as Kubernetes Secrets with values from the OS random\n"
	"source, and adds missing keys to existing ones. It never changes an existing\n"
	"value (except a bcrypt hash of a password, made again when the password\n"
	"changed) and never prints one: it names keys and shows a hash. apply runs it\n"
	"before anything that needs the secrets. list shows every declared key, present or\n"
	"missing, as a hash. show prints one value, and only to a terminal.",
	NULL, CMD_RENDER | CMD_CLUSTER, secrets_check, secrets_exec,
};
