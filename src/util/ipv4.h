/*
 * IPv4 addresses, prefixes and ranges as host-order integers.  Parsers are
 * strict (four decimal parts, no leading zeros, no spaces) and return 0 or
 * -1 with a reason in *why (a static string).
 */
#ifndef S7_IPV4_H
#define S7_IPV4_H

#include <stdint.h>

#define IPV4_STRLEN 16

struct ipv4_range {
	uint32_t first, last;	/* inclusive, first <= last */
};

int ipv4_parse(const char *s, uint32_t *addr, const char **why);
/* "a.b.c.d/p"; host bits must be zero. */
int ipv4_parse_cidr(const char *s, uint32_t *net, unsigned *prefix,
    const char **why);
/* "a.b.c.d-e.f.g.h" or "a.b.c.d/p". */
int ipv4_parse_range(const char *s, struct ipv4_range *r, const char **why);

void ipv4_format(uint32_t addr, char buf[IPV4_STRLEN]);
uint32_t ipv4_mask(unsigned prefix);
struct ipv4_range ipv4_cidr_range(uint32_t net, unsigned prefix);
uint64_t ipv4_range_size(struct ipv4_range r);

int ipv4_range_has(struct ipv4_range r, uint32_t addr);
int ipv4_range_within(struct ipv4_range inner, struct ipv4_range outer);
int ipv4_ranges_overlap(struct ipv4_range a, struct ipv4_range b);

/* Classification, for warnings about the public address. */
int ipv4_is_private(uint32_t addr);	/* RFC 1918 */
int ipv4_is_shared(uint32_t addr);	/* RFC 6598 carrier-grade NAT */
/* Loopback, 0/8, link-local, multicast, reserved, broadcast. */
int ipv4_is_special(uint32_t addr);

#endif
