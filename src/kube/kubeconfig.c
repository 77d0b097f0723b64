/*
 * Reading kubeconfig: parse each file with the YAML loader (so every error
 * has a position), merge by name, resolve the context, then load the
 * credentials it names.  The exec plugin protocol is the one kubectl
 * speaks (client.authentication.k8s.io/v1, ExecCredential on stdout).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kubeconfig.h"
#include "../json/json.h"
#include "../util/base64.h"
#include "../util/fs.h"
#include "../util/text.h"
#include "../util/xmalloc.h"
#include "../yaml/yaml.h"
#include "../http/http.h"
#include "../util/banned.h"

#define KUBECONFIG_MAX ((size_t)4 * 1024 * 1024)
#define EXEC_OUTPUT_MAX ((size_t)1024 * 1024)
#define EXEC_TIMEOUT_MS 30000
#define EXEC_API "client.authentication.k8s.io/v1"

extern char **environ;

/* A named entry and the file that defined it. */
struct entry {
	const char *name;
	const struct ynode *body;	/* the "cluster"/"user"/"context" map */
	const char *file;
};

/* Entries by name, hashed: a kubeconfig may hold thousands. */
struct entries {
	struct entry *v;
	size_t n, alloc;
	size_t *slot;		/* index + 1; 0: empty */
	size_t nslots;
};

struct merged {
	struct entries clusters, users, contexts;
	const char *current;
	const char *current_file;
	char files[1024];		/* for messages */
};

static size_t
name_hash(const char *s)
{
	size_t h = 5381;

	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

static const struct entry *
find(const struct entries *es, const char *name)
{
	size_t i, mask;

	if (es->nslots == 0)
		return NULL;
	mask = es->nslots - 1;
	for (i = name_hash(name) & mask; es->slot[i]; i = (i + 1) & mask)
		if (strcmp(es->v[es->slot[i] - 1].name, name) == 0)
			return &es->v[es->slot[i] - 1];
	return NULL;
}

static void
entries_put(struct entries *es, const char *name, const struct ynode *body,
    const char *file)
{
	size_t i, mask;

	if (2 * (es->n + 1) > es->nslots) {
		free(es->slot);
		es->nslots = es->nslots ? 2 * es->nslots : 16;
		es->slot = xcalloc(es->nslots, sizeof(*es->slot));
		mask = es->nslots - 1;
		for (i = 0; i < es->n; i++) {
			size_t j = name_hash(es->v[i].name) & mask;

			while (es->slot[j])
				j = (j + 1) & mask;
			es->slot[j] = i + 1;
		}
	}
	ALLOC_GROW(es->v, es->n + 1, es->alloc);
	es->v[es->n].name = name;
	es->v[es->n].body = body;
	es->v[es->n].file = file;
	mask = es->nslots - 1;
	for (i = name_hash(name) & mask; es->slot[i]; i = (i + 1) & mask)
		;
	es->slot[i] = ++es->n;
}

static void
merged_release(struct merged *m)
{
	free(m->clusters.v);
	free(m->clusters.slot);
	free(m->users.v);
	free(m->users.slot);
	free(m->contexts.v);
	free(m->contexts.slot);
}

void
kubeconfig_init(struct kubeconfig *kc)
{
	memset(kc, 0, sizeof(*kc));
	arena_init(&kc->arena);
	kc->exec_timeout_ms = EXEC_TIMEOUT_MS;
}

void
kubeconfig_release(struct kubeconfig *kc)
{
	size_t i;

	if (kc->key)
		xfree_secret(kc->key, kc->key_len);
	if (kc->token)
		xfree_secret(kc->token, strlen(kc->token));
	/* Inline tokens and keys are in the trees read. */
	for (i = 0; i < kc->nroots; i++)
		ynode_wipe(kc->roots[i]);
	free(kc->roots);
	arena_release(&kc->arena);
	memset(kc, 0, sizeof(*kc));
}

static int
at_error(struct s7_error *err, const struct ynode *at, const char *file,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
at_error(struct s7_error *err, const struct ynode *at, const char *file,
    const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s7_error_at(err, at && at->file ? at->file : file, at ? at->line : 0,
	    at ? at->col : 0, "%s", msg);
	err->class = S7_ECLUSTER;
	return -1;
}

static int
add_entries(const struct ynode *root, const char *file, const char *list,
    const char *inner, struct entries *es, struct s7_error *err)
{
	const struct ynode *seq = ynode_get(root, list);
	size_t i;

	if (seq == NULL || (seq->kind == Y_SCALAR && seq->type == YT_NULL))
		return 0;
	if (seq->kind != Y_SEQ)
		return at_error(err, seq, file, "%s: expected a list", list);
	for (i = 0; i < seq->n; i++) {
		const struct ynode *it = seq->v[i];
		const char *name = ynode_get_string(it, "name");
		const struct ynode *body = ynode_get(it, inner);
		char shown[200];

		if (it->kind != Y_MAP || name == NULL || *name == '\0')
			return at_error(err, it, file, "%s[%zu]: needs a name",
			    list, i);
		if (body == NULL || body->kind != Y_MAP)
			return at_error(err, it, file, "%s[%s]: no '%s' mapping",
			    list, text_clean(shown, sizeof(shown), name), inner);
		if (find(es, name))
			continue;	/* the first file to define a name wins */
		entries_put(es, name, body, file);
	}
	return 0;
}

/* Merges one kubeconfig's text (name: for messages and positions). */
static int
load_text(struct kubeconfig *kc, struct merged *m, const char *file,
    const char *buf, size_t len, struct s7_error *err)
{
	struct ynode *root;

	if (len == 0)
		return 0;
	if (yaml_parse_one(&kc->arena, file, buf, len, &root, err) < 0) {
		err->class = S7_ECLUSTER;
		return -1;
	}
	ALLOC_GROW(kc->roots, kc->nroots + 1, kc->aroots);
	kc->roots[kc->nroots++] = root;
	if (root->kind == Y_SCALAR && root->type == YT_NULL)
		return 0;
	if (root->kind != Y_MAP)
		return at_error(err, root, file, "a kubeconfig is a mapping");
	if (add_entries(root, file, "clusters", "cluster", &m->clusters,
	    err) < 0 ||
	    add_entries(root, file, "users", "user", &m->users, err) < 0 ||
	    add_entries(root, file, "contexts", "context", &m->contexts,
	    err) < 0)
		return -1;
	if (m->current == NULL) {
		const struct ynode *cur = ynode_get(root, "current-context");

		if (cur && !(cur->kind == Y_SCALAR && (cur->type == YT_STR ||
		    cur->type == YT_NULL)))
			return at_error(err, cur, file,
			    "current-context: expected a context's name");
		if (cur && cur->type == YT_STR && *cur->str) {
			m->current = cur->str;
			m->current_file = file;
		}
	}
	return 0;
}

static int
load_file(struct kubeconfig *kc, struct merged *m, const char *path,
    int required, struct s7_error *err)
{
	struct strbuf sb;
	const char *file = arena_strdup(&kc->arena, path);
	size_t used = strlen(m->files);
	int r;

	if (!fs_exists(path)) {
		if (required)
			return s7_error_class(err, S7_ECLUSTER,
			    "kubeconfig '%s' does not exist", path);
		return 0;
	}
	snprintf(m->files + used, sizeof(m->files) - used, "%s%s",
	    used ? ", " : "", path);
	strbuf_init(&sb, KUBECONFIG_MAX);
	if (fs_read(path, &sb, err) < 0) {
		strbuf_release_secret(&sb);
		err->class = S7_ECLUSTER;
		return -1;
	}
	r = load_text(kc, m, file, sb.buf, sb.len, err);
	strbuf_release_secret(&sb);
	return r;
}

/* A path from a kubeconfig is relative to that kubeconfig's directory. */
static const char *
resolve_path(struct kubeconfig *kc, const char *file, const char *p)
{
	const char *slash = strrchr(file, '/');

	if (p[0] == '/' || slash == NULL)
		return p;
	return arena_printf(&kc->arena, "%.*s/%s", (int)(slash - file), file, p);
}

/*
 * Reads key (a file path) or key-data (base64) of map into out.  Returns 0
 * when neither is set (*out stays NULL), 1 when loaded, -1 on error.
 */
static int
material(struct kubeconfig *kc, const struct entry *e, const char *what,
    const char *key, char **out, size_t *len, int secret,
    struct s7_error *err)
{
	char data_key[64];
	const struct ynode *d, *f;
	struct strbuf sb;

	snprintf(data_key, sizeof(data_key), "%s-data", key);
	d = ynode_get(e->body, data_key);
	f = ynode_get(e->body, key);
	*out = NULL;
	*len = 0;
	strbuf_init(&sb, KUBECONFIG_MAX);
	if (d && d->kind == Y_SCALAR && d->len) {
		/* Room for all of it at once: no copy left behind by a grow. */
		if (d->len < KUBECONFIG_MAX) {
			strbuf_addchars(&sb, 0, d->len);
			strbuf_setlen(&sb, 0);
		}
		if (base64_decode(&sb, d->str, d->len) < 0) {
			strbuf_release_secret(&sb);
			return at_error(err, d, e->file,
			    "%s[%s].%s: not valid base64", what, e->name,
			    data_key);
		}
	} else if (f && f->kind == Y_SCALAR && f->len) {
		const char *path = resolve_path(kc, e->file, f->str);

		if (fs_read(path, &sb, err) < 0) {
			char msg[sizeof(err->msg)];

			memcpy(msg, err->msg, sizeof(msg));
			strbuf_release_secret(&sb);
			return at_error(err, f, e->file, "%s[%s].%s: %s", what,
			    e->name, key, msg);
		}
	} else {
		strbuf_release(&sb);
		return 0;
	}
	*len = sb.len;
	if (secret) {
		*out = strbuf_detach(&sb, NULL);
	} else {
		*out = arena_strndup(&kc->arena, sb.buf, sb.len);
		strbuf_release(&sb);
	}
	return 1;
}

/*
 * A boolean key: absent or null is false; otherwise a YAML boolean, not
 * a string ("false" in quotes is not false to kubectl either).
 */
static int
read_bool(const struct ynode *map, const char *key, const char *file,
    int *v, struct s7_error *err)
{
	const struct ynode *n = ynode_get(map, key);
	char shown[120];

	*v = 0;
	if (n == NULL || (n->kind == Y_SCALAR && n->type == YT_NULL))
		return 0;
	if (ynode_boolean(n, v) < 0)
		return at_error(err, n, file,
		    "%s: expected true or false, found %s%s%s%s", key,
		    ynode_kind_name(n), n->kind == Y_SCALAR ? " '" : "",
		    n->kind == Y_SCALAR ? text_escape_buf(shown, sizeof(shown),
		    n->str, n->len, 60) : "", n->kind == Y_SCALAR ? "'" : "");
	return 0;
}

static int
check_bool(const struct ynode *map, const char *key, const char *file,
    struct s7_error *err)
{
	int v;

	return read_bool(map, key, file, &v, err);
}

/*
 * A token goes into an HTTP header: a control character (a line break
 * most of all) would end the header and start another.  The message
 * names where the token came from, never the token.
 */
static int
token_ok(const char *tok, size_t len, const char *from, struct s7_error *err)
{
	if (len == 0)
		return s7_error_class(err, S7_ECLUSTER, "%s: the token is empty",
		    from);
	if (strlen(tok) != len || text_has_control(tok, len))
		return s7_error_class(err, S7_ECLUSTER,
		    "%s: the token contains a line break or another control character; refusing to send it",
		    from);
	return 0;
}

static int
load_exec(struct kubeconfig *kc, const struct entry *u, const struct ynode *ex,
    struct s7_error *err)
{
	const struct ynode *args = ynode_get(ex, "args");
	const struct ynode *env = ynode_get(ex, "env");
	struct kube_exec *x = &kc->exec;
	size_t i;

	char shown[200];

	x->command = ynode_get_string(ex, "command");
	x->api_version = ynode_get_string(ex, "apiVersion");
	x->file = u->file;
	if (x->command == NULL || *x->command == '\0' ||
	    strlen(x->command) != ynode_get(ex, "command")->len)
		return at_error(err, ynode_get(ex, "command") ?
		    ynode_get(ex, "command") : ex, u->file,
		    "users[%s].user.exec.command: expected the plugin's name or path",
		    u->name);
	if (x->api_version == NULL || strcmp(x->api_version, EXEC_API) != 0)
		return at_error(err, ynode_get(ex, "apiVersion") ?
		    ynode_get(ex, "apiVersion") : ex, u->file,
		    "users[%s].user.exec.apiVersion: '%s' is not supported (" EXEC_API " is)",
		    u->name, text_clean(shown, sizeof(shown), x->api_version));
	if (check_bool(ex, "provideClusterInfo", u->file, err) < 0)
		return -1;
	if (strchr(x->command, '/'))
		x->command = resolve_path(kc, u->file, x->command);
	if (args && !(args->kind == Y_SEQ ||
	    (args->kind == Y_SCALAR && args->type == YT_NULL)))
		return at_error(err, args, u->file,
		    "users[%s].user.exec.args: expected a list of strings",
		    u->name);
	if (args && args->kind == Y_SEQ) {
		x->args = arena_array(&kc->arena, args->n + 1, sizeof(*x->args));
		for (i = 0; i < args->n; i++) {
			const struct ynode *a = args->v[i];

			if (a->kind != Y_SCALAR || a->type == YT_NULL ||
			    strlen(a->str) != a->len)
				return at_error(err, a, u->file,
				    "users[%s].user.exec.args[%zu]: expected a string",
				    u->name, i);
			x->args[i] = a->str;
		}
		x->nargs = args->n;
	}
	if (env && !(env->kind == Y_SEQ ||
	    (env->kind == Y_SCALAR && env->type == YT_NULL)))
		return at_error(err, env, u->file,
		    "users[%s].user.exec.env: expected a list of name and value",
		    u->name);
	if (env && env->kind == Y_SEQ) {
		x->env = arena_array(&kc->arena, env->n + 1, sizeof(*x->env));
		for (i = 0; i < env->n; i++) {
			const char *n = ynode_get_string(env->v[i], "name");
			const struct ynode *vn = ynode_get(env->v[i], "value");
			const char *v = vn && vn->kind == Y_SCALAR &&
			    vn->type != YT_NULL ? vn->str : NULL;

			if (n == NULL || v == NULL || *n == '\0' ||
			    strchr(n, '=') || strlen(n) != ynode_get(env->v[i],
			    "name")->len || strlen(v) != vn->len)
				return at_error(err, env->v[i], u->file,
				    "users[%s].user.exec.env[%zu]: needs a name and a value (strings)",
				    u->name, i);
			x->env[i] = arena_printf(&kc->arena, "%s=%s", n, v);
		}
		x->nenv = env->n;
	}
	kc->has_exec = 1;
	return 0;
}

static int
load_cluster(struct kubeconfig *kc, const struct entry *c,
    struct s7_error *err)
{
	const struct ynode *v;
	char *ca;
	size_t ca_len;
	int r;

	char shown[200];
	size_t i;

	kc->server = ynode_get_string(c->body, "server");
	if (kc->server == NULL || *kc->server == '\0')
		return at_error(err, ynode_get(c->body, "server") ?
		    ynode_get(c->body, "server") : c->body, c->file,
		    "clusters[%s].cluster.server: not set (expected an https:// URL)",
		    c->name);
	if (strncmp(kc->server, "https://", 8) != 0 &&
	    strncmp(kc->server, "http://", 7) != 0)
		return at_error(err, ynode_get(c->body, "server"), c->file,
		    "clusters[%s].cluster.server: '%s' is not an http(s) URL",
		    c->name, text_clean(shown, sizeof(shown), kc->server));
	for (i = 0; kc->server[i]; i++)
		if ((unsigned char)kc->server[i] <= 0x20 || kc->server[i] == 0x7f)
			return at_error(err, ynode_get(c->body, "server"), c->file,
			    "clusters[%s].cluster.server: the URL contains a space or a control character",
			    c->name);
	if (strlen(kc->server) != ynode_get(c->body, "server")->len)
		return at_error(err, ynode_get(c->body, "server"), c->file,
		    "clusters[%s].cluster.server: the URL contains a NUL character",
		    c->name);
	if (ynode_get(c->body, "tls-server-name") ||
	    ynode_get(c->body, "proxy-url"))
		return at_error(err, ynode_get(c->body, "tls-server-name") ?
		    ynode_get(c->body, "tls-server-name") :
		    ynode_get(c->body, "proxy-url"), c->file,
		    "clusters[%s].cluster: tls-server-name and proxy-url are not supported",
		    c->name);
	v = c->body;
	if (read_bool(v, "insecure-skip-tls-verify", c->file, &kc->insecure,
	    err) < 0 || check_bool(v, "disable-compression", c->file, err) < 0) {
		s7_error_prefix(err, "clusters[%s].cluster", c->name);
		return -1;
	}
	r = material(kc, c, "clusters", "certificate-authority", &ca, &ca_len,
	    0, err);
	if (r < 0)
		return -1;
	kc->tls.ca = ca;
	kc->tls.ca_len = ca_len;
	kc->tls.insecure = kc->insecure;
	return 0;
}

static int
load_user(struct kubeconfig *kc, const struct entry *u, struct s7_error *err)
{
	const struct ynode *ex = ynode_get(u->body, "exec");
	const struct ynode *tok = ynode_get(u->body, "token");
	const struct ynode *tf = ynode_get(u->body, "tokenFile");
	char *cert;
	size_t cert_len;

	if (ynode_get(u->body, "username") || ynode_get(u->body, "password") ||
	    ynode_get(u->body, "auth-provider"))
		return at_error(err, u->body, u->file,
		    "users[%s].user: basic auth and auth-provider are not supported; use a token, a client certificate or an exec plugin",
		    u->name);
	if (material(kc, u, "users", "client-certificate", &cert, &cert_len, 0,
	    err) < 0 ||
	    material(kc, u, "users", "client-key", &kc->key, &kc->key_len, 1,
	    err) < 0)
		return -1;
	if ((cert == NULL) != (kc->key == NULL))
		return at_error(err, u->body, u->file,
		    "users[%s].user: a client certificate needs its key and the other way round",
		    u->name);
	kc->tls.cert = cert;
	kc->tls.cert_len = cert_len;
	kc->tls.key = kc->key;
	kc->tls.key_len = kc->key_len;
	if (tok && !(tok->kind == Y_SCALAR && (tok->type == YT_STR ||
	    tok->type == YT_NULL)))
		return at_error(err, tok, u->file,
		    "users[%s].user.token: expected a string, found %s", u->name,
		    ynode_kind_name(tok));
	if (tf && !(tf->kind == Y_SCALAR && (tf->type == YT_STR ||
	    tf->type == YT_NULL)))
		return at_error(err, tf, u->file,
		    "users[%s].user.tokenFile: expected a path, found %s", u->name,
		    ynode_kind_name(tf));
	if (tok && tok->type == YT_STR && tok->len) {
		if (strlen(tok->str) != tok->len ||
		    text_has_control(tok->str, tok->len))
			return at_error(err, tok, u->file,
			    "users[%s].user.token: the token contains a line break or another control character; refusing to send it",
			    u->name);
		kc->token = xstrdup(tok->str);
	} else if (tf && tf->type == YT_STR && tf->len) {
		kc->token_file = resolve_path(kc, u->file, tf->str);
	}
	if (ex && ex->kind == Y_MAP && load_exec(kc, u, ex, err) < 0)
		return -1;
	return 0;
}

static int resolve(struct kubeconfig *kc, struct merged *mp,
    const char *context, struct s7_error *err);

int
kubeconfig_load(struct kubeconfig *kc, const char *path, const char *context,
    struct s7_error *err)
{
	struct merged m;
	int ret = -1;

	memset(&m, 0, sizeof(m));
	if (path) {
		if (load_file(kc, &m, path, 1, err) < 0)
			goto done;
	} else if (getenv("KUBECONFIG") && *getenv("KUBECONFIG")) {
		char *list = xstrdup(getenv("KUBECONFIG")), *p = list, *colon;

		for (;;) {
			colon = strchr(p, ':');
			if (colon)
				*colon = '\0';
			if (*p && load_file(kc, &m, p, 0, err) < 0) {
				free(list);
				goto done;
			}
			if (colon == NULL)
				break;
			p = colon + 1;
		}
		free(list);
	} else {
		const char *home = getenv("HOME");
		char *def = xasprintf("%s/.kube/config", home ? home : "");

		ret = load_file(kc, &m, def, 0, err);
		free(def);
		if (ret < 0)
			goto done;
		ret = -1;
	}
	if (m.files[0] == '\0') {
		s7_error_class(err, S7_ECLUSTER,
		    "no kubeconfig found (set KUBECONFIG or pass --kubeconfig)");
		goto done;
	}
	ret = resolve(kc, &m, context, err);
done:
	merged_release(&m);
	return ret;
}

int
kubeconfig_load_text(struct kubeconfig *kc, const char *name,
    const char *buf, size_t len, const char *context, struct s7_error *err)
{
	struct merged m;
	int ret;

	memset(&m, 0, sizeof(m));
	snprintf(m.files, sizeof(m.files), "%s", name);
	ret = load_text(kc, &m, arena_strdup(&kc->arena, name), buf, len, err);
	if (ret == 0)
		ret = resolve(kc, &m, context, err);
	merged_release(&m);
	return ret;
}

/* The context (--context or the current one), its cluster and user. */
static int
resolve(struct kubeconfig *kc, struct merged *mp, const char *context,
    struct s7_error *err)
{
	struct merged m = *mp;
	const struct entry *ctx, *cl, *us;
	const char *name, *cname, *uname;
	int ret = -1;

	name = context ? context : m.current;
	if (name == NULL) {
		s7_error_class(err, S7_ECLUSTER,
		    "no current-context in %s; pass --context", m.files);
		goto done;
	}
	ctx = find(&m.contexts, name);
	if (ctx == NULL) {
		struct strbuf sb;
		size_t i;

		strbuf_init(&sb, 4096);
		for (i = 0; i < m.contexts.n && i < 50; i++)
			strbuf_addf(&sb, "%s%s", i ? ", " : "", m.contexts.v[i].name);
		if (m.contexts.n > 50)
			strbuf_addf(&sb, " and %zu more", m.contexts.n - 50);
		s7_error_class(err, S7_ECLUSTER,
		    "context '%s' is not in %s (contexts: %s)", name, m.files,
		    sb.len ? sb.buf : "none");
		strbuf_release(&sb);
		goto done;
	}
	cname = ynode_get_string(ctx->body, "cluster");
	uname = ynode_get_string(ctx->body, "user");
	if (cname == NULL || (cl = find(&m.clusters, cname)) == NULL) {
		at_error(err, ynode_get(ctx->body, "cluster") ?
		    ynode_get(ctx->body, "cluster") : ctx->body, ctx->file,
		    "contexts[%s].context.cluster: cluster '%s' is not defined",
		    name, cname ? cname : "");
		goto done;
	}
	if (uname == NULL || (us = find(&m.users, uname)) == NULL) {
		at_error(err, ynode_get(ctx->body, "user") ?
		    ynode_get(ctx->body, "user") : ctx->body, ctx->file,
		    "contexts[%s].context.user: user '%s' is not defined", name,
		    uname ? uname : "");
		goto done;
	}
	kc->context = name;
	kc->cluster = cname;
	kc->user = uname;
	kc->file = ctx->file;
	kc->ns = ynode_get_string(ctx->body, "namespace");
	if (kc->ns == NULL || *kc->ns == '\0')
		kc->ns = "default";
	if (load_cluster(kc, cl, err) < 0 || load_user(kc, us, err) < 0)
		goto done;
	ret = 0;
done:
	return ret;
}

/* Kills the plugin's process group and reaps the plugin. */
static void
kill_plugin(pid_t pid)
{
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/*
 * Runs the exec plugin in a process group of its own and collects what
 * it prints, at most EXEC_OUTPUT_MAX bytes and for at most the plugin's
 * time limit: past either, the group is killed.  When the plugin has
 * exited, what is left in the pipe is read without waiting (a child it
 * left behind may hold the pipe open).
 */
static int
collect(struct kubeconfig *kc, pid_t pid, int fd, struct strbuf *out,
    int *wstatus, struct s7_error *err)
{
	struct kube_exec *x = &kc->exec;
	long long start = http_now_ms(), until = start + kc->exec_timeout_ms;
	char buf[4096];
	int exited = 0;

	if (kc->deadline_ms && kc->deadline_ms < until)
		until = kc->deadline_ms;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		long long now = http_now_ms();
		ssize_t got;
		int r;

		if (!exited && now >= until) {
			kill_plugin(pid);
			return s7_error_class(err, S7_ECLUSTER,
			    "%s: users[%s].user.exec: '%s' did not finish within %llds; killed it",
			    x->file, kc->user, x->command,
			    (until - start + 999) / 1000);
		}
		r = poll(&p, 1, exited ? 0 : (int)(until - now < 100 ?
		    until - now : 100));
		if (r < 0 && errno != EINTR) {
			kill_plugin(pid);
			return s7_error_class(err, S7_ECLUSTER, "poll: %s",
			    strerror(errno));
		}
		if (r > 0) {
			got = read(fd, buf, sizeof(buf));
			if (got == 0)
				break;
			if (got < 0 && errno != EAGAIN && errno != EINTR) {
				kill_plugin(pid);
				return s7_error_class(err, S7_ECLUSTER,
				    "%s: users[%s].user.exec: reading '%s': %s",
				    x->file, kc->user, x->command,
				    strerror(errno));
			}
			if (got > 0 && strbuf_add(out, buf, (size_t)got) < 0) {
				explicit_bzero(buf, sizeof(buf));
				kill_plugin(pid);
				return s7_error_class(err, S7_ECLUSTER,
				    "%s: users[%s].user.exec: '%s' printed more than %zu KiB; killed it",
				    x->file, kc->user, x->command,
				    EXEC_OUTPUT_MAX / 1024);
			}
			continue;
		}
		if (exited)
			break;		/* nothing more without waiting */
		r = waitpid(pid, wstatus, WNOHANG);
		if (r == pid)
			exited = 1;
	}
	explicit_bzero(buf, sizeof(buf));
	if (!exited)
		while (waitpid(pid, wstatus, 0) < 0 && errno == EINTR)
			;
	return 0;
}

/* Runs the exec plugin; its ExecCredential gives a token or a cert. */
static int
run_exec(struct kubeconfig *kc, struct s7_error *err)
{
	struct kube_exec *x = &kc->exec;
	char **argv = NULL, **envp = NULL;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t sa;
	struct strbuf out;
	struct arena a;
	struct ynode *cred = NULL;
	const struct ynode *status;
	const char *kind, *api, *token, *c, *k;
	size_t i, n = 0;
	int pipefd[2] = { -1, -1 }, wstatus = 0, ret = -1, e;
	pid_t pid;
	char from[600];

	strbuf_init(&out, EXEC_OUTPUT_MAX);
	/* All the room at once: a grow would leave a copy behind. */
	strbuf_addchars(&out, 0, EXEC_OUTPUT_MAX);
	strbuf_setlen(&out, 0);
	arena_init(&a);
	argv = xcalloc(x->nargs + 2, sizeof(*argv));
	argv[0] = (char *)x->command;
	for (i = 0; i < x->nargs; i++)
		argv[i + 1] = (char *)x->args[i];
	for (n = 0; environ[n]; n++)
		;
	envp = xcalloc(n + x->nenv + 2, sizeof(*envp));
	for (i = 0; i < n; i++)
		envp[i] = environ[i];
	for (i = 0; i < x->nenv; i++)
		envp[n + i] = (char *)x->env[i];
	envp[n + x->nenv] = "KUBERNETES_EXEC_INFO={\"apiVersion\":\"" EXEC_API "\",\"kind\":\"ExecCredential\",\"spec\":{\"interactive\":false}}";
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		s7_error_class(err, S7_ECLUSTER, "pipe: %s", strerror(errno));
		goto done;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawnattr_init(&sa);
	posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&sa, 0);
	e = posix_spawnp(&pid, x->command, &fa, &sa, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&sa);
	if (e != 0) {
		s7_error_class(err, S7_ECLUSTER,
		    "%s: users[%s].user.exec: cannot run '%s': %s", x->file,
		    kc->user, x->command, strerror(e));
		goto done;
	}
	close(pipefd[1]);
	pipefd[1] = -1;
	if (collect(kc, pid, pipefd[0], &out, &wstatus, err) < 0)
		goto done;
	if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
		s7_error_class(err, S7_ECLUSTER,
		    "%s: users[%s].user.exec: '%s' failed (%s %d)", x->file,
		    kc->user, x->command, WIFEXITED(wstatus) ? "exit" : "signal",
		    WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) :
		    WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : -1);
		goto done;
	}
	snprintf(from, sizeof(from), "%s: users[%s].user.exec: '%s'", x->file,
	    kc->user, x->command);
	if (json_parse(&a, x->command, out.buf, out.len, &cred, err) < 0) {
		/* Not quoted: what it printed may be a credential. */
		s7_error_class(err, S7_ECLUSTER,
		    "%s did not print JSON (an ExecCredential)", from);
		goto done;
	}
	status = ynode_get_map(cred, "status");
	kind = ynode_get_string(cred, "kind");
	api = ynode_get_string(cred, "apiVersion");
	if (kind == NULL || strcmp(kind, "ExecCredential") != 0 ||
	    status == NULL) {
		s7_error_class(err, S7_ECLUSTER,
		    "%s did not print an ExecCredential with a status", from);
		goto done;
	}
	if (api == NULL || strcmp(api, EXEC_API) != 0) {
		s7_error_class(err, S7_ECLUSTER,
		    "%s answered with apiVersion '%.80s', not " EXEC_API, from,
		    api ? api : "");
		goto done;
	}
	token = ynode_get_string(status, "token");
	c = ynode_get_string(status, "clientCertificateData");
	k = ynode_get_string(status, "clientKeyData");
	if (ynode_get(status, "token") && token == NULL) {
		s7_error_class(err, S7_ECLUSTER,
		    "%s: status.token is not a string", from);
		goto done;
	}
	if (token && *token) {
		if (token_ok(token, ynode_get(status, "token")->len, from, err) < 0)
			goto done;
		if (kc->token)
			xfree_secret(kc->token, strlen(kc->token));
		kc->token = xstrdup(token);
	} else if (c && k && *c && *k) {
		kc->tls.cert = arena_strdup(&kc->arena, c);
		kc->tls.cert_len = strlen(c);
		if (kc->key)
			xfree_secret(kc->key, kc->key_len);
		kc->key = xstrdup(k);
		kc->key_len = strlen(k);
		kc->tls.key = kc->key;
		kc->tls.key_len = kc->key_len;
	} else {
		s7_error_class(err, S7_ECLUSTER,
		    "%s: the ExecCredential has neither a token nor a client certificate and key (strings)",
		    from);
		goto done;
	}
	ret = 0;
done:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	free(argv);
	free(envp);
	strbuf_release_secret(&out);
	ynode_wipe(cred);
	arena_release(&a);
	return ret;
}

int
kubeconfig_auth(struct kubeconfig *kc, char **header, struct s7_error *err)
{
	*header = NULL;
	if (kc->has_exec && run_exec(kc, err) < 0)
		return -1;
	if (kc->token == NULL && kc->token_file) {
		struct strbuf sb;
		char from[600];

		snprintf(from, sizeof(from), "%s: users[%s].user.tokenFile '%s'",
		    kc->file, kc->user, kc->token_file);
		strbuf_init(&sb, 64 * 1024);
		if (fs_read(kc->token_file, &sb, err) < 0) {
			strbuf_release_secret(&sb);
			s7_error_prefix(err, "%s: users[%s].user.tokenFile", kc->file,
			    kc->user);
			err->class = S7_ECLUSTER;
			return -1;
		}
		/* As kubectl: surrounding white space is not the token's. */
		while (sb.len && (sb.buf[sb.len - 1] == '\n' ||
		    sb.buf[sb.len - 1] == '\r' || sb.buf[sb.len - 1] == ' ' ||
		    sb.buf[sb.len - 1] == '\t'))
			sb.len--;
		sb.buf[sb.len] = '\0';
		if (token_ok(sb.buf, sb.len, from, err) < 0) {
			strbuf_release_secret(&sb);
			return -1;
		}
		kc->token = xstrdup(sb.buf);
		strbuf_release_secret(&sb);
	}
	if (kc->token)
		*header = xasprintf("Bearer %s", kc->token);
	return 0;
}
