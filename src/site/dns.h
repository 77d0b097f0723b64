/*
 * DNS records derived from the site: split horizon.  Inside the LAN every
 * web host resolves to the ingress address (Unbound host overrides on the
 * firewall); outside, the domain points at the public address and a
 * wildcard CNAME covers the hosts.
 */
#ifndef S7_SITE_DNS_H
#define S7_SITE_DNS_H

#include "site.h"
#include "../util/strbuf.h"

#define DNS_TTL 300

struct dns_record {
	const char *name;	/* fully qualified, no trailing dot */
	const char *type;	/* A or CNAME */
	const char *value;
	const char *why;	/* which app or node */
};

struct dns_plan {
	struct dns_record *internal, *external;
	size_t ninternal, nexternal;
};

/* Records live in s's arena. */
void dns_plan(const struct site *s, struct dns_plan *p);
/* Host overrides as OPNsense lists them, then unbound.conf lines. */
void dns_format_internal(const struct site *s, const struct dns_plan *p,
    struct strbuf *out);
void dns_format_unbound(const struct dns_plan *p, struct strbuf *out);
/* A zone file fragment for the public DNS provider. */
void dns_format_external(const struct dns_plan *p, struct strbuf *out);

#endif
