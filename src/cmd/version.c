/* sector7 version: the program's version, as text or JSON. */
#include <stdio.h>

#include "cmd.h"
#include "output.h"
#include "../version.h"
#include "../util/banned.h"

static int
version_exec(struct cmd_ctx *c, int npos, char **pos)
{
	(void)c;
	(void)npos;
	(void)pos;
	out_string(OUT_ANY, "version", "sector7 %s\n", SECTOR7_VERSION);
	return EXIT_OK;
}

const struct cmd_entry cmd_version_entry = {
	"version", "print the version", "", 0, 0, "Prints sector7's version.",
	NULL, 0, NULL, version_exec,
};
