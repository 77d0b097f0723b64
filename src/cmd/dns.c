/*
 * sector7 dns: the records the site needs, split horizon: host overrides
 * for the internal resolver and the public zone's records.
 */
#include <stdio.h>

#include "cmd.h"
#include "output.h"
#include "../site/dns.h"
#include "../util/banned.h"

static void
records(const char *key, const struct dns_record *r, size_t n)
{
	size_t i;

	out_open_array(key);
	for (i = 0; i < n; i++) {
		out_open_object(NULL);
		out_string(OUT_JSON, "name", NULL, r[i].name);
		out_string(OUT_JSON, "type", NULL, r[i].type);
		out_string(OUT_JSON, "value", NULL, r[i].value);
		out_int(OUT_JSON, "ttl", NULL, DNS_TTL);
		out_string(OUT_JSON, "for", NULL, r[i].why);
		out_close_object();
	}
	out_close_array();
}

static int
dns_exec(struct cmd_ctx *c, int npos, char **pos)
{
	struct dns_plan p;
	struct strbuf sb;
	int code;

	(void)npos;
	(void)pos;
	dns_plan(&c->site, &p);
	if (out_is_json()) {
		records("internal", p.internal, p.ninternal);
		records("external", p.external, p.nexternal);
		return EXIT_OK;
	}
	strbuf_init(&sb, STRBUF_SMALL);
	dns_format_internal(&c->site, &p, &sb);
	strbuf_addch(&sb, '\n');
	dns_format_unbound(&p, &sb);
	strbuf_addch(&sb, '\n');
	dns_format_external(&p, &sb);
	fwrite(sb.buf, 1, sb.len, stdout);
	code = sb.overflow ? EXIT_FAILED : EXIT_OK;
	strbuf_release(&sb);
	return code;
}

const struct cmd_entry cmd_dns_entry = {
	"dns", "print internal (Unbound) and external DNS records", "", 0, 0,
	"Prints the host overrides for the internal resolver (every web host to the\n"
	"ingress address, every node to its address) and the records for the public\n"
	"zone (the domain to the public address, a wildcard CNAME for the hosts).",
	NULL, CMD_VALID, NULL, dns_exec,
};
