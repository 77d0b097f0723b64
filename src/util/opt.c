#include <string.h>

#include "opt.h"
#include "strnum.h"
#include "text.h"
#include "banned.h"

static const struct opt_spec *
find_long(const struct opt_spec *const *t, const char *name, size_t len)
{
	const struct opt_spec *o;

	for (; *t; t++)
		for (o = *t; o->name; o++)
			if (strlen(o->name) == len &&
			    strncmp(o->name, name, len) == 0)
				return o;
	return NULL;
}

static const struct opt_spec *
find_short(const struct opt_spec *const *t, char c)
{
	const struct opt_spec *o;

	for (; *t; t++)
		for (o = *t; o->name; o++)
			if (o->alias && o->alias == c)
				return o;
	return NULL;
}

static const char *
suggest(const struct opt_spec *const *t, const char *word)
{
	const char *names[128];
	const struct opt_spec *o;
	size_t n = 0;

	for (; *t; t++)
		for (o = *t; o->name && n < 127; o++)
			names[n++] = o->name;
	names[n] = NULL;
	return text_suggest(word, names);
}

static int
set_value(const struct opt_spec *o, const char *val, struct s7_error *err)
{
	const char *why;
	long long v;

	switch (o->kind) {
	case OPT_FLAG:
		*(int *)o->target = 1;
		return 0;
	case OPT_STRING:
		if (*val == '\0')
			return s7_error_class(err, S7_EUSAGE,
			    "option '--%s' needs a non-empty value", o->name);
		*(const char **)o->target = val;
		return 0;
	case OPT_INT:
		v = s7_strtonum(val, o->min, o->max, &why);
		if (why)
			return s7_error_class(err, S7_EUSAGE,
			    "option '--%s': '%s' is %s (%lld to %lld)", o->name,
			    val, why, o->min, o->max);
		*(long long *)o->target = v;
		return 0;
	case OPT_CHOICE: {
		const char *const *c;

		for (c = o->choices; *c; c++)
			if (strcmp(*c, val) == 0) {
				*(const char **)o->target = *c;
				return 0;
			}
		return s7_error_class(err, S7_EUSAGE,
		    "option '--%s': '%s' is not one of the allowed values",
		    o->name, val);
	}
	}
	return -1;
}

int
opt_parse(const struct opt_spec *const *t, int argc, char **argv, char **pos,
    int *npos, struct s7_error *err)
{
	int i;

	*npos = 0;
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];
		const struct opt_spec *o;
		const char *val = NULL;

		if (strcmp(a, "--") == 0) {
			for (i++; i < argc; i++)
				pos[(*npos)++] = argv[i];
			break;
		}
		if (a[0] == '-' && a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);

			o = find_long(t, a + 2, len);
			if (o == NULL) {
				char word[64];
				const char *s;

				snprintf(word, sizeof(word), "%.*s",
				    (int)(len < 63 ? len : 63), a + 2);
				s = suggest(t, word);
				if (s)
					return s7_error_class(err, S7_EUSAGE,
					    "unknown option '--%s'; did you mean '--%s'?",
					    word, s);
				return s7_error_class(err, S7_EUSAGE,
				    "unknown option '--%s'", word);
			}
			if (eq)
				val = eq + 1;
			if (o->kind == OPT_FLAG && val)
				return s7_error_class(err, S7_EUSAGE,
				    "option '--%s' takes no value", o->name);
		} else if (a[0] == '-' && a[1] != '\0') {
			o = find_short(t, a[1]);
			if (o == NULL)
				return s7_error_class(err, S7_EUSAGE,
				    "unknown option '-%c'", a[1]);
			if (a[2] != '\0') {
				if (o->kind == OPT_FLAG)
					return s7_error_class(err, S7_EUSAGE,
					    "option '-%c' takes no value", a[1]);
				val = a + 2;
			}
		} else {
			pos[(*npos)++] = argv[i];
			continue;
		}
		if (o->kind != OPT_FLAG && val == NULL) {
			if (i + 1 >= argc)
				return s7_error_class(err, S7_EUSAGE,
				    "option '--%s' needs a value (%s)", o->name,
				    o->value ? o->value : "VALUE");
			val = argv[++i];
		}
		if (set_value(o, val, err) < 0)
			return -1;
	}
	return 0;
}

void
opt_help(FILE *fp, const struct opt_spec *const *t)
{
	const struct opt_spec *o;

	for (; *t; t++)
		for (o = *t; o->name; o++) {
			char head[96];

			if (o->alias)
				snprintf(head, sizeof(head), "-%c, --%s%s%s",
				    o->alias, o->name, o->value ? " " : "",
				    o->value ? o->value : "");
			else
				snprintf(head, sizeof(head), "    --%s%s%s",
				    o->name, o->value ? " " : "",
				    o->value ? o->value : "");
			fprintf(fp, "  %-26s %s\n", head, o->help);
		}
}
