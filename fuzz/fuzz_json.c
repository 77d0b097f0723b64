/*
 * Fuzz target: the JSON reader (src/json/read.c) against jansson's, as a
 * second opinion.  Both must accept or refuse the same texts (but for
 * nesting deeper than ours allows: jansson allows 2048 levels), and what
 * both accept must be the same tree: ours written by json_emit equals
 * jansson's own tree written by jansson, byte for byte.  Any difference
 * aborts.  A raw NUL byte is never valid JSON; jansson reads it as the
 * end of the text, so then only ours is asked, and must refuse.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
dump_cb(const char *buffer, size_t size, void *data)
{
	return strbuf_add(data, buffer, size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a;
	struct ynode *n;
	struct s7_error err;
	struct strbuf ours, theirs;
	json_error_t je;
	json_t *j;
	int mine;

	arena_init(&a);
	strbuf_init(&ours, STRBUF_LARGE);
	strbuf_init(&theirs, STRBUF_LARGE);
	mine = json_parse(&a, "fuzz", (const char *)data, size, &n, &err) == 0;
	j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES |
	    JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	if (memchr(data, 0, size) != NULL) {
		if (mine) {
			fprintf(stderr, "ours accepts a raw NUL byte\n");
			abort();
		}
	} else if (!mine && strstr(err.msg, "nesting is too deep")) {
		/* ours stops at 200 levels */
	} else if (mine != (j != NULL)) {
		fprintf(stderr, "ours %s, jansson %s: %s%s\n",
		    mine ? "accepts" : "refuses", j ? "accepts" : "refuses",
		    mine ? "" : err.msg, j ? "" : je.text);
		abort();
	} else if (mine) {
		size_t f = JSON_ENCODE_ANY | JSON_PRESERVE_ORDER |
		    JSON_REAL_PRECISION(17) | JSON_COMPACT;

		if (json_emit(&ours, n, 0, &err) < 0 ||
		    json_dump_callback(j, dump_cb, &theirs, f) != 0 ||
		    ours.len != theirs.len ||
		    memcmp(ours.buf, theirs.buf, ours.len) != 0) {
			fprintf(stderr, "trees differ:\n ours    %.300s\n jansson %.300s\n",
			    ours.buf, theirs.buf);
			abort();
		}
	}
	json_decref(j);
	strbuf_release(&ours);
	strbuf_release(&theirs);
	arena_release(&a);
	return 0;
}
