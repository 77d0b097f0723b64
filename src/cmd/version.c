/* sector7 version: the program's version, as text or JSON. */
#include <stdio.h>

#include "cmd.h"
#include "../version.h"
#include "../util/banned.h"

int
cmd_version(struct cmd_ctx *c, int npos, char **pos)
{
	(void)npos;
	(void)pos;
	if (is_json(c))
		printf("{\n  \"version\": \"%s\"\n}\n", SECTOR7_VERSION);
	else
		printf("sector7 %s\n", SECTOR7_VERSION);
	return EXIT_OK;
}
