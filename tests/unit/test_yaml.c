/* YAML and JSON reading and writing, table-driven. */
#include <stdlib.h>

#include "unit.h"
#include "json/json.h"
#include "util/strbuf.h"
#include "yaml/yaml.h"

/* Parses one document and writes it back. */
static char *
roundtrip(const char *in)
{
	struct arena a;
	struct ynode *n;
	struct s7_error err;
	struct strbuf sb;
	char *res;

	arena_init(&a);
	strbuf_init(&sb, STRBUF_LARGE);
	s7_error_clear(&err);
	if (yaml_parse_one(&a, "t", in, strlen(in), &n, &err) < 0 ||
	    yaml_emit(&sb, n, 0, &err) < 0)
		strbuf_addf(&sb, "ERROR %u:%u: %s", err.line, err.col, err.msg);
	res = strbuf_detach(&sb, NULL);
	arena_release(&a);
	return res;
}

static char *
to_json(const char *in)
{
	struct arena a;
	struct ynode *n;
	struct s7_error err;
	struct strbuf sb;
	char *res;

	arena_init(&a);
	strbuf_init(&sb, STRBUF_LARGE);
	s7_error_clear(&err);
	if (yaml_parse_one(&a, "t", in, strlen(in), &n, &err) < 0 ||
	    json_emit(&sb, n, 0, &err) < 0)
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
		char *got = roundtrip(t[i].in);

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
		char *got = to_json(t[i].in);

		CHECK_STR(got, t[i].want);
		free(got);
	}
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

int
main(void)
{
	emit_cases();
	json_cases();
	limits();
	merge_patch();
	return unit_done("yaml");
}
