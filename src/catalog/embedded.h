/* Files compiled into the binary by tools/embed (see the Makefile). */
#ifndef S7_CATALOG_EMBEDDED_H
#define S7_CATALOG_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
	const char *path;	/* e.g. "catalog/metallb/component.yaml" */
	const char *data;	/* NUL-terminated */
	size_t len;
};

/* Terminated by an entry with path NULL. */
extern const struct embedded_file embedded_files[];

const struct embedded_file *embedded_find(const char *path);

#endif
