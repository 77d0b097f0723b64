#include <stdio.h>
#include <string.h>

#include "ipv4.h"
#include "banned.h"

/* Parses exactly four dotted decimal parts from s[0..len). */
static int
parse_n(const char *s, size_t len, uint32_t *addr, const char **why)
{
	uint32_t a = 0;
	size_t i = 0;
	int part;

	if (len == 0) {
		*why = "empty address";
		return -1;
	}
	for (part = 0; part < 4; part++) {
		unsigned v = 0, digits = 0;

		if (part > 0) {
			if (i >= len || s[i] != '.') {
				*why = "expected four dot-separated numbers";
				return -1;
			}
			i++;
		}
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			if (digits == 1 && v == 0) {
				*why = "leading zero in address";
				return -1;
			}
			v = v * 10 + (unsigned)(s[i] - '0');
			if (v > 255) {
				*why = "number out of range 0-255";
				return -1;
			}
			digits++;
			i++;
		}
		if (digits == 0) {
			*why = "expected four dot-separated numbers";
			return -1;
		}
		a = (a << 8) | v;
	}
	if (i != len) {
		*why = "trailing characters after address";
		return -1;
	}
	*addr = a;
	return 0;
}

int
ipv4_parse(const char *s, uint32_t *addr, const char **why)
{
	return parse_n(s, strlen(s), addr, why);
}

uint32_t
ipv4_mask(unsigned prefix)
{
	return prefix == 0 ? 0 : prefix >= 32 ? 0xffffffffu :
	    ~((1u << (32 - prefix)) - 1);
}

int
ipv4_parse_cidr(const char *s, uint32_t *net, unsigned *prefix,
    const char **why)
{
	const char *slash = strchr(s, '/');
	unsigned p = 0, digits = 0;
	uint32_t a;
	const char *q;

	if (slash == NULL) {
		*why = "expected address/prefix";
		return -1;
	}
	if (parse_n(s, (size_t)(slash - s), &a, why) < 0)
		return -1;
	for (q = slash + 1; *q; q++) {
		if (*q < '0' || *q > '9' || digits >= 2) {
			*why = "prefix length must be 0-32";
			return -1;
		}
		p = p * 10 + (unsigned)(*q - '0');
		digits++;
	}
	if (digits == 0 || p > 32 || (digits == 2 && slash[1] == '0')) {
		*why = "prefix length must be 0-32";
		return -1;
	}
	if ((a & ~ipv4_mask(p)) != 0) {
		*why = "host bits are set (not a network address)";
		return -1;
	}
	*net = a;
	*prefix = p;
	return 0;
}

int
ipv4_parse_range(const char *s, struct ipv4_range *r, const char **why)
{
	const char *dash = strchr(s, '-');
	uint32_t a, b;
	unsigned p;

	if (strchr(s, '/') != NULL) {
		if (ipv4_parse_cidr(s, &a, &p, why) < 0)
			return -1;
		*r = ipv4_cidr_range(a, p);
		return 0;
	}
	if (dash == NULL) {
		*why = "expected first-last or address/prefix";
		return -1;
	}
	if (parse_n(s, (size_t)(dash - s), &a, why) < 0 ||
	    parse_n(dash + 1, strlen(dash + 1), &b, why) < 0)
		return -1;
	if (a > b) {
		*why = "first address is after the last";
		return -1;
	}
	r->first = a;
	r->last = b;
	return 0;
}

void
ipv4_format(uint32_t a, char buf[IPV4_STRLEN])
{
	snprintf(buf, IPV4_STRLEN, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
	    (a >> 8) & 255, a & 255);
}

struct ipv4_range
ipv4_cidr_range(uint32_t net, unsigned prefix)
{
	struct ipv4_range r;

	r.first = net & ipv4_mask(prefix);
	r.last = r.first | ~ipv4_mask(prefix);
	return r;
}

uint64_t
ipv4_range_size(struct ipv4_range r)
{
	return (uint64_t)r.last - r.first + 1;
}

int
ipv4_range_has(struct ipv4_range r, uint32_t a)
{
	return a >= r.first && a <= r.last;
}

int
ipv4_range_within(struct ipv4_range in, struct ipv4_range out)
{
	return in.first >= out.first && in.last <= out.last;
}

int
ipv4_ranges_overlap(struct ipv4_range a, struct ipv4_range b)
{
	return a.first <= b.last && b.first <= a.last;
}

static int
in(uint32_t a, uint32_t net, unsigned prefix)
{
	return (a & ipv4_mask(prefix)) == net;
}

int
ipv4_is_private(uint32_t a)
{
	return in(a, 0x0a000000, 8) || in(a, 0xac100000, 12) ||
	    in(a, 0xc0a80000, 16);
}

int
ipv4_is_shared(uint32_t a)
{
	return in(a, 0x64400000, 10);
}

int
ipv4_is_special(uint32_t a)
{
	return in(a, 0x00000000, 8) || in(a, 0x7f000000, 8) ||
	    in(a, 0xa9fe0000, 16) || in(a, 0xe0000000, 4) ||
	    in(a, 0xf0000000, 4);
}
