/* strbuf, strtonum, text helpers and the option parser. */
#include <stdlib.h>

#include "unit.h"
#include "util/opt.h"
#include "util/strbuf.h"
#include "util/strnum.h"
#include "util/text.h"

static void
strbuf_cases(void)
{
	struct strbuf sb;
	char *p;
	size_t len;

	strbuf_init(&sb, 8);
	CHECK(sb.buf != NULL && sb.len == 0 && sb.buf[0] == '\0');
	CHECK(strbuf_addstr(&sb, "abcd") == 0);
	CHECK(strbuf_addf(&sb, "%d", 123) == 0);
	CHECK_STR(sb.buf, "abcd123");
	/* past the cap: refused, unchanged, sticky */
	CHECK(strbuf_addstr(&sb, "xy") < 0);
	CHECK(sb.overflow && sb.len == 7);
	CHECK_STR(sb.buf, "abcd123");
	CHECK(strbuf_addch(&sb, 'z') == 0);
	CHECK(strbuf_addch(&sb, 'z') < 0);
	strbuf_setlen(&sb, 2);
	CHECK_STR(sb.buf, "ab");
	p = strbuf_detach(&sb, &len);
	CHECK(len == 2 && strcmp(p, "ab") == 0);
	free(p);
	CHECK(sb.len == 0 && sb.buf[0] == '\0');
	CHECK(strbuf_addchars(&sb, '-', 3) == 0);
	CHECK_STR(sb.buf, "---");
	strbuf_release_secret(&sb);
	CHECK(sb.len == 0);
}

static void
strnum_cases(void)
{
	const char *e;

	CHECK(s7_strtonum("42", 0, 100, &e) == 42 && e == NULL);
	CHECK(s7_strtonum("-5", -10, 10, &e) == -5 && e == NULL);
	s7_strtonum("101", 0, 100, &e);
	CHECK_STR(e, "too large");
	s7_strtonum("-1", 0, 100, &e);
	CHECK_STR(e, "too small");
	s7_strtonum("4x", 0, 100, &e);
	CHECK_STR(e, "invalid");
	s7_strtonum("", 0, 100, &e);
	CHECK_STR(e, "invalid");
	s7_strtonum(" 4", 0, 100, &e);
	CHECK_STR(e, "invalid");
	s7_strtonum("99999999999999999999", 0, 100, &e);
	CHECK_STR(e, "too large");
}

static void
text_cases(void)
{
	static const char *const words[] = { "site", "domain", "network", NULL };

	CHECK(text_distance("", "") == 0);
	CHECK(text_distance("kitten", "sitting") == 3);
	CHECK_STR(text_suggest("sit", words), "site");
	CHECK_STR(text_suggest("netwrok", words), "network");
	CHECK(text_suggest("zzz", words) == NULL);
	CHECK(text_is_dns_label("aurora"));
	CHECK(text_is_dns_label("a-1"));
	CHECK(!text_is_dns_label("-a"));
	CHECK(!text_is_dns_label("a-"));
	CHECK(!text_is_dns_label("A"));
	CHECK(!text_is_dns_label("a_b"));
	CHECK(!text_is_dns_label(""));
	CHECK(!text_is_dns_label(
	    "a123456789012345678901234567890123456789012345678901234567890123"));
	CHECK(text_is_dns_name("sector7.helloworlddao.com"));
	CHECK(!text_is_dns_name("a..b"));
	CHECK(!text_is_dns_name(".a"));
	CHECK(!text_is_dns_name("a."));
}

static void
opt_cases(void)
{
	static const char *const fmts[] = { "text", "json", NULL };
	const char *file = NULL, *fmt = NULL;
	int flag = 0, npos = 0;
	long long n = 0;
	const struct opt_spec specs[] = {
		{ "file", 'f', OPT_STRING, &file, "FILE", "", 0, 0, NULL },
		{ "output", 0, OPT_CHOICE, &fmt, "F", "", 0, 0, fmts },
		{ "count", 'n', OPT_INT, &n, "N", "", 1, 9, NULL },
		{ "yes", 'y', OPT_FLAG, &flag, NULL, "", 0, 0, NULL },
		{ NULL },
	};
	const struct opt_spec *tables[] = { specs, NULL };
	char *argv1[] = { "-f", "a.yaml", "pos", "--output=json", "-n3", "-y",
	    "--", "-x" };
	char *argv2[] = { "--ouptut", "json" };
	char *argv3[] = { "--count", "10" };
	char *argv4[] = { "-f" };
	char *argv5[] = { "--yes=1" };
	char *pos[8];
	struct s7_error err;

	s7_error_clear(&err);
	CHECK(opt_parse(tables, 8, argv1, pos, &npos, &err) == 0);
	CHECK_STR(file, "a.yaml");
	CHECK_STR(fmt, "json");
	CHECK(n == 3 && flag == 1 && npos == 2);
	CHECK_STR(pos[0], "pos");
	CHECK_STR(pos[1], "-x");
	CHECK(opt_parse(tables, 2, argv2, pos, &npos, &err) < 0);
	CHECK_STR(err.msg, "unknown option '--ouptut'; did you mean '--output'?");
	CHECK(err.class == S7_EUSAGE);
	CHECK(opt_parse(tables, 2, argv3, pos, &npos, &err) < 0);
	CHECK_STR(err.msg, "option '--count': '10' is too large (1 to 9)");
	CHECK(opt_parse(tables, 1, argv4, pos, &npos, &err) < 0);
	CHECK_STR(err.msg, "option '--file' needs a value (FILE)");
	CHECK(opt_parse(tables, 1, argv5, pos, &npos, &err) < 0);
	CHECK_STR(err.msg, "option '--yes' takes no value");
}

int
main(void)
{
	strbuf_cases();
	strnum_cases();
	text_cases();
	opt_cases();
	return unit_done("util");
}
