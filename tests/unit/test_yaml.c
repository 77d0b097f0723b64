/* YAML and JSON reading and writing, table-driven. */
#include <stdlib.h>
#include <time.h>

#include "unit.h"
#include "json/json.h"
#include "util/strbuf.h"
#include "yaml/yaml.h"

enum { YAML, JSON };

/*
 * Reads one document of len bytes (YAML or JSON) and writes it back (YAML
 * or JSON): the text, "ERROR line:col: ..." when it cannot be read, or
 * "ERROR: ..." when it cannot be written.
 */
static char *
convert(int from, int to, const char *in, size_t len)
{
	struct arena a;
	struct ynode *n;
	struct s7_error err;
	struct strbuf sb;
	char *res;
	int r;

	arena_init(&a);
	strbuf_init(&sb, STRBUF_LARGE);
	s7_error_clear(&err);
	r = from == YAML ? yaml_parse_one(&a, "t", in, len, &n, &err) :
	    json_parse(&a, "j.json", in, len, &n, &err);
	if (r < 0)
		strbuf_addf(&sb, "ERROR %u:%u: %s", err.line, err.col, err.msg);
	else if ((to == YAML ? yaml_emit(&sb, n, 0, &err) :
	    json_emit(&sb, n, 0, &err)) < 0)
		strbuf_addf(&sb, "ERROR: %s", err.msg);
	res = strbuf_detach(&sb, NULL);
	arena_release(&a);
	return res;
}

static void
emit_cases(void)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		{ "a: 1", "a: 1\n" },
		{ "a: '1'", "a: \"1\"\n" },
		{ "a: 'true'", "a: \"true\"\n" },
		{ "a: 'yes'", "a: \"yes\"\n" },
		{ "a: 'on'", "a: \"on\"\n" },
		{ "a: '0777'", "a: \"0777\"\n" },
		{ "a: '1_000'", "a: \"1_000\"\n" },
		{ "a: '1:30'", "a: \"1:30\"\n" },
		{ "a: '.5'", "a: \".5\"\n" },
		{ "a: 'null'", "a: \"null\"\n" },
		{ "a: ''", "a: \"\"\n" },
		{ "a: 192.168.2.1", "a: 192.168.2.1\n" },
		{ "a: 10.0.0.1-10.0.0.9", "a: 10.0.0.1-10.0.0.9\n" },
		{ "a: v1.36.3+k3s1", "a: v1.36.3+k3s1\n" },
		{ "a: \"x: y\"", "a: 'x: y'\n" },
		{ "a: \"l1\\nl2\\n\"", "a: |\n  l1\n  l2\n" },
		{ "a: []", "a: []\n" },
		{ "a: {}", "a: {}\n" },
		{ "a: null", "a: null\n" },
		{ "a: ~", "a: ~\n" },
		{ "[1, 'two', {c: d}]", "- 1\n- two\n- c: d\n" },
		{ "a: &x {b: 1}\nc: *x", "a:\n  b: 1\nc:\n  b: 1\n" },
		{ "a: !!str 12", "a: \"12\"\n" },
		{ "a: 1\na: 2", "ERROR 2:1: duplicate key 'a'" },
		{ "? [a]\n: 1", "ERROR 1:3: mapping keys must be scalars" },
		{ "a: !!int x", "ERROR 1:4: 'x' does not match its tag" },
		{ "a: *nope", "ERROR 1:4: unknown anchor 'nope'" },
		{ "a: [1, 2", "ERROR 2:1: did not find expected ',' or ']' while parsing a flow sequence" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *got = convert(YAML, YAML, t[i].in, strlen(t[i].in));

		if (strcmp(got, t[i].want) != 0)
			fprintf(stderr, "input: %s\n", t[i].in);
		CHECK_STR(got, t[i].want);
		free(got);
	}
}

static void
json_cases(void)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		{ "a: 1", "{\"a\":1}" },
		{ "a: 0x1F", "{\"a\":31}" },
		{ "a: 0o17", "{\"a\":15}" },
		{ "a: 0644", "{\"a\":420}" },	/* as kubectl reads it */
		{ "a: 1.5", "{\"a\":1.5}" },
		{ "a: '1'", "{\"a\":\"1\"}" },
		{ "a: [true, null, ~]", "{\"a\":[true,null,null]}" },
		{ "b: 1\na: 2", "{\"b\":1,\"a\":2}" },	/* order kept */
		{ "a: .inf", "ERROR: '.inf' cannot be written as JSON" },
		{ "a: \"q\\\"\\\\\"", "{\"a\":\"q\\\"\\\\\"}" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *got = convert(YAML, JSON, t[i].in, strlen(t[i].in));

		CHECK_STR(got, t[i].want);
		free(got);
	}
}

static void
json_reader(void)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		{ " {\"b\": [1, -0, 2.50, 1e2, true, false, null], \"a\": {}} ",
		    "{\"b\":[1,0,2.5,100.0,true,false,null],\"a\":{}}" },
		{ "\"x\"", "\"x\"" },
		{ "[]", "[]" },
		{ "-9223372036854775808", "-9223372036854775808" },
		{ "\"\\u00e9\\ud83d\\ude00\\/\\t\"", "\"\xc3\xa9\xf0\x9f\x98\x80/\\t\"" },
		{ "\"\xe2\x82\xac\"", "\"\xe2\x82\xac\"" },
		{ "", "ERROR 1:1: invalid JSON: a value expected" },
		{ "{\"a\": [1,}", "ERROR 1:10: invalid JSON: a value expected" },
		{ "{\"a\":1,\n \"a\":2}", "ERROR 1:1: invalid JSON: duplicate object key 'a'" },
		{ "[1]\n x", "ERROR 2:2: invalid JSON: end of input expected" },
		{ "[01]", "ERROR 1:3: invalid JSON: ',' or ']' expected" },
		{ "[1.]", "ERROR 1:2: invalid JSON: invalid number" },
		{ "9223372036854775808", "ERROR 1:1: invalid JSON: an integer too large for 64 bits" },
		{ "1e999", "ERROR 1:1: invalid JSON: a real number too large" },
		{ "\"a\tb\"", "ERROR 1:3: invalid JSON: control character in a string" },
		{ "\"\xc0\xaf\"", "ERROR 1:2: invalid JSON: invalid UTF-8 in a string" },
		{ "\"\xed\xa0\x80\"", "ERROR 1:2: invalid JSON: invalid UTF-8 in a string" },
		{ "\"\\ud800x\"", "ERROR 1:2: invalid JSON: invalid Unicode escape (a high surrogate without its low one)" },
		{ "\"\\udc00\"", "ERROR 1:2: invalid JSON: invalid Unicode escape (a lone low surrogate)" },
		{ "\"\\x\"", "ERROR 1:2: invalid JSON: invalid escape in a string" },
		{ "{\"\\u0000\":1}", "ERROR 1:3: invalid JSON: \\u0000 in an object key" },
		{ "{\"a\" 1}", "ERROR 1:6: invalid JSON: ':' expected" },
		{ "{1:2}", "ERROR 1:2: invalid JSON: string or '}' expected" },
		{ "[tru]", "ERROR 1:2: invalid JSON: a value expected" },
		{ "\"abc", "ERROR 1:5: invalid JSON: unterminated string" },
	};
	struct arena a;
	struct ynode *n;
	struct s7_error err;
	struct strbuf sb;
	size_t i;
	char *got;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		got = convert(JSON, JSON, t[i].in, strlen(t[i].in));
		CHECK_STR(got, t[i].want);
		free(got);
	}
	/* a NUL byte: inside a value through \u0000, never raw */
	got = convert(JSON, JSON, "\"a\\u0000b\"", 10);
	CHECK_STR(got, "\"a\\u0000b\"");
	free(got);
	got = convert(JSON, JSON, "1\0", 2);
	CHECK_STR(got, "ERROR 1:2: invalid JSON: end of input expected");
	free(got);

	/* 100,000 keys: the duplicate at the end is found, by hashing */
	arena_init(&a);
	strbuf_init(&sb, STRBUF_LARGE);
	strbuf_addch(&sb, '{');
	for (i = 0; i < 100000; i++)
		strbuf_addf(&sb, "\"k%zu\":%zu,", i, i);
	strbuf_addstr(&sb, "\"k99999\":0}");
	CHECK(json_parse(&a, "big.json", sb.buf, sb.len, &n, &err) < 0);
	CHECK_CONTAINS(err.msg, "duplicate object key 'k99999'");
	sb.buf[sb.len - 9] = 'x';	/* "x99999": no duplicate */
	CHECK(json_parse(&a, "big.json", sb.buf, sb.len, &n, &err) == 0);
	CHECK(n->n == 100001 && n->cap == 2 * n->n);	/* sized exactly */
	/* depth */
	strbuf_reset(&sb);
	for (i = 0; i < JSON_MAX_DEPTH + 1; i++)
		strbuf_addch(&sb, '[');
	CHECK(json_parse(&a, "deep.json", sb.buf, sb.len, &n, &err) < 0);
	CHECK_CONTAINS(err.msg, "nesting is too deep (more than 200 levels)");
	strbuf_reset(&sb);
	for (i = 0; i < JSON_MAX_DEPTH; i++)
		strbuf_addch(&sb, '[');
	for (i = 0; i < JSON_MAX_DEPTH; i++)
		strbuf_addch(&sb, ']');
	CHECK(json_parse(&a, "deep.json", sb.buf, sb.len, &n, &err) == 0);
	strbuf_release(&sb);
	arena_release(&a);
}

static void
limits(void)
{
	struct arena a;
	struct ydocs d;
	struct ynode *n;
	struct s7_error err;
	struct strbuf sb;
	size_t i;

	arena_init(&a);
	strbuf_init(&sb, STRBUF_LARGE);
	s7_error_clear(&err);
	for (i = 0; i < YAML_MAX_DEPTH + 5; i++)
		strbuf_addch(&sb, '[');
	CHECK(yaml_parse(&a, "deep", sb.buf, sb.len, &d, &err) < 0);
	CHECK_CONTAINS(err.msg, "nesting is too deep");
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "a: &a x\nb: [");
	for (i = 0; i < YAML_MAX_ALIASES + 1; i++)
		strbuf_addstr(&sb, "*a, ");
	strbuf_addstr(&sb, "]\n");
	CHECK(yaml_parse(&a, "aliases", sb.buf, sb.len, &d, &err) < 0);
	CHECK_CONTAINS(err.msg, "too many aliases");
	/* Several documents; an empty one is a null scalar. */
	CHECK(yaml_parse(&a, "m", "a: 1\n---\n---\nb: 2\n", 18, &d, &err) == 0);
	CHECK(d.n == 3 && d.doc[1]->kind == Y_SCALAR &&
	    d.doc[1]->type == YT_NULL);
	CHECK(yaml_parse_one(&a, "m", "a: 1\n---\nb: 2\n", 14, &n, &err) < 0);
	CHECK_CONTAINS(err.msg, "expected one document, found 2");
	/* JSON parse errors carry positions. */
	CHECK(json_parse(&a, "j.json", "{\"a\": [1,}", 10, &n, &err) < 0);
	CHECK(err.line == 1 && err.col > 0);
	CHECK(json_parse(&a, "j.json", "{\"a\":1,\"a\":2}", 13, &n, &err) < 0);
	strbuf_release(&sb);
	arena_release(&a);
}

static void
merge_patch(void)
{
	struct arena a;
	struct ynode *t, *p, *r;
	struct s7_error err;
	struct strbuf sb;
	const char *tt = "a: 1\nb: {c: 2, d: 3}\nl: [1, 2]\n";
	const char *pp = "b: {c: null, e: 4}\nl: [9]\nf: x\n";

	arena_init(&a);
	strbuf_init(&sb, STRBUF_LARGE);
	s7_error_clear(&err);
	CHECK(yaml_parse_one(&a, "t", tt, strlen(tt), &t, &err) == 0);
	CHECK(yaml_parse_one(&a, "p", pp, strlen(pp), &p, &err) == 0);
	r = ynode_merge_patch(&a, t, p);
	CHECK(yaml_emit(&sb, r, 0, &err) == 0);
	CHECK_STR(sb.buf, "a: 1\nb:\n  d: 3\n  e: 4\nl:\n- 9\nf: x\n");
	/* the target is unchanged */
	CHECK(ynode_path(t, "b.c") != NULL);
	CHECK(ynode_equal(t, ynode_copy(&a, t)));
	CHECK(!ynode_equal(t, r));
	strbuf_release(&sb);
	arena_release(&a);
}

static double
secs_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * What libyaml's reader refuses, at its position: libyaml itself says
 * 1:1 for all of these.
 */
static void
reader_errors(void)
{
	static const struct {
		const char *in;
		size_t len;
		unsigned line, col;
		const char *msg;
	} t[] = {
		{ "a: 1\nb: x\0y\n", 12, 2, 5, "a NUL byte (U+0000) is not allowed" },
		{ "a: 1\nbb: 2\nc: \x01\n", 17, 3, 4, "a control character (U+0001)" },
		{ "k: \xc3\xa9\xff\n", 7, 1, 5, "byte 0xff is not valid UTF-8" },
		{ "k:\n  - ok\n  - \xe2\x82\n", 17, 3, 5, "byte 0xe2 is not valid UTF-8" },
		{ "k: \xed\xa0\x80\n", 7, 1, 4, "byte 0xed is not valid UTF-8" },
		{ "k: v\r\nl: \x1b[0m\n", 14, 2, 4, "a control character (U+001B)" },
		{ "\xff\xfek\0:\0", 6, 1, 1, "byte 0xff is not valid UTF-8" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct arena a;
		struct ydocs d;
		struct s7_error err;

		arena_init(&a);
		s7_error_clear(&err);
		CHECK(yaml_parse(&a, "r.yaml", t[i].in, t[i].len, &d, &err) < 0);
		CHECK(err.line == t[i].line && err.col == t[i].col);
		if (err.line != t[i].line || err.col != t[i].col)
			fprintf(stderr, "case %zu: at %u:%u, want %u:%u (%s)\n", i,
			    err.line, err.col, t[i].line, t[i].col, err.msg);
		CHECK_CONTAINS(err.msg, t[i].msg);
		CHECK_STR(err.file, "r.yaml");
		arena_release(&a);
	}
}

/*
 * A "billion laughs": each level lists the one before ten times.  The
 * tree is tiny but whoever walks it walks ten to the ninth nodes; the
 * node limit counts aliases as what they stand for.
 */
static void
node_limits(void)
{
	struct arena a;
	struct ydocs d;
	struct s7_error err;
	struct strbuf sb;
	struct timespec t0;
	size_t i, j;

	arena_init(&a);
	strbuf_init(&sb, STRBUF_LARGE);
	strbuf_addstr(&sb, "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
	for (i = 1; i < 10; i++) {
		strbuf_addf(&sb, "l%zu: &l%zu [", i, i);
		for (j = 0; j < 10; j++)
			strbuf_addf(&sb, "%s*l%zu", j ? ", " : "", i - 1);
		strbuf_addstr(&sb, "]\n");
	}
	CHECK(yaml_parse(&a, "laughs", sb.buf, sb.len, &d, &err) < 0);
	CHECK_CONTAINS(err.msg, "more than 1000000 nodes");
	CHECK(err.line > 1);
	/* depth through an alias */
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "a: &deep ");
	for (i = 0; i < 150; i++)
		strbuf_addch(&sb, '[');
	for (i = 0; i < 150; i++)
		strbuf_addch(&sb, ']');
	strbuf_addstr(&sb, "\nb: ");
	for (i = 0; i < 100; i++)
		strbuf_addch(&sb, '[');
	strbuf_addstr(&sb, "*deep");
	for (i = 0; i < 100; i++)
		strbuf_addch(&sb, ']');
	strbuf_addch(&sb, '\n');
	CHECK(yaml_parse(&a, "deep", sb.buf, sb.len, &d, &err) < 0);
	CHECK_CONTAINS(err.msg, "through an alias");
	/* 1,000,001 plain nodes */
	strbuf_reset(&sb);
	strbuf_addch(&sb, '[');
	for (i = 0; i < 1000000; i++)
		strbuf_addstr(&sb, "1,");
	strbuf_addstr(&sb, "1]");
	CHECK(yaml_parse(&a, "many", sb.buf, sb.len, &d, &err) < 0);
	CHECK_CONTAINS(err.msg, "more than 1000000 nodes");
	/*
	 * A mapping with 200,000 keys: the duplicate check is hashed (a
	 * scan of earlier keys was quadratic: minutes), and a duplicate at
	 * the end is still found.
	 */
	strbuf_reset(&sb);
	for (i = 0; i < 200000; i++)
		strbuf_addf(&sb, "key%zu: %zu\n", i, i);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(yaml_parse(&a, "wide", sb.buf, sb.len, &d, &err) == 0);
	printf("  yaml: 200,000 keys in %.2fs\n", secs_since(&t0));
	CHECK(secs_since(&t0) < 10);
	CHECK(d.n == 1 && d.doc[0]->n == 200000);
	strbuf_addstr(&sb, "key123456: again\n");
	CHECK(yaml_parse(&a, "wide", sb.buf, sb.len, &d, &err) < 0);
	CHECK_CONTAINS(err.msg, "duplicate key 'key123456'");
	CHECK(err.line == 200001 && err.col == 1);
	/* a key with a NUL would be looked up as its first part: refused */
	CHECK(yaml_parse(&a, "nul", "\"a\\0b\": 1\n\"a\\0c\": 2\n", 20, &d,
	    &err) < 0);
	CHECK_CONTAINS(err.msg, "a key contains a NUL character");
	CHECK(err.line == 1);
	strbuf_release(&sb);
	arena_release(&a);
}

/* Booleans are YAML booleans: a quoted "false" is a string. */
static void
booleans(void)
{
	static const struct {
		const char *in;
		int ok, v;
	} t[] = {
		{ "true", 1, 1 }, { "false", 1, 0 }, { "True", 1, 1 },
		{ "FALSE", 1, 0 }, { "!!bool true", 1, 1 },
		{ "\"false\"", 0, 0 }, { "'true'", 0, 0 }, { "yes", 0, 0 },
		{ "no", 0, 0 }, { "0", 0, 0 }, { "1", 0, 0 }, { "~", 0, 0 },
		{ "[true]", 0, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct arena a;
		struct ynode *n;
		struct s7_error err;
		int v = -1;

		arena_init(&a);
		CHECK(yaml_parse_one(&a, "b", t[i].in, strlen(t[i].in), &n,
		    &err) == 0);
		CHECK((ynode_boolean(n, &v) == 0) == t[i].ok);
		if (t[i].ok)
			CHECK(v == t[i].v);
		arena_release(&a);
	}
}

/* Packed copies are equal to the original; typed reads refuse the wrong type. */
static void
packed(void)
{
	struct arena a;
	struct ynode *n, *p;
	struct s7_error err;
	const char *in = "metadata: {name: x, namespace: 5, labels: {a: b}}\n"
	    "spec: [1, \"two\", {three: null}, [], {}]\n";
	size_t bytes;

	arena_init(&a);
	CHECK(yaml_parse_one(&a, "p", in, strlen(in), &n, &err) == 0);
	p = ynode_pack(n, &bytes);
	CHECK(ynode_equal(n, p) && bytes > 0);
	CHECK(ynode_count(p) == ynode_count(n) && ynode_count(n) == 20);
	CHECK_STR(ynode_get_string(ynode_get_map(p, "metadata"), "name"), "x");
	CHECK(ynode_get_string(ynode_get_map(p, "metadata"), "namespace") == NULL);
	CHECK(ynode_get_map(p, "spec") == NULL && ynode_get_seq(p, "spec"));
	CHECK(ynode_get_seq(NULL, "x") == NULL);
	ynode_pack_free(p, bytes, 1);
	ynode_wipe(n);
	CHECK(n->v[0]->str[0] == '\0' && n->v[1]->v[1]->str[0] == '\0');
	arena_release(&a);
}

int
main(void)
{
	reader_errors();
	node_limits();
	booleans();
	packed();
	emit_cases();
	json_cases();
	json_reader();
	limits();
	merge_patch();
	return unit_done("yaml");
}
