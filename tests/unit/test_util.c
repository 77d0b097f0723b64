/* strbuf, strtonum, text helpers, escaping, fs_read and the option parser. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "util/error.h"
#include "util/fs.h"
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

static char *
esc(const char *s, size_t len, size_t max, unsigned flags)
{
	struct strbuf sb;

	strbuf_init(&sb, STRBUF_LARGE);
	text_escape(&sb, s, len, max, flags);
	return strbuf_detach(&sb, NULL);
}

/*
 * Outside text reaches a terminal only as visible text: every control
 * character, bidi override and byte that is not UTF-8 is escaped, long
 * values are cut, and escaping twice changes nothing.
 */
static void
escape_cases(void)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} t[] = {
		{ "plain text", 10, "plain text" },
		{ "a\nb\r\tc", 6, "a\\nb\\r\\tc" },
		{ "\033[31mred\033[0m", 12, "\\x1b[31mred\\x1b[0m" },
		{ "nul\0x", 5, "nul\\x00x" },
		{ "del\177", 4, "del\\x7f" },
		{ "caf\xc3\xa9 \xe2\x9c\x93", 9, "caf\xc3\xa9 \xe2\x9c\x93" },
		{ "bad \xff\xfe", 6, "bad \\xff\\xfe" },
		{ "cut \xe2\x9c", 6, "cut \\xe2\\x9c" },
		{ "overlong \xc0\xaf", 11, "overlong \\xc0\\xaf" },
		{ "c1 \xc2\x9b", 5, "c1 \\u{009b}" },
		{ "rlo \xe2\x80\xae", 7, "rlo \\u{202e}" },
		{ "surrogate \xed\xa0\x80", 13, "surrogate \\xed\\xa0\\x80" },
		{ "back\\slash", 10, "back\\slash" },
	};
	size_t i;
	char buf[64], *big, *once, *twice;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *got = esc(t[i].in, t[i].len, 1000, 0);

		CHECK_STR(got, t[i].want);
		twice = esc(got, strlen(got), 1000, 0);
		CHECK_STR(twice, got);
		free(twice);
		free(got);
	}
	once = esc("l1\nl2\033", 6, 100, TEXT_KEEP_NEWLINES);
	CHECK_STR(once, "l1\nl2\\x1b");
	free(once);
	/* A 1 MB value is cut, at a character boundary, and says so. */
	big = malloc(1000000);
	memset(big, 'v', 1000000);
	big[10] = '\xc3';
	big[11] = '\xa9';
	once = esc(big, 1000000, 500, 0);
	CHECK(strlen(once) < 540);
	CHECK_CONTAINS(once, "... (999500 more bytes)");
	free(once);
	once = esc(big, 1000000, 11, 0);
	CHECK_STR(once, "vvvvvvvvvv... (999990 more bytes)");
	free(once);
	CHECK(strlen(text_escape_buf(buf, sizeof(buf), big, 1000000, 1000000)) < 64);
	/* the fixed buffer never ends in half a character */
	memset(big, '\xc3', 1000);
	for (i = 1; i < 1000; i += 2)
		big[i] = '\xa9';
	text_escape_buf(buf, sizeof(buf), big, 1000, 1000);
	CHECK(strlen(buf) % 2 == 0);
	free(big);
	CHECK_STR(text_clean(buf, sizeof(buf), NULL), "");
	CHECK(text_has_control("a\rb", 3));
	CHECK(!text_has_control("a b\xc3\xa9", 5));
}

/* The error printer escapes what it prints: the message may be a server's. */
static void
error_print_cases(void)
{
	struct s7_error err;
	char out[2048] = "";
	FILE *fp = fmemopen(out, sizeof(out), "w");

	s7_error_clear(&err);
	s7_error(&err, "server said: \033]0;pwned\007 \xe2\x80\xae");
	s7_error_print(&err, fp);
	fclose(fp);
	CHECK_STR(out, "sector7: error: server said: \\x1b]0;pwned\\x07 \\u{202e}\n");
}

/*
 * fs_read: a FIFO with no writer, a device that never ends and a
 * directory are refused at once; a file larger than the cap is refused.
 */
static void
fs_cases(void)
{
	char dir[] = "/tmp/s7-fs-XXXXXX", path[512];
	struct strbuf sb;
	struct s7_error err;
	time_t t0;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/fifo", dir);
	CHECK(mkfifo(path, 0600) == 0);
	strbuf_init(&sb, 1024);
	t0 = time(NULL);
	alarm(10);	/* the old fs_read blocked here forever */
	CHECK(fs_read(path, &sb, &err) < 0);
	alarm(0);
	CHECK(time(NULL) - t0 < 5);
	CHECK_CONTAINS(err.msg, "is not a regular file (a FIFO)");
	CHECK(fs_read("/dev/zero", &sb, &err) < 0);
	CHECK_CONTAINS(err.msg, "is not a regular file (a device)");
	CHECK(fs_read(dir, &sb, &err) < 0);
	CHECK_CONTAINS(err.msg, "(a directory)");
	unlink(path);
	snprintf(path, sizeof(path), "%s/big", dir);
	{
		char blob[2048];

		memset(blob, 'x', sizeof(blob));
		CHECK(fs_write_atomic(path, blob, sizeof(blob), 0600, &err) == 0);
	}
	CHECK(fs_read(path, &sb, &err) < 0);
	CHECK_CONTAINS(err.msg, "is larger than 1024 bytes");
	strbuf_release(&sb);
	strbuf_init(&sb, 4096);
	CHECK(fs_read(path, &sb, &err) == 0 && sb.len == 2048);
	strbuf_release(&sb);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	escape_cases();
	error_print_cases();
	fs_cases();
	strbuf_cases();
	strnum_cases();
	text_cases();
	opt_cases();
	return unit_done("util");
}
