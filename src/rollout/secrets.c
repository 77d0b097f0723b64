/*
 * Values come from the OS random source (src/crypto).  Letters and
 * digits are drawn by rejection sampling, so every character is equally
 * likely.  Everything that held a value is wiped before it is freed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secrets.h"
#include "../crypto/crypto.h"
#include "../json/json.h"
#include "../kube/applyset.h"
#include "../util/base64.h"
#include "../util/xmalloc.h"
#include "../util/banned.h"

/* bcrypt's cost: 2^10 rounds, what n8n and NocoDB use for their own. */
#define BCRYPT_COST	10

/*
 * Letters, digits and "-_.", drawn until the value has an upper and a
 * lower case letter, a digit and a sign: the rules NocoDB puts on its
 * admin's password, and those of most applications that have rules.
 * Redrawing the whole value (rather than forcing a position) keeps every
 * value that satisfies them equally likely.  Those three signs need no
 * quoting in URLs, YAML or shells.
 */
static int
password(const struct secret_key *k, char *out, struct s7_error *err)
{
	static const char set[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
	unsigned char buf[256];
	size_t n = (size_t)k->n;

	for (;;) {
		size_t i = 0, j;
		int upper = 0, lower = 0, digit = 0, sign = 0;

		while (i < n) {
			if (crypto_random(buf, sizeof(buf), err) < 0)
				return -1;
			for (j = 0; j < sizeof(buf) && i < n; j++)
				if (buf[j] < 195)	/* 195 = 65 * 3 */
					out[i++] = set[buf[j] % 65];
		}
		out[n] = '\0';
		for (i = 0; i < n; i++) {
			const char *p = strchr(set, out[i]);

			upper |= p < set + 26;
			lower |= p >= set + 26 && p < set + 52;
			digit |= p >= set + 52 && p < set + 62;
			sign |= p >= set + 62;
		}
		if (upper && lower && digit && sign)
			break;
	}
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

int
secret_bcrypt(const char *pw, char *out, size_t size, struct s7_error *err)
{
	char h[BCRYPT_MAX];

	if (crypto_bcrypt(pw, BCRYPT_COST, h, err) < 0)
		return -1;
	if (strlen(h) >= size)
		return s7_error(err, "bcrypt: no room for the hash");
	memcpy(out, h, strlen(h) + 1);
	return 0;
}

int
secret_bcrypt_ok(const char *pw, const char *hash)
{
	return crypto_bcrypt_ok(pw, hash);
}

int
secret_generate(const struct secret_key *k, char *out, size_t size,
    struct s7_error *err)
{
	static const char alnum[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	static const char hex[] = "0123456789abcdef";
	unsigned char buf[512];
	size_t i = 0;

	if (k->gen == GEN_VALUE) {
		if (strlen(k->value) >= size)
			return s7_error(err, "value of '%s' too long", k->key);
		memcpy(out, k->value, strlen(k->value) + 1);
		return 0;
	}
	if (k->gen == GEN_BCRYPT)
		return s7_error(err, "'%s' is derived, not generated", k->key);
	if ((size_t)k->n >= size || k->n > (long)sizeof(buf))
		return s7_error(err, "'%s' is too long", k->key);
	if (k->gen == GEN_PASSWORD)
		return password(k, out, err);
	if (k->gen == GEN_BASE64) {
		struct strbuf sb;

		if (crypto_random(buf, (size_t)k->n, err) < 0)
			return -1;
		strbuf_init(&sb, size - 1);
		base64_encode(&sb, buf, (size_t)k->n);
		explicit_bzero(buf, sizeof(buf));
		if (sb.overflow) {
			strbuf_release_secret(&sb);
			return s7_error(err, "'%s' is too long", k->key);
		}
		memcpy(out, sb.buf, sb.len + 1);
		strbuf_release_secret(&sb);
		return 0;
	}
	while (i < (size_t)k->n) {
		size_t j;

		if (crypto_random(buf, sizeof(buf), err) < 0)
			return -1;
		for (j = 0; j < sizeof(buf) && i < (size_t)k->n; j++) {
			if (k->gen == GEN_HEX) {
				out[i++] = hex[buf[j] & 15];
			} else if (buf[j] < 248) {	/* 248 = 62 * 4 */
				out[i++] = alnum[buf[j] % 62];
			}
		}
	}
	out[i] = '\0';
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

/* "sha256 1a2b3c4d5e6f" of a value, for reports. */
static void
hash_of(const char *v, size_t len, char out[20])
{
	char sum[SHA256_HEXLEN];

	sha256_hex(v, len, sum);
	snprintf(out, 20, "%.12s", sum);
}

static const char *
path_of(struct kube_client *k, struct arena *a, const char *ns,
    const char *name)
{
	const struct kube_resource *r = kube_find(k, "v1", "Secret");

	return r ? kube_path(a, r, ns, name) : NULL;
}

static int
ensure_namespace(struct kube_client *k, struct arena *a, const char *ns,
    unsigned long *mutating, struct s7_error *err)
{
	const struct kube_resource *r = kube_find(k, "v1", "Namespace");
	struct ynode *live;
	long status = 0;
	char body[512];

	if (kube_call(k, "GET", kube_path(a, r, NULL, ns), NULL, NULL, 0, a,
	    &live, &status, "namespace", err) == 0)
		return 0;
	if (status != 404)
		return -1;
	snprintf(body, sizeof(body), "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
	    "\"metadata\":{\"name\":\"%s\"}}", ns);
	(*mutating)++;
	return kube_call(k, "PATCH", arena_printf(a, "%s?fieldManager=%s",
	    kube_path(a, r, NULL, ns), FIELD_MANAGER), "application/apply-patch+yaml",
	    body, strlen(body), a, NULL, NULL, "namespace", err);
}

/*
 * GETs a Secret: 0 with *live NULL when there is none, -1 on any other
 * failure.
 */
static int
get_secret(struct kube_client *k, struct arena *a, const char *ns,
    const char *name, struct ynode **live, struct s7_error *err)
{
	long status = 0;

	*live = NULL;
	if (kube_call(k, "GET", path_of(k, a, ns, name), NULL, NULL, 0, a, live,
	    &status, "secret", err) == 0)
		return 0;
	return status == 404 ? 0 : -1;
}

/* Whether every key of data src is in data dst with the same value. */
static int
same_data(const struct ynode *src, const struct ynode *dst)
{
	size_t i;

	for (i = 0; src && src->kind == Y_MAP && i < src->n; i++) {
		const struct ynode *v = ynode_get(dst, src->v[2 * i]->str);

		if (v == NULL || v->len != src->v[2 * i + 1]->len ||
		    memcmp(v->str, src->v[2 * i + 1]->str, v->len) != 0)
			return 0;
	}
	return 1;
}

/* The whole Secret sp in namespace ns, with its labels, holding data. */
static struct ynode *
secret_object(struct arena *a, const struct secret_spec *sp, const char *ns,
    const char *component, const char *id, struct ynode *data)
{
	struct ynode *obj = ynode_map(a), *meta = ynode_map(a),
	    *labels = ynode_map(a);

	ynode_map_set(a, obj, "apiVersion", ynode_str(a, "v1"));
	ynode_map_set(a, obj, "kind", ynode_str(a, "Secret"));
	ynode_map_set(a, meta, "name", ynode_str(a, sp->name));
	ynode_map_set(a, meta, "namespace", ynode_str(a, ns));
	ynode_map_set(a, labels, CREDENTIAL_LABEL, ynode_str(a, "true"));
	ynode_map_set(a, labels, "sector7.io/component", ynode_str(a, component));
	if (id)
		ynode_map_set(a, labels, APPLYSET_PART_OF, ynode_str(a, id));
	ynode_map_set(a, meta, "labels", labels);
	ynode_map_set(a, obj, "metadata", meta);
	ynode_map_set(a, obj, "type", ynode_str(a, sp->type ? sp->type :
	    "Opaque"));
	ynode_map_set(a, obj, "data", data);
	return obj;
}

/* What ensure does to a key. */
enum action { KEEP, CREATE, ADD, UPDATE };

/* Where ensure reports to. */
struct report {
	rollout_event_fn ev;
	void *arg;
	struct rollout_stats *st;
};

static void
say(const struct report *rep, enum rollout_ev type, const char *component,
    const char *ns, const char *name, const char *key, const char *from,
    const char *detail)
{
	struct rollout_event e;

	if (rep->ev == NULL)
		return;
	memset(&e, 0, sizeof(e));
	e.type = type;
	e.component = component;
	e.kind = "Secret";
	e.namespace = ns;
	e.name = name;
	e.key = key;
	e.from = from;
	e.detail = detail;
	rep->ev(rep->arg, &e);
}

/*
 * Builds {"data": {...}} (the whole Secret when creating) of the values
 * given (vals[i] NULL: key i is not sent), and reports each as act[i]
 * says.
 */
static int
build(struct arena *a, const struct secret_spec *sp, const char *component,
    const char *id, char *const *vals, const enum action *act, int create,
    struct strbuf *body, const struct report *rep, struct s7_error *err)
{
	static const enum rollout_ev ev[] = { RE_SECRET_UPDATED,
	    RE_SECRET_CREATED, RE_SECRET_ADDED, RE_SECRET_UPDATED };
	struct ynode *data = ynode_map(a), *obj;
	size_t i;
	int ret;

	for (i = 0; i < sp->nkeys; i++) {
		const struct secret_key *k = &sp->keys[i];
		struct strbuf b64;
		char h[20];

		if (vals[i] == NULL)
			continue;
		strbuf_init(&b64, 4096);
		base64_encode(&b64, vals[i], strlen(vals[i]));
		ynode_map_set(a, data, k->key, ynode_str(a, b64.buf));
		strbuf_release_secret(&b64);
		hash_of(vals[i], strlen(vals[i]), h);
		say(rep, ev[act[i]], component, sp->namespace, sp->name, k->key,
		    k->gen == GEN_BCRYPT ? sp->keys[k->from].key : NULL, h);
		if (act[i] == CREATE)
			rep->st->secrets_created++;
		else if (act[i] == ADD)
			rep->st->secrets_added++;
		else
			rep->st->secrets_updated++;
	}
	if (create)
		obj = secret_object(a, sp, sp->namespace, component, id, data);
	else {
		obj = ynode_map(a);
		ynode_map_set(a, obj, "data", data);
	}
	ret = json_emit(body, obj, 0, err);
	/* The tree held the values (base64): wipe them in the arena. */
	for (i = 0; i < data->n; i++)
		explicit_bzero((char *)data->v[2 * i + 1]->str,
		    data->v[2 * i + 1]->len);
	return ret;
}

/* Wipes the values of a Secret read from the API before its arena goes. */
static void
wipe_data(struct ynode *secret)
{
	struct ynode *d = ynode_get(secret, "data");
	size_t i;

	for (i = 0; d && d->kind == Y_MAP && i < d->n; i++)
		explicit_bzero((char *)d->v[2 * i + 1]->str, d->v[2 * i + 1]->len);
}

/*
 * The value of key in a Secret read from the API, decoded and
 * NUL-terminated (its length in *len unless len is NULL); NULL if absent.
 */
static char *
live_value(const struct ynode *live, const char *key, size_t *len)
{
	const struct ynode *d = ynode_get(ynode_get(live, "data"), key);
	struct strbuf v;

	if (d == NULL)
		return NULL;
	strbuf_init(&v, 64 * 1024);
	if (base64_decode(&v, d->str, d->len) < 0) {
		strbuf_release_secret(&v);
		return NULL;
	}
	return strbuf_detach(&v, len);
}

static void
free_value(char *v)
{
	if (v) {
		explicit_bzero(v, strlen(v));
		free(v);
	}
}

/*
 * Generates the keys a Secret lacks.  A derived key (a bcrypt hash) is
 * made again when it is missing or no longer the hash of its key's
 * present value; every other existing value is left as it is.
 */
static int
ensure_one(struct kube_client *k, const struct secret_spec *sp,
    const char *component, const char *id, const struct report *rep,
    struct s7_error *err)
{
	struct arena a;
	struct ynode *live = NULL;
	struct strbuf body;
	char **vals = xcalloc(sp->nkeys + 1, sizeof(*vals));
	enum action *act = xcalloc(sp->nkeys + 1, sizeof(*act));
	size_t i, nsend = 0;
	int ret = -1, create;

	arena_init(&a);
	strbuf_init(&body, STRBUF_SMALL);
	if (get_secret(k, &a, sp->namespace, sp->name, &live, err) < 0)
		goto done;
	create = live == NULL;
	for (i = 0; i < sp->nkeys; i++) {
		if (sp->keys[i].gen == GEN_BCRYPT)
			continue;
		if (ynode_get(ynode_get(live, "data"), sp->keys[i].key)) {
			rep->st->secrets_kept++;
			continue;
		}
		vals[i] = xcalloc(1, 1024);
		if (secret_generate(&sp->keys[i], vals[i], 1024, err) < 0)
			goto done;
		act[i] = create ? CREATE : ADD;
		nsend++;
	}
	for (i = 0; i < sp->nkeys; i++) {
		const struct secret_key *key = &sp->keys[i];
		char *src, *have;
		int ok;

		if (key->gen != GEN_BCRYPT)
			continue;
		src = vals[key->from] ? xstrdup(vals[key->from]) :
		    live_value(live, sp->keys[key->from].key, NULL);
		if (src == NULL) {
			s7_error_class(err, S7_ECLUSTER, "Secret %s/%s: '%s' is "
			    "not base64", sp->namespace, sp->name,
			    sp->keys[key->from].key);
			goto done;
		}
		have = live_value(live, key->key, NULL);
		ok = have && secret_bcrypt_ok(src, have);
		act[i] = have ? UPDATE : create ? CREATE : ADD;
		free_value(have);
		if (ok) {
			free_value(src);
			rep->st->secrets_kept++;
			continue;
		}
		vals[i] = xcalloc(1, 128);
		ok = secret_bcrypt(src, vals[i], 128, err) == 0;
		free_value(src);
		if (!ok)
			goto done;
		nsend++;
	}
	if (nsend == 0) {
		ret = 0;
		goto done;
	}
	if (create && ensure_namespace(k, &a, sp->namespace, &rep->st->mutating,
	    err) < 0)
		goto done;
	if (build(&a, sp, component, id, vals, act, create, &body, rep,
	    err) < 0)
		goto done;
	rep->st->mutating++;
	if (create)
		ret = kube_call(k, "POST", path_of(k, &a, sp->namespace, NULL),
		    "application/json", body.buf, body.len, &a, NULL, NULL,
		    arena_printf(&a, "Secret %s/%s", sp->namespace, sp->name), err);
	else
		/* Only what changed: existing values are never sent back. */
		ret = kube_call(k, "PATCH", path_of(k, &a, sp->namespace,
		    sp->name), "application/merge-patch+json", body.buf,
		    body.len, &a, NULL, NULL,
		    arena_printf(&a, "Secret %s/%s", sp->namespace, sp->name), err);
done:
	for (i = 0; i < sp->nkeys; i++)
		free_value(vals[i]);
	free(vals);
	free(act);
	wipe_data(live);
	strbuf_release_secret(&body);
	arena_release(&a);
	return ret;
}

/*
 * A copy of a secret in another namespace (a database password that both
 * PostgreSQL's namespace and the application's need): created from the
 * source, and brought back to the source's values if it differs.  The
 * source is the one that is never changed.
 */
static int
sync_copy(struct kube_client *k, const struct secret_spec *sp,
    const char *ns, const char *component, const char *id,
    const struct report *rep, struct s7_error *err)
{
	struct arena a;
	struct ynode *src = NULL, *dst = NULL;
	struct strbuf body;
	int ret = -1;

	arena_init(&a);
	strbuf_init(&body, STRBUF_SMALL);
	if (get_secret(k, &a, sp->namespace, sp->name, &src, err) < 0 ||
	    get_secret(k, &a, ns, sp->name, &dst, err) < 0)
		goto done;
	if (src == NULL) {
		s7_error_class(err, S7_ECLUSTER, "Secret %s/%s does not exist",
		    sp->namespace, sp->name);
		goto done;
	}
	if (dst && same_data(ynode_get(src, "data"), ynode_get(dst, "data"))) {
		ret = 0;
		goto done;
	}
	if (dst == NULL && ensure_namespace(k, &a, ns, &rep->st->mutating, err) < 0)
		goto done;
	if (json_emit(&body, secret_object(&a, sp, ns, component, id,
	    ynode_copy(&a, ynode_get(src, "data"))), 0, err) < 0)
		goto done;
	rep->st->mutating++;
	say(rep, dst ? RE_SECRET_SYNCED : RE_SECRET_COPIED, component, ns,
	    sp->name, NULL, arena_printf(&a, "%s/%s", sp->namespace, sp->name),
	    NULL);
	ret = kube_call(k, "PATCH", arena_printf(&a, "%s?fieldManager=%s&force=true",
	    path_of(k, &a, ns, sp->name), "sector7-secrets"),
	    "application/apply-patch+yaml", body.buf, body.len, &a, NULL, NULL,
	    arena_printf(&a, "Secret %s/%s", ns, sp->name), err);
done:
	wipe_data(src);
	wipe_data(dst);
	strbuf_release_secret(&body);
	arena_release(&a);
	return ret;
}

int
secrets_ensure(struct kube_client *k, struct rendered *r, size_t only,
    const char *id, rollout_event_fn ev, void *arg, struct rollout_stats *st,
    struct s7_error *err)
{
	struct report rep = { ev, arg, st };
	size_t i, j, l;

	if (kube_discover(k, 0, err) < 0)
		return -1;
	for (i = 0; i < r->ncomps; i++) {
		const struct rcomponent *rc = &r->comps[i];

		if (!rc->enabled || (only != (size_t)-1 && only != i))
			continue;
		for (j = 0; j < rc->nsecrets; j++) {
			const struct secret_spec *sp = rc->secrets[j];

			if (ensure_one(k, sp, rc->c->name, id, &rep, err) < 0)
				return -1;
			for (l = 0; l < sp->nalso; l++)
				if (sync_copy(k, sp, sp->also[l], rc->c->name, id,
				    &rep, err) < 0)
					return -1;
		}
	}
	return 0;
}

int
secrets_list(struct kube_client *k, struct rendered *r, secret_entry_fn fn,
    void *arg, struct s7_error *err)
{
	struct arena a;
	size_t i, j, l;
	int ret = -1;

	arena_init(&a);
	if (kube_discover(k, 0, err) < 0)
		goto done;
	for (i = 0; i < r->ncomps; i++) {
		const struct rcomponent *rc = &r->comps[i];

		if (!rc->enabled)
			continue;
		for (j = 0; j < rc->nsecrets; j++) {
			const struct secret_spec *sp = rc->secrets[j];
			struct secret_entry se;
			struct ynode *live;

			if (get_secret(k, &a, sp->namespace, sp->name, &live,
			    err) < 0)
				goto done;
			for (l = 0; l < sp->nkeys; l++) {
				size_t n;
				char *v = live_value(live, sp->keys[l].key, &n);

				memset(&se, 0, sizeof(se));
				se.component = rc->c->name;
				se.namespace = sp->namespace;
				se.name = sp->name;
				se.key = sp->keys[l].key;
				se.present = v != NULL;
				if (v) {
					hash_of(v, n, se.hash);
					explicit_bzero(v, n);
					free(v);
				}
				fn(arg, &se);
			}
			for (l = 0; l < sp->nalso; l++) {
				struct ynode *copy;

				if (get_secret(k, &a, sp->also[l], sp->name, &copy,
				    err) < 0) {
					wipe_data(live);
					goto done;
				}
				memset(&se, 0, sizeof(se));
				se.component = rc->c->name;
				se.namespace = sp->also[l];
				se.name = sp->name;
				se.of = arena_printf(&a, "%s/%s", sp->namespace,
				    sp->name);
				se.present = copy != NULL;
				se.in_sync = copy && ynode_get(live, "data") &&
				    same_data(ynode_get(live, "data"),
				    ynode_get(copy, "data"));
				fn(arg, &se);
				wipe_data(copy);
			}
			wipe_data(live);
		}
	}
	ret = 0;
done:
	arena_release(&a);
	return ret;
}

int
secrets_value(struct kube_client *k, struct rendered *r, const char *ref,
    const char *key, char **value, size_t *len, struct s7_error *err)
{
	const struct secret_spec *found = NULL;
	const char *slash = strchr(ref, '/');
	struct arena a;
	struct ynode *live = NULL;
	const struct ynode *d;
	struct strbuf v;
	size_t i, j;
	int ret = -1;

	*value = NULL;
	arena_init(&a);
	for (i = 0; i < r->ncomps && !found; i++)
		for (j = 0; j < r->comps[i].c->nsecrets && !found; j++) {
			const struct secret_spec *sp = &r->comps[i].c->secrets[j];

			if (slash && strlen(sp->namespace) == (size_t)(slash - ref) &&
			    strncmp(sp->namespace, ref, (size_t)(slash - ref)) == 0 &&
			    strcmp(sp->name, slash + 1) == 0)
				found = sp;
		}
	if (found == NULL) {
		s7_error_class(err, S7_EUSAGE,
		    "'%s' is not a secret sector7 manages (see 'sector7 secrets list')",
		    ref);
		goto done;
	}
	if (key == NULL) {
		if (found->nkeys != 1) {
			s7_error_class(err, S7_EUSAGE,
			    "%s has %zu keys: name one", ref, found->nkeys);
			goto done;
		}
		key = found->keys[0].key;
	}
	if (kube_discover(k, 0, err) < 0 ||
	    kube_call(k, "GET", path_of(k, &a, found->namespace, found->name),
	    NULL, NULL, 0, &a, &live, NULL, ref, err) < 0)
		goto done;
	d = ynode_get(ynode_get(live, "data"), key);
	if (d == NULL) {
		s7_error_class(err, S7_ECLUSTER, "%s has no key '%s'", ref, key);
		goto done;
	}
	strbuf_init(&v, 64 * 1024);
	if (base64_decode(&v, d->str, d->len) < 0) {
		strbuf_release_secret(&v);
		s7_error_class(err, S7_ECLUSTER, "%s %s is not base64", ref, key);
		goto done;
	}
	*value = strbuf_detach(&v, len);
	ret = 0;
done:
	wipe_data(live);
	arena_release(&a);
	return ret;
}
