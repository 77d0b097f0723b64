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
#include "../kube/applyset.h"
#include "../kube/secrets.h"
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

static int
secrets_exec(struct cmd_ctx *c, int npos, char **pos)
{
	struct s7_error err;
	struct strbuf out;
	int code = EXIT_OK;
	const char *sub = pos[0];

	s7_error_clear(&err);
	strbuf_init(&out, STRBUF_LARGE);
	if (strcmp(sub, "ensure") == 0) {
		struct secret_report rep;
		char id[APPLYSET_ID_MAX];

		applyset_id(c->site.name, c->site.name, id);
		secret_report_init(&rep);
		if (secrets_ensure(c->kube, &c->r, (size_t)-1, id, &rep, &err) < 0) {
			fputs(rep.lines.buf, stdout);
			secret_report_release(&rep);
			goto fail;
		}
		fputs(rep.lines.buf, stdout);
		printf("%zu created, %zu added to existing secrets, "
		    "%zu hashes renewed, %zu kept\n", rep.created, rep.added,
		    rep.updated, rep.kept);
		secret_report_release(&rep);
	} else if (strcmp(sub, "list") == 0) {
		if (secrets_list(c->kube, &c->r, &out, &err) < 0)
			goto fail;
		fputs(out.buf, stdout);
	} else {
		char *v = NULL;
		size_t len = 0;

		if (secrets_value(c->kube, &c->r, pos[1], npos > 2 ? pos[2] : NULL,
		    &v, &len, &err) < 0)
			goto fail;
		fwrite(v, 1, len, stdout);
		fputc('\n', stdout);
		fflush(stdout);
		xfree_secret(v, len);
	}
	goto done;
fail:
	code = fail_with(&err);
done:
	strbuf_release(&out);
	return code;
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
