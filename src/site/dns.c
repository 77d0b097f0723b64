#include <string.h>

#include "dns.h"
#include "../util/ipv4.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

static void
add(struct arena *a, struct dns_record **v, size_t *n, size_t max,
    const char *name, const char *type, const char *value, const char *why)
{
	if (*n >= max)
		return;
	(*v)[*n].name = arena_strdup(a, name);
	(*v)[*n].type = type;
	(*v)[*n].value = arena_strdup(a, value);
	(*v)[*n].why = arena_strdup(a, why);
	(*n)++;
}

void
dns_plan(const struct site *s, struct dns_plan *p)
{
	struct arena *a = (struct arena *)&s->arena;
	size_t max = s->napps + s->nnodes + 4, i;
	char ip[IPV4_STRLEN];

	memset(p, 0, sizeof(*p));
	p->internal = arena_array(a, max, sizeof(*p->internal));
	p->external = arena_array(a, 4, sizeof(*p->external));
	ipv4_format(s->ingress_ip, ip);
	for (i = 0; i < s->napps; i++)
		if (s->apps[i].enabled && s->apps[i].fqdn)
			add(a, &p->internal, &p->ninternal, max, s->apps[i].fqdn,
			    "A", ip, s->apps[i].name);
	for (i = 0; i < s->nnodes; i++) {
		char nip[IPV4_STRLEN];
		char *fq = arena_printf(a, "%s.%s", s->nodes[i].name, s->domain);

		ipv4_format(s->nodes[i].ip, nip);
		add(a, &p->internal, &p->ninternal, max, fq, "A", nip,
		    "node");
	}
	ipv4_format(s->public_ip, ip);
	add(a, &p->external, &p->nexternal, 4, s->domain, "A", ip,
	    "the firewall's public address");
	add(a, &p->external, &p->nexternal, 4,
	    arena_printf(a, "*.%s", s->domain), "CNAME", s->domain,
	    "every host under the domain");
}

/* "n8n" for n8n.example.org under example.org, "@" for the domain. */
static const char *
host_part(const struct site *s, const char *fqdn, char *buf, size_t size)
{
	size_t n = strlen(fqdn), d = strlen(s->domain);

	if (strcmp(fqdn, s->domain) == 0)
		return "@";
	if (n > d + 1 && strcmp(fqdn + n - d, s->domain) == 0 &&
	    fqdn[n - d - 1] == '.') {
		xsnprintf(buf, size, "%.*s", (int)(n - d - 1), fqdn);
		return buf;
	}
	return fqdn;
}

void
dns_format_internal(const struct site *s, const struct dns_plan *p,
    struct strbuf *out)
{
	size_t i;
	char buf[256];

	strbuf_addstr(out, "# Internal DNS: Unbound host overrides (OPNsense: Services > Unbound DNS > Overrides)\n");
	strbuf_addf(out, "# %-12s %-34s %-5s %-15s %s\n", "host", "domain",
	    "type", "value", "for");
	for (i = 0; i < p->ninternal; i++) {
		const struct dns_record *r = &p->internal[i];
		const char *h = host_part(s, r->name, buf, sizeof(buf));

		/* OPNsense wants an empty host for the domain itself. */
		strbuf_addf(out, "  %-12s %-34s %-5s %-15s %s\n",
		    strcmp(h, "@") == 0 ? "(empty)" : h, s->domain, r->type,
		    r->value, r->why);
	}
}

void
dns_format_unbound(const struct dns_plan *p, struct strbuf *out)
{
	size_t i;

	strbuf_addstr(out, "# unbound.conf equivalent (server: section)\n");
	for (i = 0; i < p->ninternal; i++)
		strbuf_addf(out, "local-data: \"%s. %d IN %s %s\"\n",
		    p->internal[i].name, DNS_TTL, p->internal[i].type,
		    p->internal[i].value);
}

void
dns_format_external(const struct dns_plan *p, struct strbuf *out)
{
	size_t i;

	strbuf_addstr(out, "; External DNS: records at the domain's DNS provider\n");
	for (i = 0; i < p->nexternal; i++) {
		const struct dns_record *r = &p->external[i];
		char name[260];

		xsnprintf(name, sizeof(name), "%s.", r->name);
		strbuf_addf(out, "%-40s %d IN %-5s %s%s\n", name, DNS_TTL,
		    r->type, r->value, strcmp(r->type, "CNAME") == 0 ? "." : "");
	}
}
