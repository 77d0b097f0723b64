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

int
cmd_secrets(struct cmd_ctx *c, int npos, char **pos)
{
	struct catalog cat;
	struct rendered r;
	struct s7_error err;
	struct strbuf out;
	int code = EXIT_OK;
	const char *sub = npos ? pos[0] : NULL;

	if (sub == NULL || (strcmp(sub, "ensure") && strcmp(sub, "list") &&
	    strcmp(sub, "show"))) {
		fprintf(stderr, "sector7: error: %s%s%s\nsector7: see 'sector7 secrets --help'\n",
		    sub ? "unknown subcommand '" : "secrets needs a subcommand: ensure, list or show",
		    sub ? sub : "", sub ? "'" : "");
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
	if (site_errors(c))
		return EXIT_INVALID;
	s7_error_clear(&err);
	catalog_init(&cat);
	rendered_init(&r);
	strbuf_init(&out, STRBUF_LARGE);
	if (render_site(c, &cat, &r, &err) < 0 || open_cluster(c, &err) < 0)
		goto fail;
	if (strcmp(sub, "ensure") == 0) {
		struct secret_report rep;
		char id[APPLYSET_ID_MAX];

		applyset_id(c->site.name, c->site.name, id);
		secret_report_init(&rep);
		if (secrets_ensure(c->kube, &r, (size_t)-1, id, &rep, &err) < 0) {
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
		if (secrets_list(c->kube, &r, &out, &err) < 0)
			goto fail;
		fputs(out.buf, stdout);
	} else {
		char *v = NULL;
		size_t len = 0;

		if (secrets_value(c->kube, &r, pos[1], npos > 2 ? pos[2] : NULL,
		    &v, &len, &err) < 0)
			goto fail;
		fwrite(v, 1, len, stdout);
		fputc('\n', stdout);
		fflush(stdout);
		xfree_secret(v, len);
	}
	goto done;
fail:
	s7_error_print(&err, stderr);
	code = exit_code(&err);
done:
	strbuf_release(&out);
	rendered_release(&r);
	catalog_release(&cat);
	return code;
}
