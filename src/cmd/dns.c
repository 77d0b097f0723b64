/*
 * sector7 dns: the records the site needs, split horizon: host overrides
 * for the internal resolver and the public zone's records.
 */
#include <stdio.h>

#include "cmd.h"
#include "../json/json.h"
#include "../site/dns.h"
#include "../util/banned.h"

static struct ynode *
records(struct arena *a, const struct dns_record *r, size_t n)
{
	struct ynode *list = ynode_seq(a);
	size_t i;

	for (i = 0; i < n; i++) {
		struct ynode *m = ynode_map(a);

		ynode_map_set(a, m, "name", ynode_str(a, r[i].name));
		ynode_map_set(a, m, "type", ynode_str(a, r[i].type));
		ynode_map_set(a, m, "value", ynode_str(a, r[i].value));
		ynode_map_set(a, m, "ttl", ynode_int(a, DNS_TTL));
		ynode_map_set(a, m, "for", ynode_str(a, r[i].why));
		ynode_push(a, list, m);
	}
	return list;
}

int
cmd_dns(struct cmd_ctx *c, int npos, char **pos)
{
	struct dns_plan p;
	struct strbuf sb;
	struct s7_error err;
	int code = EXIT_OK;

	(void)npos;
	(void)pos;
	if (site_errors(c))
		return EXIT_INVALID;
	dns_plan(&c->site, &p);
	strbuf_init(&sb, STRBUF_LARGE);
	s7_error_clear(&err);
	if (is_json(c)) {
		struct arena a;
		struct ynode *root;

		arena_init(&a);
		root = ynode_map(&a);
		ynode_map_set(&a, root, "internal", records(&a, p.internal,
		    p.ninternal));
		ynode_map_set(&a, root, "external", records(&a, p.external,
		    p.nexternal));
		if (print_json(root) < 0)
			code = EXIT_FAILED;
		arena_release(&a);
	} else {
		dns_format_internal(&c->site, &p, &sb);
		strbuf_addch(&sb, '\n');
		dns_format_unbound(&p, &sb);
		strbuf_addch(&sb, '\n');
		dns_format_external(&p, &sb);
	}
	fwrite(sb.buf, 1, sb.len, stdout);
	strbuf_release(&sb);
	return code;
}
