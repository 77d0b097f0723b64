#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "../catalog/embedded.h"
#include "../render/checks.h"
#include "../version.h"
#include "../util/fs.h"
#include "../util/strbuf.h"
#include "../util/text.h"
#include "../util/banned.h"

#define SITE_MAX ((size_t)1024 * 1024)

int
exit_code(const struct s7_error *err)
{
	switch (err->class) {
	case S7_EUSAGE:
		return EXIT_USAGE;
	case S7_EINPUT:
		return EXIT_INVALID;
	case S7_ECLUSTER:
		return EXIT_CLUSTER;
	case S7_ETIMEOUT:
		return EXIT_TIMEOUT;
	case S7_EVERIFY:
		return EXIT_VERIFY;
	case S7_EFAIL:
		break;
	}
	return EXIT_FAILED;
}

int
fail_with(const struct s7_error *err)
{
	s7_error_print(err, stderr);
	return exit_code(err);
}

int
is_json(const struct cmd_ctx *c)
{
	return c->output && strcmp(c->output, "json") == 0;
}

/* A finding may quote the site's values: escaped like all outside text. */
static void
put_escaped(FILE *fp, const char *s, size_t max, unsigned flags)
{
	struct strbuf sb;

	strbuf_init(&sb, STRBUF_LARGE);
	text_escape(&sb, s, strlen(s), max, flags);
	fputs(sb.buf, fp);
	strbuf_release(&sb);
}

void
print_finding(FILE *fp, const struct finding *f)
{
	const char *d;

	put_escaped(fp, f->file, 1024, 0);
	if (f->line)
		fprintf(fp, ":%u:%u: ", f->line, f->col);
	else
		fprintf(fp, ": ");
	fprintf(fp, "%s: ", severity_name(f->sev));
	if (f->key[0]) {
		put_escaped(fp, f->key, 1024, 0);
		fprintf(fp, ": ");
	}
	put_escaped(fp, f->msg, 4096, 0);
	fputc('\n', fp);
	for (d = f->detail; d && *d; ) {
		const char *nl = strchr(d, '\n');
		size_t n = nl ? (size_t)(nl - d) : strlen(d);
		struct strbuf sb;

		strbuf_init(&sb, STRBUF_LARGE);
		text_escape(&sb, d, n, 4096, 0);
		fprintf(fp, "    %s\n", sb.buf);
		strbuf_release(&sb);
		d += n + (nl != NULL);
	}
}

const char *
builtin_site_text(size_t *len)
{
	const struct embedded_file *f = embedded_find("examples/sector7.yaml");

	*len = f ? f->len : 0;
	return f ? f->data : "";
}

int
load_site(struct cmd_ctx *c, struct s7_error *err)
{
	struct strbuf sb;
	const char *text;
	size_t len;
	int r;

	strbuf_init(&sb, SITE_MAX);
	if (c->site_file) {
		if (fs_read(c->site_file, &sb, err) < 0) {
			strbuf_release(&sb);
			return -1;
		}
		text = sb.buf;
		len = sb.len;
		c->site_name = c->site_file;
	} else {
		text = builtin_site_text(&len);
		c->site_name = BUILTIN_SITE;
	}
	site_init(&c->site);
	findings_init(&c->findings, c->site_name);
	r = site_load(&c->site, c->site_name, text, len, &c->findings);
	if (r == 0)
		site_check(&c->site, &c->findings);
	else
		findings_sort(&c->findings);
	strbuf_release(&sb);
	return 0;
}

int
site_errors(struct cmd_ctx *c)
{
	size_t i;

	if (c->findings.errors == 0)
		return 0;
	for (i = 0; i < c->findings.n; i++)
		if (c->findings.v[i].sev == SEV_ERROR)
			print_finding(stderr, &c->findings.v[i]);
	fprintf(stderr, "sector7: %s has %zu error%s; see 'sector7 check'\n",
	    c->site_name, c->findings.errors, c->findings.errors == 1 ? "" : "s");
	return 1;
}

int
open_cluster(struct cmd_ctx *c, struct s7_error *err)
{
	struct kube_opts o;

	if (c->kube)
		return 0;
	memset(&o, 0, sizeof(o));
	o.kubeconfig = c->kubeconfig;
	o.context = c->context;
	o.deadline_ms = http_now_ms() +
	    (c->deadline_s > 0 ? c->deadline_s : CMD_DEADLINE_S) * 1000LL;
	if (kube_open(&c->kube, &o, err) < 0)
		return -1;
	if (c->kube->kc.insecure) {
		char file[600], cluster[300];

		fprintf(stderr, "sector7: warning: %s: cluster '%s' has insecure-skip-tls-verify: the server's identity is not checked\n",
		    text_clean(file, sizeof(file), c->kube->kc.file),
		    text_clean(cluster, sizeof(cluster), c->kube->kc.cluster));
	}
	return 0;
}

/* Moves the command's deadline to deadline_s from now (a step begins). */
void
cmd_deadline(struct cmd_ctx *c)
{
	if (c->kube)
		kube_set_deadline(c->kube, http_now_ms() +
		    (c->deadline_s > 0 ? c->deadline_s : CMD_DEADLINE_S) * 1000LL);
}

int
render_site(struct cmd_ctx *c, int templates_only, struct s7_error *err)
{
	struct render_opts ro;
	size_t before = c->findings.errors;

	memset(&ro, 0, sizeof(ro));
	ro.upstream_dir = c->upstream ? c->upstream : render_default_upstream();
	ro.version = SECTOR7_VERSION;
	ro.templates_only = templates_only;
	catalog_init(&c->cat);
	rendered_init(&c->r);
	c->rendered = 1;
	if (catalog_load(&c->cat, err) < 0 ||
	    render_stack(&c->r, &c->site, &c->cat, &ro, err) < 0)
		return -1;
	render_check(&c->r, &c->site, &c->findings);
	if (!templates_only && c->findings.errors > before) {
		site_errors(c);
		return s7_error_class(err, S7_EINPUT,
		    "the site cannot be rendered as it is");
	}
	return 0;
}
