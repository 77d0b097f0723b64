/*
 * Fuzz target: the YAML reader and writer.  What reads without error is
 * written and read back as the same tree (node for node), and errors
 * carry a position inside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"
#include "yaml/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a;
	struct ydocs d, e;
	struct s7_error err;
	size_t i;

	arena_init(&a);
	s7_error_clear(&err);
	if (yaml_parse(&a, "fuzz", (const char *)data, size, &d, &err) < 0) {
		if (err.line == 0 || err.line > size + 1)
			abort();
		arena_release(&a);
		return 0;
	}
	for (i = 0; i < d.n; i++) {
		struct strbuf sb;

		if (d.doc[i] == NULL || ynode_count(d.doc[i]) > YAML_MAX_NODES)
			abort();
		strbuf_init(&sb, STRBUF_LARGE);
		if (yaml_emit(&sb, d.doc[i], 0, &err) == 0) {
			if (yaml_parse(&a, "again", sb.buf, sb.len, &e, &err) < 0 ||
			    e.n != 1 || !ynode_equal(d.doc[i], e.doc[0]))
				abort();
		}
		strbuf_release(&sb);
	}
	arena_release(&a);
	return 0;
}
