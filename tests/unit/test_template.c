/*
 * The template expander: substitution, directives, errors with positions,
 * and the property it exists for: no value can change the structure of
 * the document it is substituted into.
 */
#include <stdlib.h>

#include "unit.h"
#include "catalog/template.h"
#include "json/json.h"
#include "util/strbuf.h"
#include "yaml/yaml.h"

static const char *ctx_text =
    "site: sector7\n"
    "domain: example.org\n"
    "n: 3\n"
    "yes_: true\n"
    "empty: ''\n"
    "list: [a, b, c]\n"
    "nums: [1, 2]\n"
    "map: {x: 1, y: two}\n"
    "apps:\n"
    "  n8n: {enabled: true, host: n8n, url: 'https://n8n.example.org'}\n"
    "  nocodb: {enabled: false, host: nocodb}\n"
    "network: {ingress-ip: 192.168.2.200}\n";

/* Expands tmpl against ctx; returns the emitted YAML or "ERROR: msg". */
static char *
expand_with(const char *tmpl, const char *ctxs)
{
	struct arena a;
	struct ydocs docs;
	struct ynode *ctx, *out;
	struct s7_error err;
	struct strbuf sb;
	size_t i;
	char *res;

	arena_init(&a);
	strbuf_init(&sb, STRBUF_LARGE);
	s7_error_clear(&err);
	if (yaml_parse_one(&a, "ctx", ctxs, strlen(ctxs), &ctx, &err) < 0 ||
	    yaml_parse(&a, "t.yaml", tmpl, strlen(tmpl), &docs, &err) < 0)
		goto fail;
	for (i = 0; i < docs.n; i++) {
		if (tmpl_expand(&a, docs.doc[i], ctx, &out, &err) < 0)
			goto fail;
		if (out == NULL) {
			strbuf_addstr(&sb, "(absent)\n");
			continue;
		}
		if (yaml_emit(&sb, out, i > 0, &err) < 0)
			goto fail;
	}
	res = strbuf_detach(&sb, NULL);
	arena_release(&a);
	return res;
fail:
	strbuf_reset(&sb);
	if (err.line)
		strbuf_addf(&sb, "ERROR %u:%u: %s", err.line, err.col, err.msg);
	else
		strbuf_addf(&sb, "ERROR: %s", err.msg);
	res = strbuf_detach(&sb, NULL);
	arena_release(&a);
	return res;
}

static char *
expand(const char *tmpl)
{
	return expand_with(tmpl, ctx_text);
}

static void
table(void)
{
	static const struct {
		const char *tmpl, *want;
	} t[] = {
		/* substitution keeps types; interpolation makes strings */
		{ "a: ${n}", "a: 3\n" },
		{ "a: \"${n}\"", "a: \"3\"\n" },
		{ "a: '${n}'", "a: \"3\"\n" },
		{ "a: x${n}", "a: x3\n" },
		{ "a: ${yes_}", "a: true\n" },
		{ "a: ${list}", "a:\n- a\n- b\n- c\n" },
		/* "y" is a boolean to YAML 1.1 readers such as kubectl */
		{ "a: ${map}", "a:\n  x: 1\n  \"y\": two\n" },
		{ "a: ${site}-${domain}", "a: sector7-example.org\n" },
		{ "a: $${site}", "a: ${site}\n" },
		{ "a: ${apps.n8n.url}", "a: https://n8n.example.org\n" },
		{ "a: ${network.ingress-ip}", "a: 192.168.2.200\n" },
		{ "a: ${list[1]}", "a: b\n" },
		{ "\"${site}-key\": 1", "sector7-key: 1\n" },
		{ "$$x: 1", "$x: 1\n" },
		/* absent values drop keys and items */
		{ "a: ${nope?}\nb: 1", "b: 1\n" },
		{ "[1, '${nope?}', 2]", "- 1\n- 2\n" },
		{ "a: ${default(nope?, 'd')}", "a: d\n" },
		{ "a: ${default(site?, nope)}", "a: sector7\n" },
		/* expressions */
		{ "a: ${n == 3}", "a: true\n" },
		{ "a: ${n != 3}", "a: false\n" },
		{ "a: ${n > 2 && n <= 3}", "a: true\n" },
		{ "a: ${!yes_ || site == 'sector7'}", "a: true\n" },
		{ "a: ${nope? && nope.deeper}", "a: false\n" },
		{ "a: ${join(list, ',')}", "a: a,b,c\n" },
		{ "a: ${len(list)}", "a: 3\n" },
		{ "a: ${lower('ABC')}", "a: abc\n" },
		{ "a: ${(n == 3) && !(empty)}", "a: true\n" },
		/* directives */
		{ "a: {$if: yes_, $then: 1, $else: 2}", "a: 1\n" },
		{ "a: {$if: empty, $then: 1, $else: 2}", "a: 2\n" },
		{ "a: {$if: empty, $then: 1}\nb: 2", "b: 2\n" },
		{ "$when: apps.nocodb.enabled\nkind: X", "(absent)\n" },
		{ "$when: apps.n8n.enabled\nkind: X", "kind: X\n" },
		{ "- {$when: false, a: 1}\n- {$when: true, b: 2}", "- b: 2\n" },
		{ "- 0\n- {$for: x in list, $do: '${x}!'}\n- 9",
		  "- 0\n- a!\n- b!\n- c!\n- 9\n" },
		{ "a: {$for: x in nums, $do: {v: '${x}'}}",
		  "a:\n- v: \"1\"\n- v: \"2\"\n" },
		{ "a: {$for: x in list, $key: 'k-${x}', $do: '${x}'}",
		  "a:\n  k-a: a\n  k-b: b\n  k-c: c\n" },
		{ "a: {$for: app in apps, $key: '${app.key}', $do: '${app.value.host}'}",
		  "a:\n  n8n: n8n\n  nocodb: nocodb\n" },
		{ "a: {$for: x in nope?, $do: 1}", "a: []\n" },
		{ "a: {$yaml: {k: '${site}', l: [1, 2]}}",
		  "a: |\n  k: sector7\n  l:\n  - 1\n  - 2\n" },
		{ "a: {$json: {k: '${site}', n: '${n}'}}",
		  "a: |\n  {\n    \"k\": \"sector7\",\n    \"n\": \"3\"\n  }\n" },
		{ "a: {$merge: [{x: 1, y: 1}, {y: 2}, {$if: false, $then: {z: 3}}]}",
		  "a:\n  x: 1\n  \"y\": 2\n" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *got = expand(t[i].tmpl);

		if (strcmp(got, t[i].want) != 0)
			fprintf(stderr, "template: %s\n", t[i].tmpl);
		CHECK_STR(got, t[i].want);
		free(got);
	}
}

static void
errors(void)
{
	static const struct {
		const char *tmpl, *want;
	} t[] = {
		{ "a: 1\nb: ${sitee}",
		  "ERROR 2:4: in '${sitee}': 'sitee' is not defined; did you mean 'site'?" },
		{ "b: ${apps.n8n.hots}",
		  "ERROR 1:4: in '${apps.n8n.hots}': 'apps.n8n.hots' is not defined; did you mean 'host'?" },
		{ "b: x${list}",
		  "ERROR 1:4: in '${list}': cannot put a list inside a string" },
		{ "b: ${site", "ERROR 1:4: unterminated '${' in '${site'" },
		{ "b: ${n +}", "ERROR 1:4: in '${n +}': unexpected '+'" },
		{ "b: ${'x}", "ERROR 1:4: unterminated '${' in '${'x}'" },
		{ "b: ${n > 'x'}",
		  "ERROR 1:4: in '${n > 'x'}': '>' compares integers, found 'x'" },
		{ "b: ${nosuch(1)}",
		  "ERROR 1:4: in '${nosuch(1)}': unknown function 'nosuch'" },
		{ "b: {$iff: x}",
		  "ERROR 1:5: unknown directive '$iff'; did you mean '$if'?" },
		{ "b: {$if: n}", "ERROR 1:4: $if needs $then" },
		{ "b: {$for: x, $do: 1}",
		  "ERROR 1:11: $for expects 'NAME in EXPRESSION', found 'x'" },
		{ "b: {$for: x in site, $do: 1}",
		  "ERROR 1:5: $for: 'site' is a string, not a list" },
		{ "b: {$for: x in list, $key: k, $do: 1}",
		  "ERROR 1:28: $key produced 'k' twice" },
		{ "\"${site}\": 1\nsector7: 2", "ERROR 2:1: key 'sector7' appears twice" },
		{ "b: {$yaml: 1, x: 2}", "ERROR 1:4: $yaml stands alone in its mapping" },
		/* found by fuzzing: a long directive-like key */
		{ "b: {$averyveryverylongdirectivename: 1}",
		  "ERROR 1:5: '$averyveryverylongdirectivename' is not allowed here" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *got = expand(t[i].tmpl);

		CHECK_STR(got, t[i].want);
		free(got);
	}
}

/*
 * Hostile values: each is put into the context, substituted into a
 * template in every position a value can take, and the result is parsed
 * back.  The document must keep exactly its keys, and the value must come
 * back byte for byte.
 */
static void
structure(void)
{
	static const char *const hostile[] = {
		"a: b",
		"x\ninjected: true",
		"{injected: true}",
		"[1, 2]",
		"\"quoted\"",
		"'single'",
		"# comment",
		"value # comment",
		"---\nkind: Secret",
		"...",
		"&anchor",
		"*alias",
		"!!binary abc",
		"|\n  block",
		"> folded",
		"- item",
		"? key",
		"%YAML 1.1",
		"@at",
		"`tick`",
		"trailing space ",
		" leading space",
		"tab\there",
		"true",
		"null",
		"123",
		"0x1F",
		"1e3",
		"yes",
		"",
		"${site}",
		"unicode \xc3\xa9\xe2\x9c\x93",
		"back\\slash",
		"cr\rlf",
	};
	static const char *const tmpls[] = {
		"whole: ${v}\nafter: 1\n",
		"inner: pre-${v}-post\nafter: 1\n",
		"quoted: \"${v}\"\nafter: 1\n",
		"list: [\"${v}\", x]\nafter: 1\n",
		"yaml: {$yaml: {k: '${v}'}}\nafter: 1\n",
		"json: {$json: {k: '${v}'}}\nafter: 1\n",
		"\"key-${v}\": 1\nafter: 1\n",
	};
	size_t i, j;

	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		for (j = 0; j < sizeof(tmpls) / sizeof(tmpls[0]); j++) {
			struct arena a;
			struct ynode *ctx, *tmpl, *out, *back, *v;
			struct strbuf sb;
			struct s7_error err;
			const char *want;
			char *expect;

			arena_init(&a);
			strbuf_init(&sb, STRBUF_LARGE);
			s7_error_clear(&err);
			ctx = ynode_map(&a);
			ynode_map_set(&a, ctx, "site", ynode_str(&a, "S"));
			ynode_map_set(&a, ctx, "v", ynode_str(&a, hostile[i]));
			CHECK(yaml_parse_one(&a, "t", tmpls[j], strlen(tmpls[j]),
			    &tmpl, &err) == 0);
			CHECK(tmpl_expand(&a, tmpl, ctx, &out, &err) == 0);
			CHECK(yaml_emit(&sb, out, 0, &err) == 0);
			/* Parse what we wrote: same structure, same value. */
			if (yaml_parse_one(&a, "out", sb.buf, sb.len, &back,
			    &err) < 0) {
				CHECK(!"output parses");
				fprintf(stderr, "value %zu tmpl %zu:\n%s\n%s\n", i,
				    j, sb.buf, err.msg);
				goto next;
			}
			CHECK(back->kind == Y_MAP && back->n == 2);
			CHECK(ynode_get(back, "after") != NULL);
			v = back->v[1];
			if (j == 0 || j == 2) {
				CHECK(v->kind == Y_SCALAR && v->type == YT_STR);
				CHECK(v->len == strlen(hostile[i]) &&
				    memcmp(v->str, hostile[i], v->len) == 0);
			} else if (j == 1) {
				expect = NULL;
				CHECK(asprintf(&expect, "pre-%s-post", hostile[i]) > 0);
				CHECK(v->type == YT_STR && strcmp(v->str, expect) == 0);
				free(expect);
			} else if (j == 3) {
				CHECK(v->kind == Y_SEQ && v->n == 2);
				CHECK(strcmp(v->v[0]->str, hostile[i]) == 0);
			} else if (j == 4 || j == 5) {
				struct ynode *inner = NULL;
				int r;

				/* The string holds a document with one key. */
				CHECK(v->kind == Y_SCALAR && v->type == YT_STR);
				r = j == 4 ? yaml_parse_one(&a, "in", v->str, v->len,
				    &inner, &err) : json_parse(&a, "in", v->str,
				    v->len, &inner, &err);
				CHECK(r == 0);
				CHECK(inner && inner->kind == Y_MAP && inner->n == 1);
				want = hostile[i];
				CHECK(inner && strcmp(ynode_get_str(inner, "k"),
				    want) == 0);
			} else {
				expect = NULL;
				CHECK(asprintf(&expect, "key-%s", hostile[i]) > 0);
				CHECK(strcmp(back->v[0]->str, expect) == 0);
				free(expect);
			}
next:
			strbuf_release(&sb);
			arena_release(&a);
		}
	}
}

/* Template positions survive into the output (for render's errors). */
static void
positions(void)
{
	struct arena a;
	struct ynode *ctx, *tmpl, *out;
	struct s7_error err;
	const char *t = "a:\n  b: ${site}\n  c: x\n";

	arena_init(&a);
	s7_error_clear(&err);
	CHECK(yaml_parse_one(&a, "ctx", ctx_text, strlen(ctx_text), &ctx,
	    &err) == 0);
	CHECK(yaml_parse_one(&a, "t.yaml", t, strlen(t), &tmpl, &err) == 0);
	CHECK(tmpl_expand(&a, tmpl, ctx, &out, &err) == 0);
	CHECK(ynode_path(out, "a.b")->line == 2);
	CHECK(ynode_path(out, "a.b")->col == 6);
	CHECK_STR(ynode_path(out, "a.b")->file, "t.yaml");
	arena_release(&a);
}

int
main(void)
{
	table();
	errors();
	structure();
	positions();
	return unit_done("template");
}
