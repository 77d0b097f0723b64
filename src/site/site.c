/*
 * Loading a site: YAML -> schema validation (every problem collected) ->
 * a normalised tree with defaults -> typed fields.  The normalised tree is
 * what templates read, so a default is decided here, once.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "site.h"
#include "schema.h"
#include "../util/strnum.h"
#include "../util/text.h"
#include "../util/xmalloc.h"
#include "../yaml/yaml.h"
#include "../util/banned.h"

struct loader {
	struct site *s;
	struct findings *f;
	struct arena *a;
};

void
site_init(struct site *s)
{
	memset(s, 0, sizeof(*s));
	arena_init(&s->arena);
}

void
site_release(struct site *s)
{
	arena_release(&s->arena);
	memset(s, 0, sizeof(*s));
}

int
site_parse_size(const char *str, uint64_t *bytes)
{
	static const struct {
		const char *suffix;
		uint64_t mult;
	} units[] = {
		{ "Ki", 1ull << 10 }, { "Mi", 1ull << 20 }, { "Gi", 1ull << 30 },
		{ "Ti", 1ull << 40 }, { "Pi", 1ull << 50 }, { "k", 1000ull },
		{ "M", 1000000ull }, { "G", 1000000000ull },
		{ "T", 1000000000000ull }, { "P", 1000000000000000ull },
		{ "", 1 },
	};
	const char *p = str;
	uint64_t v = 0;
	size_t i;

	if (!isdigit((unsigned char)*p))
		return -1;
	while (isdigit((unsigned char)*p)) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
		p++;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(p, units[i].suffix) == 0) {
			if (v > UINT64_MAX / units[i].mult)
				return -1;
			*bytes = v * units[i].mult;
			return 0;
		}
	return -1;
}

int
site_parse_duration(const char *str, long long *hours)
{
	const char *err = NULL;
	size_t n = strlen(str);
	char num[24];
	long long v, mult;

	if (n < 2 || n > sizeof(num))
		return -1;
	switch (str[n - 1]) {
	case 'h': mult = 1; break;
	case 'd': mult = 24; break;
	case 'w': mult = 24 * 7; break;
	default: return -1;
	}
	memcpy(num, str, n - 1);
	num[n - 1] = '\0';
	if (!isdigit((unsigned char)num[0]))
		return -1;
	v = s7_strtonum(num, 1, 100000, &err);
	if (err)
		return -1;
	*hours = v * mult;
	return 0;
}

/* Checks one cron field: numbers, '*', ranges, lists and steps in [lo,hi]. */
static int
cron_field(const char *s, size_t len, int lo, int hi)
{
	size_t i = 0;

	if (len == 0)
		return -1;
	while (i < len) {
		int a = -1, b = -1;

		if (s[i] == '*') {
			i++;
		} else {
			a = 0;
			if (i >= len || !isdigit((unsigned char)s[i]))
				return -1;
			while (i < len && isdigit((unsigned char)s[i])) {
				a = a * 10 + (s[i] - '0');
				if (a > 1000)
					return -1;
				i++;
			}
			if (a < lo || a > hi)
				return -1;
			if (i < len && s[i] == '-') {
				i++;
				b = 0;
				if (i >= len || !isdigit((unsigned char)s[i]))
					return -1;
				while (i < len && isdigit((unsigned char)s[i])) {
					b = b * 10 + (s[i] - '0');
					if (b > 1000)
						return -1;
					i++;
				}
				if (b < a || b > hi)
					return -1;
			}
		}
		if (i < len && s[i] == '/') {
			int step = 0;

			i++;
			if (i >= len || !isdigit((unsigned char)s[i]))
				return -1;
			while (i < len && isdigit((unsigned char)s[i])) {
				step = step * 10 + (s[i] - '0');
				if (step > 1000)
					return -1;
				i++;
			}
			if (step == 0)
				return -1;
		}
		if (i < len) {
			if (s[i] != ',' || i + 1 == len)
				return -1;
			i++;
		}
	}
	return 0;
}

static int
valid_cron(const char *s)
{
	static const int lo[] = { 0, 0, 1, 1, 0 }, hi[] = { 59, 23, 31, 12, 7 };
	const char *p = s;
	int field = 0;

	while (*p) {
		const char *e;

		if (*p == ' ') {
			p++;
			continue;
		}
		if (field == 5)
			return -1;
		e = strchr(p, ' ');
		if (e == NULL)
			e = p + strlen(p);
		if (cron_field(p, (size_t)(e - p), lo[field], hi[field]) < 0)
			return -1;
		field++;
		p = e;
	}
	return field == 5 ? 0 : -1;
}

static int
valid_email(const char *s)
{
	const char *at = strrchr(s, '@');
	const char *p;

	if (at == NULL || at == s || strlen(s) > 254)
		return 0;
	for (p = s; p < at; p++)
		if (!isgraph((unsigned char)*p) || *p == '@')
			return 0;
	return text_is_dns_name(at + 1) && strchr(at + 1, '.') != NULL;
}

static int
valid_image(const char *s, const char **why)
{
	const char *slash = strrchr(s, '/');
	const char *last = slash ? slash + 1 : s;
	const char *colon = strchr(last, ':');
	const char *p;

	for (p = s; *p; p++)
		if (!isgraph((unsigned char)*p)) {
			*why = "contains spaces or control characters";
			return 0;
		}
	if (*s == '\0') {
		*why = "is empty";
		return 0;
	}
	if (strstr(s, "@sha256:") != NULL)
		return 1;
	if (colon == NULL || colon[1] == '\0') {
		*why = "has no tag (pin a version)";
		return 0;
	}
	if (strcmp(colon + 1, "latest") == 0) {
		*why = "uses the moving tag 'latest' (pin a version)";
		return 0;
	}
	return 1;
}

static int
valid_url(const char *s, const char **why)
{
	const char *rest;

	if (text_has_prefix(s, "nfs://"))
		rest = s + 6;
	else if (text_has_prefix(s, "s3://"))
		rest = s + 5;
	else if (text_has_prefix(s, "s3+http://"))
		rest = s + 10;
	else {
		*why = "the scheme must be nfs://, s3:// or s3+http://";
		return 0;
	}
	if (*rest == '\0' || *rest == '/' || strchr(rest, '/') == NULL ||
	    strchr(rest, '/')[1] == '\0') {
		*why = "expected scheme://host/path";
		return 0;
	}
	for (; *rest; rest++)
		if (!isgraph((unsigned char)*rest)) {
			*why = "contains spaces or control characters";
			return 0;
		}
	return 1;
}

/* http(s)://host[:port][/path]: a host, no spaces, a port in range. */
static int
valid_weburl(const char *s, const char **why)
{
	const char *host, *end, *p;

	if (text_has_prefix(s, "https://"))
		host = s + 8;
	else if (text_has_prefix(s, "http://"))
		host = s + 7;
	else {
		*why = "the scheme must be http:// or https://";
		return 0;
	}
	for (p = s; *p; p++)
		if (!isgraph((unsigned char)*p)) {
			*why = "contains spaces or control characters";
			return 0;
		}
	end = host + strcspn(host, "/?#");
	if (memchr(host, '@', (size_t)(end - host))) {
		*why = "has credentials in it (use token-secret)";
		return 0;
	}
	p = memchr(host, ':', (size_t)(end - host));
	if (p) {
		const char *d;

		for (d = p + 1; d < end; d++)
			if (*d < '0' || *d > '9')
				break;
		if (d != end || d == p + 1 ||
		    strtol(p + 1, NULL, 10) < 1 || strtol(p + 1, NULL, 10) > 65535) {
			*why = "has a bad port";
			return 0;
		}
		end = p;
	}
	{
		char name[256];

		if (end == host || end - host >= (long)sizeof(name)) {
			*why = "has no host";
			return 0;
		}
		memcpy(name, host, (size_t)(end - host));
		name[end - host] = '\0';
		if (!text_is_dns_name(name)) {
			*why = "has no valid host name or address";
			return 0;
		}
	}
	return 1;
}

static const char *
join(struct arena *a, const char *path, const char *key)
{
	return *path ? arena_printf(a, "%s.%s", path, key) :
	    arena_strdup(a, key);
}

/* Validates a scalar value against its field; returns the normal form. */
static struct ynode *
scalar(struct loader *L, const struct field *fd, enum stype type,
    const struct ynode *in, const char *path)
{
	const char *why = NULL, *s;
	struct ynode *out;
	uint32_t u32;
	unsigned u;
	struct ipv4_range r;
	uint64_t u64;
	long long ll;

	if (in->kind != Y_SCALAR) {
		findings_add(L->f, SEV_ERROR, path, in, "expected %s, found %s",
		    stype_name(type), ynode_kind_name(in));
		return NULL;
	}
	s = in->str;
	if (type == T_INT) {
		if (in->type != YT_INT) {
			findings_add(L->f, SEV_ERROR, path, in,
			    "expected an integer, found %s", ynode_kind_name(in));
			return NULL;
		}
		ll = s7_strtonum(s, fd->min, fd->max, &why);
		if (why) {
			findings_add(L->f, SEV_ERROR, path, in,
			    "%s is %s (allowed: %lld to %lld)", s, why, fd->min,
			    fd->max);
			return NULL;
		}
		return ynode_int(L->a, ll);
	}
	if (type == T_BOOL) {
		if (in->type != YT_BOOL) {
			findings_add(L->f, SEV_ERROR, path, in,
			    "expected true or false, found %s '%s'",
			    ynode_kind_name(in), s);
			return NULL;
		}
		return ynode_bool(L->a, ynode_truthy(in));
	}
	if (in->type != YT_STR && !(type == T_STR || type == T_SIZE)) {
		findings_add(L->f, SEV_ERROR, path, in, "expected %s, found %s",
		    stype_name(type), ynode_kind_name(in));
		return NULL;
	}
	if (strlen(s) != in->len) {
		findings_add(L->f, SEV_ERROR, path, in,
		    "contains a NUL character");
		return NULL;
	}
	switch (type) {
	case T_STR:
		if (in->type == YT_NULL || in->kind != Y_SCALAR) {
			findings_add(L->f, SEV_ERROR, path, in,
			    "expected a string, found %s", ynode_kind_name(in));
			return NULL;
		}
		break;
	case T_LABEL:
		if (!text_is_dns_label(s)) {
			findings_add(L->f, SEV_ERROR, path, in,
			    "'%s' is not a valid DNS label (1-63 lowercase letters, digits or '-', not starting or ending with '-')",
			    s);
			return NULL;
		}
		break;
	case T_HOST:
		if (strcmp(s, "@") != 0 && !text_is_dns_label(s)) {
			findings_add(L->f, SEV_ERROR, path, in,
			    "'%s' is not a valid DNS label (1-63 lowercase letters, digits or '-', not starting or ending with '-'); use '@' for the domain itself",
			    s);
			return NULL;
		}
		break;
	case T_DNSNAME:
		if (!text_is_dns_name(s) || strchr(s, '.') == NULL) {
			findings_add(L->f, SEV_ERROR, path, in,
			    "'%s' is not a valid DNS name (dot-separated lowercase labels)",
			    s);
			return NULL;
		}
		break;
	case T_EMAIL:
		if (!valid_email(s)) {
			findings_add(L->f, SEV_ERROR, path, in,
			    "'%s' is not an email address", s);
			return NULL;
		}
		break;
	case T_IPV4:
		if (ipv4_parse(s, &u32, &why) < 0) {
			findings_add(L->f, SEV_ERROR, path, in,
			    "'%s' is not an IPv4 address: %s", s, why);
			return NULL;
		}
		break;
	case T_CIDR:
		if (ipv4_parse_cidr(s, &u32, &u, &why) < 0) {
			findings_add(L->f, SEV_ERROR, path, in,
			    "'%s' is not an IPv4 network: %s", s, why);
			return NULL;
		}
		break;
	case T_RANGE:
		if (ipv4_parse_range(s, &r, &why) < 0) {
			findings_add(L->f, SEV_ERROR, path, in,
			    "'%s' is not an IPv4 range: %s", s, why);
			return NULL;
		}
		break;
	case T_SIZE:
		if (in->type != YT_STR && in->type != YT_INT) {
			findings_add(L->f, SEV_ERROR, path, in,
			    "expected a size such as 20Gi, found %s",
			    ynode_kind_name(in));
			return NULL;
		}
		if (site_parse_size(s, &u64) < 0) {
			findings_add(L->f, SEV_ERROR, path, in,
			    "'%s' is not a size (a number with Ki, Mi, Gi, Ti, k, M, G or T)",
			    s);
			return NULL;
		}
		break;
	case T_ENUM: {
		const char *const *c;
		const char *sugg;

		for (c = fd->choices; *c; c++)
			if (strcmp(*c, s) == 0)
				break;
		if (*c == NULL) {
			struct strbuf sb;

			strbuf_init(&sb, 1024);
			for (c = fd->choices; *c; c++)
				strbuf_addf(&sb, "%s%s", c == fd->choices ?
				    "" : ", ", *c);
			sugg = text_suggest(s, fd->choices);
			/* "nginx" for "ingress-nginx": a part of the word */
			for (c = fd->choices; sugg == NULL && *c; c++)
				if (strlen(s) >= 3 && strstr(*c, s))
					sugg = *c;
			if (sugg)
				findings_add(L->f, SEV_ERROR, path, in,
				    "'%s' is not one of: %s; did you mean '%s'?",
				    s, sb.buf, sugg);
			else
				findings_add(L->f, SEV_ERROR, path, in,
				    "'%s' is not one of: %s", s, sb.buf);
			strbuf_release(&sb);
			return NULL;
		}
		break;
	}
	case T_CRON:
		if (valid_cron(s) < 0) {
			findings_add(L->f, SEV_ERROR, path, in,
			    "'%s' is not a five-field cron schedule", s);
			return NULL;
		}
		break;
	case T_DURATION:
		if (site_parse_duration(s, &ll) < 0) {
			findings_add(L->f, SEV_ERROR, path, in,
			    "'%s' is not a duration (a number with h, d or w)", s);
			return NULL;
		}
		break;
	case T_URL:
		if (!valid_url(s, &why)) {
			findings_add(L->f, SEV_ERROR, path, in,
			    "'%s' is not a backup target: %s", s, why);
			return NULL;
		}
		break;
	case T_WEBURL:
		if (!valid_weburl(s, &why)) {
			findings_add(L->f, SEV_ERROR, path, in,
			    "'%s' is not a web URL: %s", s, why);
			return NULL;
		}
		break;
	case T_IMAGE:
		if (!valid_image(s, &why)) {
			findings_add(L->f, SEV_ERROR, path, in,
			    "image '%s' %s", s, why);
			return NULL;
		}
		break;
	default:
		break;
	}
	out = ynode_str(L->a, s);
	out->file = in->file;
	out->line = in->line;
	out->col = in->col;
	return out;
}

static struct ynode *validate(struct loader *L, const struct field *fd,
    const struct ynode *in, const char *path, const struct ynode *parent);

static struct ynode *
default_node(struct loader *L, const struct field *fd)
{
	struct ynode *n;

	if (strcmp(fd->def, "[]") == 0)
		return ynode_seq(L->a);
	n = ynode_str(L->a, fd->def);
	if (fd->type == T_INT)
		n->type = YT_INT;
	else if (fd->type == T_BOOL)
		n->type = YT_BOOL;
	return n;
}

/* Validates a mapping of fields; in may be NULL (absent: defaults only). */
static struct ynode *
validate_map(struct loader *L, const struct field *fields,
    const struct ynode *in, const char *path, const struct ynode *parent)
{
	struct ynode *out = ynode_map(L->a);
	const struct field *fd;
	size_t i, j, nf = 0;
	const char **names;
	char *typo;

	if (in && in->kind != Y_MAP) {
		findings_add(L->f, SEV_ERROR, path, in,
		    "expected a mapping, found %s", ynode_kind_name(in));
		return NULL;
	}
	for (fd = fields; fd->key; fd++)
		nf++;
	names = arena_array(L->a, nf + 1, sizeof(*names));
	typo = arena_alloc(L->a, nf + 1);
	for (i = 0; i < nf; i++)
		names[i] = fields[i].key;

	/* Unknown keys first, in file order. */
	for (i = 0; in && i < in->n; i++) {
		const struct ynode *k = in->v[2 * i];
		const char *sugg;

		for (fd = fields; fd->key; fd++)
			if (strcmp(fd->key, k->str) == 0)
				break;
		if (fd->key)
			continue;
		sugg = text_suggest(k->str, names);
		/* A misspelt key is not also reported as missing. */
		if (sugg)
			for (j = 0; j < nf; j++)
				if (names[j] == sugg)
					typo[j] = 1;
		if (sugg)
			findings_add(L->f, SEV_ERROR, join(L->a, path, k->str), k,
			    "unknown key '%s'; did you mean '%s'?", k->str, sugg);
		else
			findings_add(L->f, SEV_ERROR, join(L->a, path, k->str), k,
			    "unknown key '%s'", k->str);
	}
	for (fd = fields; fd->key; fd++) {
		const struct ynode *v = in ? ynode_get(in, fd->key) : NULL;
		const char *p = join(L->a, path, fd->key);
		struct ynode *nv;

		if (v == NULL || (v->kind == Y_SCALAR && v->type == YT_NULL &&
		    fd->type == T_MAP)) {
			if (fd->flags & F_REQUIRED && typo[fd - fields])
				continue;
			if (fd->flags & F_REQUIRED) {
				findings_add(L->f, SEV_ERROR, p, in ? in : parent,
				    "missing required key '%s'", fd->key);
				continue;
			}
			if (fd->type == T_MAP)
				nv = validate_map(L, fd->sub, NULL, p, in);
			else if (fd->def)
				nv = default_node(L, fd);
			else
				continue;
		} else {
			nv = validate(L, fd, v, p, in);
		}
		if (nv)
			ynode_map_set(L->a, out, fd->key, nv);
	}
	out->file = in ? in->file : NULL;
	out->line = in ? in->line : 0;
	out->col = in ? in->col : 0;
	return out;
}

static struct ynode *
validate(struct loader *L, const struct field *fd, const struct ynode *in,
    const char *path, const struct ynode *parent)
{
	struct ynode *out;
	size_t i;

	if (fd->type == T_MAP)
		return validate_map(L, fd->sub, in, path, parent);
	if (fd->type != T_LIST)
		return scalar(L, fd, fd->type, in, path);
	if (in->kind != Y_SEQ) {
		findings_add(L->f, SEV_ERROR, path, in,
		    "expected a list, found %s", ynode_kind_name(in));
		return NULL;
	}
	out = ynode_seq(L->a);
	out->file = in->file;
	out->line = in->line;
	out->col = in->col;
	for (i = 0; i < in->n; i++) {
		const char *p = arena_printf(L->a, "%s[%zu]", path, i);
		struct ynode *item;

		if (fd->sub)
			item = validate_map(L, fd->sub, in->v[i], p, in);
		else
			item = scalar(L, fd, fd->item, in->v[i], p);
		if (item)
			ynode_push(L->a, out, item);
	}
	return out;
}

static uint32_t
ip_of(const struct ynode *n)
{
	const char *why;
	uint32_t a = 0;

	if (n)
		ipv4_parse(n->str, &a, &why);
	return a;
}

/* Fills the typed fields from the normalised tree (after validation). */
static void
extract(struct site *s)
{
	const struct ynode *net = ynode_get(s->norm, "network");
	const struct ynode *nodes = ynode_get(s->norm, "nodes");
	const struct ynode *apps = ynode_get(s->norm, "apps");
	const struct ynode *res = ynode_get(net, "reserved");
	const char *why;
	size_t i;

	s->name = ynode_get_str(s->norm, "site");
	s->domain = ynode_get_str(s->norm, "domain");
	s->email = ynode_get_str(s->norm, "email");
	ipv4_parse_cidr(ynode_get_str(net, "subnet"), &s->subnet, &s->prefix,
	    &why);
	s->gateway = ip_of(ynode_get(net, "gateway"));
	s->public_ip = ip_of(ynode_get(net, "public-ip"));
	s->ingress_ip = ip_of(ynode_get(net, "ingress-ip"));
	ipv4_parse_range(ynode_get_str(net, "pool"), &s->pool, &why);
	s->nreserved = res ? res->n : 0;
	s->reserved = arena_array(&s->arena, s->nreserved + 1,
	    sizeof(*s->reserved));
	for (i = 0; i < s->nreserved; i++)
		s->reserved[i] = ip_of(res->v[i]);
	s->nnodes = nodes ? nodes->n : 0;
	s->nodes = arena_array(&s->arena, s->nnodes + 1, sizeof(*s->nodes));
	for (i = 0; i < s->nnodes; i++) {
		const struct ynode *n = nodes->v[i];
		struct site_node *sn = &s->nodes[i];
		const char *disk = ynode_get_str(n, "disk"), *err;

		sn->name = ynode_get_str(n, "name");
		sn->ip = ip_of(ynode_get(n, "ip"));
		sn->role = strcmp(ynode_get_str(n, "role"), "server") == 0 ?
		    ROLE_SERVER : ROLE_AGENT;
		sn->gpus = s7_strtonum(ynode_get_str(n, "gpus"), 0, 16, &err);
		if (disk)
			site_parse_size(disk, &sn->disk);
		sn->y = n;
		if (sn->gpus > 0)
			s->gpu_nodes++;
	}
	s->napps = apps ? apps->n : 0;
	s->apps = arena_array(&s->arena, s->napps + 1, sizeof(*s->apps));
	for (i = 0; i < s->napps; i++) {
		struct site_app *app = &s->apps[i];
		const struct ynode *y = apps->v[2 * i + 1];

		app->name = apps->v[2 * i]->str;
		app->y = y;
		app->enabled = ynode_truthy(ynode_get(y, "enabled"));
		app->host = ynode_get_str(y, "host");
		if (app->host)
			app->fqdn = strcmp(app->host, "@") == 0 ? s->domain :
			    arena_printf(&s->arena, "%s.%s", app->host,
			    s->domain);
	}
}

/* Defaults that depend on other keys. */
static void
computed_defaults(struct site *s)
{
	struct ynode *storage = ynode_get(s->norm, "storage");
	struct ynode *n8n = ynode_path(s->norm, "apps.n8n");
	const char *err;

	if (ynode_get(storage, "replicas") == NULL)
		ynode_map_set(&s->arena, storage, "replicas",
		    ynode_int(&s->arena, s->nnodes >= 2 ? 2 : 1));
	s->replicas = s7_strtonum(ynode_get_str(storage, "replicas"), 1, 3,
	    &err);
	if (n8n && strcmp(ynode_get_str(n8n, "gpu"), "auto") == 0)
		ynode_map_set(&s->arena, n8n, "gpu", ynode_str(&s->arena,
		    s->gpu_nodes > 0 ? "ollama" : "none"));
}

int
site_load(struct site *s, const char *file, const char *buf, size_t len,
    struct findings *f)
{
	struct loader L = { s, f, &s->arena };
	struct s7_error err;
	size_t before = f->errors;
	struct field top = { "", T_MAP, F_REQUIRED, NULL, NULL, 0, 0,
	    site_schema, 0, NULL };

	s->file = arena_strdup(&s->arena, file);
	s7_error_clear(&err);
	if (yaml_parse_one(&s->arena, s->file, buf, len, &s->root, &err) < 0) {
		struct ynode at = { 0 };

		at.file = s->file;
		at.line = err.line;
		at.col = err.col;
		findings_add(f, SEV_ERROR, "", &at, "%s", err.msg);
		return -1;
	}
	if (s->root->kind != Y_MAP) {
		findings_add(f, SEV_ERROR, "", s->root,
		    "a site is a mapping of keys, found %s",
		    ynode_kind_name(s->root));
		return -1;
	}
	s->norm = validate(&L, &top, s->root, "", NULL);
	if (f->errors > before || s->norm == NULL)
		return -1;
	extract(s);
	computed_defaults(s);
	return 0;
}

const struct site_app *
site_app(const struct site *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->napps; i++)
		if (strcmp(s->apps[i].name, name) == 0)
			return &s->apps[i];
	return NULL;
}

int
site_app_enabled(const struct site *s, const char *name)
{
	const struct site_app *a = site_app(s, name);

	return a && a->enabled;
}

const struct ynode *
site_get(const struct site *s, const char *path)
{
	return ynode_path(s->norm, path);
}

/* Like ynode_path, but understands "nodes[1].ip" list indexes. */
const struct ynode *
site_at(const struct site *s, const char *path)
{
	const struct ynode *n = s->root;
	char key[128];
	const char *p = path;

	while (n && *p) {
		size_t l = strcspn(p, ".[");

		if (l >= sizeof(key))
			return NULL;
		if (l > 0) {
			memcpy(key, p, l);
			key[l] = '\0';
			n = ynode_get(n, key);
			p += l;
		}
		if (*p == '[') {
			const char *e;
			char *end;
			unsigned long idx = strtoul(p + 1, &end, 10);

			e = end;
			if (*e != ']' || n == NULL || n->kind != Y_SEQ ||
			    idx >= n->n)
				return NULL;
			n = n->v[idx];
			p = e + 1;
		}
		if (*p == '.')
			p++;
	}
	return n;
}
