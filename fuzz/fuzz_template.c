/*
 * Fuzz target: the template expander, with the built-in site as context.
 * Beyond "no crash", it checks the property the language exists for:
 * whatever the template, the YAML written for its result reads back as
 * the same tree.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "catalog/embedded.h"
#include "catalog/template.h"
#include "render/context.h"
#include "site/site.h"
#include "util/strbuf.h"
#include "yaml/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct site site;
static struct ynode *ctx;

static void
setup(void)
{
	const struct embedded_file *f = embedded_find("examples/sector7.yaml");
	struct findings fd;

	site_init(&site);
	findings_init(&fd, "site");
	if (f == NULL || site_load(&site, "site", f->data, f->len, &fd) < 0)
		abort();
	findings_release(&fd);
	ctx = context_build(&site.arena, &site, "fuzz");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a;
	struct ydocs docs;
	struct s7_error err;
	size_t i;

	if (ctx == NULL)
		setup();
	arena_init(&a);
	s7_error_clear(&err);
	if (yaml_parse(&a, "t", (const char *)data, size, &docs, &err) < 0)
		goto done;
	for (i = 0; i < docs.n; i++) {
		struct ynode *out, *back;
		struct strbuf sb;

		if (docs.doc[i] == NULL ||
		    tmpl_expand(&a, docs.doc[i], ctx, &out, &err) < 0 ||
		    out == NULL)
			continue;
		strbuf_init(&sb, STRBUF_LARGE);
		if (yaml_emit(&sb, out, 0, &err) == 0) {
			if (yaml_parse_one(&a, "out", sb.buf, sb.len, &back,
			    &err) < 0 || !ynode_equal(out, back)) {
				fprintf(stderr, "output does not read back:\n%s\n%s\n",
				    sb.buf, err.msg);
				abort();
			}
		}
		strbuf_release(&sb);
	}
done:
	arena_release(&a);
	return 0;
}
