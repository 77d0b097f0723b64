/*
 * The `checks:` lists of the catalog's descriptors.  catalog.c only
 * accepts the key; the list is read here from the descriptor's tree,
 * because what a check may say is verify's business.  An item's `when:`
 * is evaluated first (so an item about a disabled app may name values
 * that do not exist), then the rest is expanded by the template engine:
 * `${...}`, `$if` and `$for` work as in templates.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "verify.h"
#include "../catalog/template.h"
#include "../util/strnum.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

struct kind_keys {
	const char *kind;
	const char *const *checks;	/* NULL: the kind has no `check:` */
	const char *const *keys;	/* beyond kind, check, title */
	const char *const *required;
};

static const char *const api_checks[] = {
	"nodes-ready", "allocatable", "loadbalancer", "default-storageclass",
	"ready", "endpoints", "certificate", NULL,
};
static const char *const api_keys[] = {
	"nodes", "node", "quantity", "min", "namespace", "name", "address",
	"parameter", "value", "api-version", "resource", "min-days", "hosts",
	"condition", NULL,
};
static const char *const dns_keys[] = {
	"zone", "name", "type", "value", NULL,
};
static const char *const dns_req[] = { "zone", "name", "type", "value", NULL };
static const char *const https_keys[] = {
	"host", "path", "status", "body", "address", "port", "ca", "min-days",
	NULL,
};
static const char *const https_req[] = { "host", "path", "status", "address", "ca", NULL };
static const char *const sql_keys[] = {
	"namespace", "cluster", "secret", "database", "databases", "roles",
	"extensions", NULL,
};
static const char *const sql_req[] = { "namespace", "cluster", "secret", "database", NULL };
static const char *const prom_checks[] = { "targets", "rules", "alerts", NULL };
static const char *const prom_keys[] = {
	"namespace", "service", "port", "allow", NULL,
};
static const char *const prom_req[] = { "namespace", "service", "port", NULL };
static const char *const backup_checks[] = { "cronjob", "longhorn", "velero", NULL };
static const char *const backup_keys[] = {
	"namespace", "name", "max-age", NULL,
};
static const char *const backup_req[] = { "max-age", NULL };
static const char *const none[] = { NULL };

static const struct kind_keys kinds[] = {
	{ "api", api_checks, api_keys, none },
	{ "dns", NULL, dns_keys, dns_req },
	{ "https", NULL, https_keys, https_req },
	{ "sql", NULL, sql_keys, sql_req },
	{ "prometheus", prom_checks, prom_keys, prom_req },
	{ "backup", backup_checks, backup_keys, backup_req },
	{ NULL, NULL, NULL, NULL },
};

/* What each api check needs besides its name. */
static const struct { const char *check; const char *const req[4]; } api_req[] = {
	{ "nodes-ready", { "nodes", NULL } },
	{ "allocatable", { "node", "quantity", "min", NULL } },
	{ "loadbalancer", { "namespace", "name", "address", NULL } },
	{ "default-storageclass", { "name", NULL } },
	{ "ready", { "api-version", "resource", "name", NULL } },
	{ "endpoints", { "namespace", "name", NULL } },
	{ "certificate", { "namespace", "name", "min-days", NULL } },
	{ NULL, { NULL } },
};

void
verify_report_init(struct verify_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	arena_init(&rep->arena);
}

void
verify_report_release(struct verify_report *rep)
{
	free(rep->items);
	arena_release(&rep->arena);
	memset(rep, 0, sizeof(*rep));
}

struct vitem *
verify_add(struct verify_report *rep, const char *component, int phase,
    const char *kind, const char *subject)
{
	struct vitem *it;

	ALLOC_GROW(rep->items, rep->n + 1, rep->alloc);
	it = &rep->items[rep->n++];
	memset(it, 0, sizeof(*it));
	it->component = component;
	it->phase = phase;
	it->kind = kind;
	it->check = "";
	it->subject = subject ? subject : "";
	it->slot = -1;
	return it;
}

void
verify_set(struct vitem *it, enum vres res, const char *fmt, ...)
{
	va_list ap;

	it->res = res;
	it->decided = 1;
	va_start(ap, fmt);
	vsnprintf(it->evidence, sizeof(it->evidence), fmt, ap);
	va_end(ap);
}

static int
in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

static int
spec_error(struct s7_error *err, const struct ynode *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
spec_error(struct s7_error *err, const struct ynode *at, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return s7_error_at(err, at && at->file ? at->file : "checks",
	    at ? at->line : 0, at ? at->col : 0, "%s", msg);
}

int
verify_spec_check(const struct ynode *spec, struct s7_error *err)
{
	const struct kind_keys *k;
	const char *kind, *check;
	size_t i;

	if (spec == NULL || spec->kind != Y_MAP)
		return spec_error(err, spec, "a check must be a mapping");
	kind = ynode_get_str(spec, "kind");
	if (kind == NULL)
		return spec_error(err, spec, "a check needs 'kind'");
	for (k = kinds; k->kind; k++)
		if (strcmp(k->kind, kind) == 0)
			break;
	if (k->kind == NULL)
		return spec_error(err, ynode_get(spec, "kind"),
		    "unknown check kind '%s' (api, dns, https, sql, prometheus, backup)",
		    kind);
	check = ynode_get_str(spec, "check");
	if (k->checks && (check == NULL || !in_list(check, k->checks)))
		return spec_error(err, spec, "a %s check needs 'check' (one of %s%s%s...)",
		    kind, k->checks[0], k->checks[1] ? ", " : "",
		    k->checks[1] ? k->checks[1] : "");
	if (k->checks == NULL && check)
		return spec_error(err, ynode_get(spec, "check"),
		    "a %s check takes no 'check'", kind);
	for (i = 0; i < spec->n; i++) {
		const char *key = spec->v[2 * i]->str;

		if (strcmp(key, "kind") == 0 || strcmp(key, "check") == 0 ||
		    strcmp(key, "title") == 0)
			continue;
		if (!in_list(key, k->keys))
			return spec_error(err, spec->v[2 * i],
			    "unknown key '%s' in a %s check", key, kind);
	}
	for (i = 0; k->required[i]; i++)
		if (ynode_get(spec, k->required[i]) == NULL)
			return spec_error(err, spec, "a %s check needs '%s'", kind,
			    k->required[i]);
	if (strcmp(kind, "api") == 0) {
		size_t j;

		for (j = 0; api_req[j].check; j++)
			if (strcmp(api_req[j].check, check) == 0)
				break;
		for (i = 0; api_req[j].check && api_req[j].req[i]; i++)
			if (ynode_get(spec, api_req[j].req[i]) == NULL)
				return spec_error(err, spec,
				    "the api check %s needs '%s'", check,
				    api_req[j].req[i]);
	}
	if (strcmp(kind, "dns") == 0) {
		const char *zone = ynode_get_str(spec, "zone");
		const char *type = ynode_get_str(spec, "type");

		if (zone == NULL || (strcmp(zone, "internal") != 0 &&
		    strcmp(zone, "public") != 0))
			return spec_error(err, spec, "dns zone must be internal or public");
		if (type == NULL || (strcmp(type, "A") != 0 &&
		    strcmp(type, "CNAME") != 0))
			return spec_error(err, spec, "dns type must be A or CNAME");
	}
	if (strcmp(kind, "backup") == 0) {
		long long s;

		if (ynode_get_str(spec, "max-age") == NULL ||
		    verify_parse_window(ynode_get_str(spec, "max-age"), &s) < 0)
			return spec_error(err, spec, "max-age must be a duration like 26h");
		if (strcmp(check, "cronjob") == 0 &&
		    (ynode_get(spec, "namespace") == NULL ||
		    ynode_get(spec, "name") == NULL))
			return spec_error(err, spec, "a cronjob check needs namespace and name");
	}
	return 0;
}

static const char *
str(const struct ynode *spec, const char *key)
{
	const char *s = ynode_get_str(spec, key);

	return s ? s : "";
}

/* A short name of what an item looks at, for the report's lines. */
static const char *
subject_of(struct arena *a, const struct ynode *spec)
{
	const char *kind = str(spec, "kind"), *check = str(spec, "check");

	if (ynode_get_str(spec, "title"))
		return ynode_get_str(spec, "title");
	if (strcmp(kind, "dns") == 0)
		return arena_printf(a, "%s %s %s", strcmp(str(spec, "zone"),
		    "internal") == 0 ? "internal DNS" : "public DNS",
		    str(spec, "name"), str(spec, "type"));
	if (strcmp(kind, "https") == 0)
		return arena_printf(a, "https://%s%s", str(spec, "host"),
		    str(spec, "path"));
	if (strcmp(kind, "sql") == 0)
		return arena_printf(a, "PostgreSQL %s/%s database %s",
		    str(spec, "namespace"), str(spec, "cluster"),
		    str(spec, "database"));
	if (strcmp(kind, "prometheus") == 0)
		return arena_printf(a, "Prometheus %s", strcmp(check, "targets") == 0 ?
		    "targets up" : strcmp(check, "rules") == 0 ? "rules loaded" :
		    "alerts");
	if (strcmp(kind, "backup") == 0) {
		if (strcmp(check, "cronjob") == 0)
			return arena_printf(a, "CronJob %s/%s last success",
			    str(spec, "namespace"), str(spec, "name"));
		return arena_printf(a, "%s backup", strcmp(check, "longhorn") == 0 ?
		    "Longhorn" : "Velero");
	}
	if (strcmp(check, "nodes-ready") == 0)
		return "nodes Ready";
	if (strcmp(check, "allocatable") == 0)
		return arena_printf(a, "node %s allocatable %s", str(spec, "node"),
		    str(spec, "quantity"));
	if (strcmp(check, "loadbalancer") == 0)
		return arena_printf(a, "Service %s/%s address", str(spec,
		    "namespace"), str(spec, "name"));
	if (strcmp(check, "default-storageclass") == 0)
		return arena_printf(a, "default StorageClass %s", str(spec, "name"));
	if (strcmp(check, "ready") == 0)
		return arena_printf(a, "%s %s%s%s Ready", str(spec, "resource"),
		    str(spec, "namespace"), *str(spec, "namespace") ? "/" : "",
		    str(spec, "name"));
	if (strcmp(check, "endpoints") == 0)
		return arena_printf(a, "Service %s/%s endpoints", str(spec,
		    "namespace"), str(spec, "name"));
	if (strcmp(check, "certificate") == 0)
		return arena_printf(a, "Certificate %s/%s", str(spec, "namespace"),
		    str(spec, "name"));
	return kind;
}

static int
collect_one(struct verify_report *rep, const struct rcomponent *rc,
    const struct ynode *item, const struct ynode *ctx, struct s7_error *err)
{
	struct arena *a = &rep->arena;
	const char *when = ynode_get_str(item, "when");
	struct ynode *copy, *seq, *out = NULL;
	size_t i;

	if (item->kind == Y_MAP && when) {
		const struct ynode *v = NULL;

		if (tmpl_eval(a, when, ctx, &v, err) < 0) {
			s7_error_prefix(err, "%s:%u:%u: check when", item->file,
			    item->line, item->col);
			return -1;
		}
		if (!ynode_truthy(v)) {
			const char *skip = ynode_get_str(item, "skip");
			struct vitem *it;

			if (skip == NULL)
				return 0;
			it = verify_add(rep, rc->c->name, rc->c->phase,
			    str(item, "kind"), subject_of(a, item));
			it->check = str(item, "check");
			verify_set(it, V_SKIP, "%s", skip);
			return 0;
		}
	}
	copy = ynode_copy(a, item);
	if (copy->kind == Y_MAP) {
		ynode_map_del(copy, "when");
		ynode_map_del(copy, "skip");
	}
	seq = ynode_seq(a);
	ynode_push(a, seq, copy);
	if (tmpl_expand(a, seq, ctx, &out, err) < 0)
		return -1;
	for (i = 0; out && i < out->n; i++) {
		const struct ynode *spec = out->v[i];
		struct vitem *it;

		if (spec->kind == Y_MAP && spec->file == NULL) {
			/* expanded nodes keep the item's position for errors */
			((struct ynode *)spec)->file = item->file;
			((struct ynode *)spec)->line = item->line;
			((struct ynode *)spec)->col = item->col;
		}
		if (verify_spec_check(spec, err) < 0)
			return -1;
		it = verify_add(rep, rc->c->name, rc->c->phase, str(spec, "kind"),
		    subject_of(a, spec));
		it->check = str(spec, "check");
		it->spec = spec;
	}
	return 0;
}

int
verify_collect(struct verify_report *rep, const struct rendered *r,
    const struct verify_opts *o, struct s7_error *err)
{
	size_t i, j, matched = 0;

	for (i = 0; i < r->ncomps; i++) {
		const struct rcomponent *rc = &r->comps[i];
		const struct ynode *checks = ynode_get(rc->c->y, "checks");

		if (!rc->enabled)
			continue;
		if (o->phase && rc->c->phase != o->phase)
			continue;
		if (o->only && strcmp(rc->c->name, o->only) != 0)
			continue;
		matched++;
		if (checks == NULL)
			continue;
		if (checks->kind != Y_SEQ)
			return spec_error(err, checks, "'checks' must be a list");
		for (j = 0; j < checks->n; j++)
			if (collect_one(rep, rc, checks->v[j], r->ctx, err) < 0)
				return -1;
	}
	if (matched == 0)
		return s7_error_class(err, S7_EUSAGE,
		    "nothing to verify: no enabled component matches%s%s%s%s",
		    o->only ? " --only " : "", o->only ? o->only : "",
		    o->phase ? " --phase " : "", o->phase ? (o->phase == 1 ? "1" :
		    o->phase == 2 ? "2" : o->phase == 3 ? "3" : o->phase == 4 ?
		    "4" : "5") : "");
	return 0;
}

int
verify_parse_window(const char *s, long long *seconds)
{
	const char *err_s = NULL;
	char num[32];
	size_t n = s ? strlen(s) : 0;
	long long v, unit;

	if (n < 2 || n >= sizeof(num))
		return -1;
	switch (s[n - 1]) {
	case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	case 'w': unit = 7 * 86400; break;
	default: return -1;
	}
	memcpy(num, s, n - 1);
	num[n - 1] = '\0';
	v = s7_strtonum(num, 1, 100000000, &err_s);
	if (err_s || v * unit > 10LL * 366 * 86400)
		return -1;
	*seconds = v * unit;
	return 0;
}

int
verify_parse_time(const char *s, time_t *out)
{
	struct tm tm;
	const char *p;
	long off = 0;

	if (s == NULL)
		return -1;
	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p == NULL)
		return -1;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
		off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600L +
		    ((p[4] - '0') * 10 + (p[5] - '0')) * 60L;
		if (*p == '+')
			off = -off;
		p += 6;
	} else
		return -1;
	if (*p)
		return -1;
	*out = timegm(&tm) + off;
	return 0;
}

void
verify_format_age(long long s, char *buf, size_t size)
{
	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(buf, size, "%lld s", s);
	else if (s < 2 * 3600)
		snprintf(buf, size, "%lld min", s / 60);
	else if (s < 2 * 86400)
		snprintf(buf, size, "%lld h", s / 3600);
	else
		snprintf(buf, size, "%lld days", s / 86400);
}
