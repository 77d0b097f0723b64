/* IPv4 parsing and arithmetic, table-driven. */
#include <stdint.h>

#include "unit.h"
#include "util/ipv4.h"

static void
parse_cases(void)
{
	static const struct {
		const char *in;
		int ok;
		uint32_t want;
		const char *why;
	} t[] = {
		{ "192.168.2.1", 1, 0xc0a80201, NULL },
		{ "0.0.0.0", 1, 0, NULL },
		{ "255.255.255.255", 1, 0xffffffff, NULL },
		{ "10.0.0.01", 0, 0, "leading zero in address" },
		{ "256.1.1.1", 0, 0, "number out of range 0-255" },
		{ "1.2.3", 0, 0, "expected four dot-separated numbers" },
		{ "1.2.3.4.5", 0, 0, "trailing characters after address" },
		{ "1.2.3.4 ", 0, 0, "trailing characters after address" },
		{ " 1.2.3.4", 0, 0, "expected four dot-separated numbers" },
		{ "", 0, 0, "empty address" },
		{ "a.b.c.d", 0, 0, "expected four dot-separated numbers" },
		{ "1..2.3", 0, 0, "expected four dot-separated numbers" },
		{ "1.2.3.-4", 0, 0, "expected four dot-separated numbers" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint32_t a = 0;
		const char *why = NULL;
		int r = ipv4_parse(t[i].in, &a, &why);

		CHECK((r == 0) == t[i].ok);
		if (t[i].ok)
			CHECK(a == t[i].want);
		else
			CHECK_STR(why, t[i].why);
	}
}

static void
cidr_cases(void)
{
	static const struct {
		const char *in;
		int ok;
		uint32_t net;
		unsigned prefix;
	} t[] = {
		{ "192.168.2.0/24", 1, 0xc0a80200, 24 },
		{ "10.0.0.0/8", 1, 0x0a000000, 8 },
		{ "0.0.0.0/0", 1, 0, 0 },
		{ "192.168.2.7/32", 1, 0xc0a80207, 32 },
		{ "192.168.2.1/24", 0, 0, 0 },	/* host bits */
		{ "192.168.2.0/33", 0, 0, 0 },
		{ "192.168.2.0/", 0, 0, 0 },
		{ "192.168.2.0/024", 0, 0, 0 },
		{ "192.168.2.0", 0, 0, 0 },
		{ "192.168.2.0/2x", 0, 0, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint32_t net = 0;
		unsigned p = 0;
		const char *why = NULL;
		int r = ipv4_parse_cidr(t[i].in, &net, &p, &why);

		CHECK((r == 0) == t[i].ok);
		if (t[i].ok) {
			CHECK(net == t[i].net);
			CHECK(p == t[i].prefix);
		} else {
			CHECK(why != NULL);
		}
	}
}

static void
range_cases(void)
{
	static const struct {
		const char *in;
		int ok;
		uint32_t first, last;
	} t[] = {
		{ "192.168.2.200-192.168.2.220", 1, 0xc0a802c8, 0xc0a802dc },
		{ "192.168.2.200-192.168.2.200", 1, 0xc0a802c8, 0xc0a802c8 },
		{ "192.168.50.224/28", 1, 0xc0a832e0, 0xc0a832ef },
		{ "192.168.2.220-192.168.2.200", 0, 0, 0 },
		{ "192.168.2.200-", 0, 0, 0 },
		{ "192.168.2.200", 0, 0, 0 },
		{ "192.168.2.200-220", 0, 0, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct ipv4_range r = { 0, 0 };
		const char *why = NULL;
		int rc = ipv4_parse_range(t[i].in, &r, &why);

		CHECK((rc == 0) == t[i].ok);
		if (t[i].ok) {
			CHECK(r.first == t[i].first);
			CHECK(r.last == t[i].last);
		}
	}
}

static void
math_cases(void)
{
	struct ipv4_range net = ipv4_cidr_range(0xc0a80200, 24);
	struct ipv4_range a = { 10, 20 }, b = { 20, 30 }, c = { 21, 30 };
	char buf[IPV4_STRLEN];

	CHECK(net.first == 0xc0a80200 && net.last == 0xc0a802ff);
	CHECK(ipv4_range_size(net) == 256);
	CHECK(ipv4_range_size(ipv4_cidr_range(0, 0)) == 4294967296ull);
	CHECK(ipv4_mask(0) == 0 && ipv4_mask(32) == 0xffffffff);
	CHECK(ipv4_mask(24) == 0xffffff00);
	CHECK(ipv4_ranges_overlap(a, b));
	CHECK(!ipv4_ranges_overlap(a, c));
	CHECK(ipv4_range_within(b, (struct ipv4_range){ 0, 100 }));
	CHECK(!ipv4_range_within((struct ipv4_range){ 0, 100 }, b));
	CHECK(ipv4_range_has(a, 10) && ipv4_range_has(a, 20));
	CHECK(!ipv4_range_has(a, 21) && !ipv4_range_has(a, 9));
	ipv4_format(0xc0a802c8, buf);
	CHECK_STR(buf, "192.168.2.200");
	ipv4_format(0xffffffff, buf);
	CHECK_STR(buf, "255.255.255.255");
	CHECK(ipv4_is_private(0x0a000001));
	CHECK(ipv4_is_private(0xac1f0001));	/* 172.31.0.1 */
	CHECK(!ipv4_is_private(0xac200001));	/* 172.32.0.1 */
	CHECK(ipv4_is_private(0xc0a80001));
	CHECK(!ipv4_is_private(0x47494445));	/* 71.73.68.69 */
	CHECK(ipv4_is_shared(0x64400001));	/* 100.64.0.1 */
	CHECK(!ipv4_is_shared(0x64800001));	/* 100.128.0.1 */
	CHECK(ipv4_is_special(0x7f000001));
	CHECK(ipv4_is_special(0xe0000001));
	CHECK(!ipv4_is_special(0xcb007119));	/* 203.0.113.25 */
}

int
main(void)
{
	parse_cases();
	cidr_cases();
	range_cases();
	math_cases();
	return unit_done("ipv4");
}
