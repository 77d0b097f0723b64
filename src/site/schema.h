/*
 * The site schema: every key a site file may hold, its type, default and
 * one line of help.  The loader validates against it and docs/site.md is
 * checked against it by the tests, so the two cannot drift apart.
 */
#ifndef S7_SITE_SCHEMA_H
#define S7_SITE_SCHEMA_H

enum stype {
	T_STR, T_LABEL, T_DNSNAME, T_EMAIL, T_IPV4, T_CIDR, T_RANGE, T_SIZE,
	T_INT, T_BOOL, T_ENUM, T_HOST, T_CRON, T_DURATION, T_URL, T_IMAGE,
	T_MAP, T_LIST, T_WEBURL,
};

#define F_REQUIRED 1u

struct field {
	const char *key;
	enum stype type;
	unsigned flags;
	const char *def;		/* default as plain YAML text, or NULL */
	const char *const *choices;	/* T_ENUM */
	long long min, max;		/* T_INT */
	const struct field *sub;	/* T_MAP fields; T_LIST of mappings */
	enum stype item;		/* T_LIST of scalars */
	const char *help;
};

/* The top-level fields, terminated by an entry with key NULL. */
extern const struct field site_schema[];

const char *stype_name(enum stype t);

#endif
