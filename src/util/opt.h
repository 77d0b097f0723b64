/*
 * Options are data: a command declares a table of opt_spec and one parser
 * gives it parsing, --help text and usage errors.  After the model of
 * libgit2's cli_opt.
 */
#ifndef S7_OPT_H
#define S7_OPT_H

#include <stdio.h>

#include "error.h"

enum opt_kind {
	OPT_FLAG,	/* target: int *, set to 1 */
	OPT_STRING,	/* target: const char **, the argument */
	OPT_INT,	/* target: long long *, bounded by min..max */
	OPT_CHOICE,	/* target: const char **, one of choices */
};

struct opt_spec {
	const char *name;	/* long name, without "--" */
	char alias;		/* short letter, or 0 */
	enum opt_kind kind;
	void *target;
	const char *value;	/* the value's name in help, e.g. "FILE" */
	const char *help;
	long long min, max;	/* OPT_INT */
	const char *const *choices;	/* OPT_CHOICE */
};

/*
 * Parses argv[0..argc) against one or more tables (terminated by an entry
 * with name NULL), leaving positional arguments in pos[0..*npos) (pos has
 * room for argc entries).  "--" ends option parsing.  Returns 0, or -1
 * with a usage error (class S7_EUSAGE).
 */
int opt_parse(const struct opt_spec *const *tables, int argc, char **argv,
    char **pos, int *npos, struct s7_error *err);

/* Prints the option lines of the tables for --help. */
void opt_help(FILE *fp, const struct opt_spec *const *tables);

#endif
