/*
 * Reading kubeconfig: parse each file with the YAML loader (so every error
 * has a position), merge by name, resolve the context, then load the
 * credentials it names.  The exec plugin protocol is the one kubectl
 * speaks (client.authentication.k8s.io/v1, ExecCredential on stdout).
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kubeconfig.h"
#include "../json/json.h"
#include "../util/base64.h"
#include "../util/fs.h"
#include "../util/xmalloc.h"
#include "../yaml/yaml.h"
#include "../util/banned.h"

#define KUBECONFIG_MAX ((size_t)4 * 1024 * 1024)
#define EXEC_OUTPUT_MAX ((size_t)1024 * 1024)

extern char **environ;

/* A named entry and the file that defined it. */
struct entry {
	const char *name;
	const struct ynode *body;	/* the "cluster"/"user"/"context" map */
	const char *file;
};

struct merged {
	struct entry *clusters, *users, *contexts;
	size_t nclusters, nusers, ncontexts;
	size_t aclusters, ausers, acontexts;
	const char *current;
	const char *current_file;
	char files[1024];		/* for messages */
};

void
kubeconfig_init(struct kubeconfig *kc)
{
	memset(kc, 0, sizeof(*kc));
	arena_init(&kc->arena);
}

void
kubeconfig_release(struct kubeconfig *kc)
{
	if (kc->key)
		xfree_secret(kc->key, kc->key_len);
	if (kc->token)
		xfree_secret(kc->token, strlen(kc->token));
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
add_entries(struct kubeconfig *kc, const struct ynode *root, const char *file,
    const char *list, const char *inner, struct entry **v, size_t *n,
    size_t *alloc, struct s7_error *err)
{
	const struct ynode *seq = ynode_get(root, list);
	size_t i, j;

	if (seq == NULL || (seq->kind == Y_SCALAR && seq->type == YT_NULL))
		return 0;
	if (seq->kind != Y_SEQ)
		return at_error(err, seq, file, "%s: expected a list", list);
	for (i = 0; i < seq->n; i++) {
		const struct ynode *it = seq->v[i];
		const char *name = ynode_get_str(it, "name");
		const struct ynode *body = ynode_get(it, inner);
		int seen = 0;

		if (it->kind != Y_MAP || name == NULL)
			return at_error(err, it, file, "%s[%zu]: needs a name",
			    list, i);
		if (body == NULL || body->kind != Y_MAP)
			return at_error(err, it, file, "%s[%s]: no '%s' mapping",
			    list, name, inner);
		for (j = 0; j < *n; j++)
			if (strcmp((*v)[j].name, name) == 0)
				seen = 1;
		if (seen)
			continue;	/* the first file to define a name wins */
		ALLOC_GROW(*v, *n + 1, *alloc);
		(*v)[*n].name = name;
		(*v)[*n].body = body;
		(*v)[*n].file = file;
		(*n)++;
	}
	(void)kc;
	return 0;
}

static int
load_file(struct kubeconfig *kc, struct merged *m, const char *path,
    int required, struct s7_error *err)
{
	struct strbuf sb;
	struct ynode *root;
	const char *file = arena_strdup(&kc->arena, path);
	size_t used = strlen(m->files);

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
		strbuf_release(&sb);
		err->class = S7_ECLUSTER;
		return -1;
	}
	if (sb.len == 0) {
		strbuf_release(&sb);
		return 0;
	}
	if (yaml_parse_one(&kc->arena, file, sb.buf, sb.len, &root, err) < 0) {
		strbuf_release(&sb);
		err->class = S7_ECLUSTER;
		return -1;
	}
	strbuf_release(&sb);
	if (root->kind == Y_SCALAR && root->type == YT_NULL)
		return 0;
	if (root->kind != Y_MAP)
		return at_error(err, root, file, "a kubeconfig is a mapping");
	if (add_entries(kc, root, file, "clusters", "cluster", &m->clusters,
	    &m->nclusters, &m->aclusters, err) < 0 ||
	    add_entries(kc, root, file, "users", "user", &m->users, &m->nusers,
	    &m->ausers, err) < 0 ||
	    add_entries(kc, root, file, "contexts", "context", &m->contexts,
	    &m->ncontexts, &m->acontexts, err) < 0)
		return -1;
	if (m->current == NULL) {
		const char *cur = ynode_get_str(root, "current-context");

		if (cur && *cur) {
			m->current = cur;
			m->current_file = file;
		}
	}
	return 0;
}

static const struct entry *
find(const struct entry *v, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
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

static int
load_exec(struct kubeconfig *kc, const struct entry *u, const struct ynode *ex,
    struct s7_error *err)
{
	const struct ynode *args = ynode_get(ex, "args");
	const struct ynode *env = ynode_get(ex, "env");
	struct kube_exec *x = &kc->exec;
	size_t i;

	x->command = ynode_get_str(ex, "command");
	x->api_version = ynode_get_str(ex, "apiVersion");
	x->file = u->file;
	if (x->command == NULL)
		return at_error(err, ex, u->file, "users[%s].user.exec: no command",
		    u->name);
	if (x->api_version == NULL ||
	    strcmp(x->api_version, "client.authentication.k8s.io/v1") != 0)
		return at_error(err, ynode_get(ex, "apiVersion") ?
		    ynode_get(ex, "apiVersion") : ex, u->file,
		    "users[%s].user.exec.apiVersion: '%s' is not supported (client.authentication.k8s.io/v1 is)",
		    u->name, x->api_version ? x->api_version : "");
	if (strchr(x->command, '/'))
		x->command = resolve_path(kc, u->file, x->command);
	if (args && args->kind == Y_SEQ) {
		x->args = arena_array(&kc->arena, args->n + 1, sizeof(*x->args));
		for (i = 0; i < args->n; i++)
			x->args[i] = args->v[i]->str;
		x->nargs = args->n;
	}
	if (env && env->kind == Y_SEQ) {
		x->env = arena_array(&kc->arena, env->n + 1, sizeof(*x->env));
		for (i = 0; i < env->n; i++) {
			const char *n = ynode_get_str(env->v[i], "name");
			const char *v = ynode_get_str(env->v[i], "value");

			if (n == NULL || v == NULL)
				return at_error(err, env->v[i], u->file,
				    "users[%s].user.exec.env[%zu]: needs name and value",
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

	kc->server = ynode_get_str(c->body, "server");
	if (kc->server == NULL || *kc->server == '\0')
		return at_error(err, c->body, c->file,
		    "clusters[%s].cluster.server: not set", c->name);
	if (strncmp(kc->server, "https://", 8) != 0 &&
	    strncmp(kc->server, "http://", 7) != 0)
		return at_error(err, ynode_get(c->body, "server"), c->file,
		    "clusters[%s].cluster.server: '%s' is not an http(s) URL",
		    c->name, kc->server);
	if (ynode_get(c->body, "tls-server-name") ||
	    ynode_get(c->body, "proxy-url"))
		return at_error(err, ynode_get(c->body, "tls-server-name") ?
		    ynode_get(c->body, "tls-server-name") :
		    ynode_get(c->body, "proxy-url"), c->file,
		    "clusters[%s].cluster: tls-server-name and proxy-url are not supported",
		    c->name);
	v = ynode_get(c->body, "insecure-skip-tls-verify");
	kc->insecure = ynode_truthy(v);
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
	if (tok && tok->kind == Y_SCALAR && tok->len)
		kc->token = xstrdup(tok->str);
	else if (tf && tf->kind == Y_SCALAR && tf->len)
		kc->token_file = resolve_path(kc, u->file, tf->str);
	if (ex && ex->kind == Y_MAP && load_exec(kc, u, ex, err) < 0)
		return -1;
	return 0;
}

int
kubeconfig_load(struct kubeconfig *kc, const char *path, const char *context,
    struct s7_error *err)
{
	struct merged m;
	const struct entry *ctx, *cl, *us;
	const char *name, *cname, *uname;
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
	name = context ? context : m.current;
	if (name == NULL) {
		s7_error_class(err, S7_ECLUSTER,
		    "no current-context in %s; pass --context", m.files);
		goto done;
	}
	ctx = find(m.contexts, m.ncontexts, name);
	if (ctx == NULL) {
		struct strbuf sb;
		size_t i;

		strbuf_init(&sb, 4096);
		for (i = 0; i < m.ncontexts; i++)
			strbuf_addf(&sb, "%s%s", i ? ", " : "", m.contexts[i].name);
		s7_error_class(err, S7_ECLUSTER,
		    "context '%s' is not in %s (contexts: %s)", name, m.files,
		    sb.len ? sb.buf : "none");
		strbuf_release(&sb);
		goto done;
	}
	cname = ynode_get_str(ctx->body, "cluster");
	uname = ynode_get_str(ctx->body, "user");
	if (cname == NULL || (cl = find(m.clusters, m.nclusters, cname)) == NULL) {
		at_error(err, ynode_get(ctx->body, "cluster") ?
		    ynode_get(ctx->body, "cluster") : ctx->body, ctx->file,
		    "contexts[%s].context.cluster: cluster '%s' is not defined",
		    name, cname ? cname : "");
		goto done;
	}
	if (uname == NULL || (us = find(m.users, m.nusers, uname)) == NULL) {
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
	kc->ns = ynode_get_str(ctx->body, "namespace");
	if (kc->ns == NULL || *kc->ns == '\0')
		kc->ns = "default";
	if (load_cluster(kc, cl, err) < 0 || load_user(kc, us, err) < 0)
		goto done;
	ret = 0;
done:
	free(m.clusters);
	free(m.users);
	free(m.contexts);
	return ret;
}

/* Runs the exec plugin; its ExecCredential gives a token or a cert. */
static int
run_exec(struct kubeconfig *kc, struct s7_error *err)
{
	struct kube_exec *x = &kc->exec;
	char **argv = NULL, **envp = NULL;
	posix_spawn_file_actions_t fa;
	struct strbuf out;
	struct arena a;
	struct ynode *cred, *status;
	size_t i, n = 0;
	int pipefd[2] = { -1, -1 }, wstatus = 0, ret = -1;
	pid_t pid;
	char buf[4096];
	ssize_t got;

	strbuf_init(&out, EXEC_OUTPUT_MAX);
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
	envp[n + x->nenv] = "KUBERNETES_EXEC_INFO={\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"spec\":{\"interactive\":false}}";
	if (pipe(pipefd) < 0) {
		s7_error_class(err, S7_ECLUSTER, "pipe: %s", strerror(errno));
		goto done;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_addclose(&fa, pipefd[0]);
	posix_spawn_file_actions_addclose(&fa, pipefd[1]);
	if (posix_spawnp(&pid, x->command, &fa, NULL, argv, envp) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		s7_error_class(err, S7_ECLUSTER,
		    "%s: users[%s].user.exec: cannot run '%s': %s", x->file,
		    kc->user, x->command, strerror(errno));
		goto done;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	pipefd[1] = -1;
	while ((got = read(pipefd[0], buf, sizeof(buf))) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			break;
		if (strbuf_add(&out, buf, (size_t)got) < 0)
			break;
	}
	while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
		s7_error_class(err, S7_ECLUSTER,
		    "%s: users[%s].user.exec: '%s' failed (exit %d)", x->file,
		    kc->user, x->command,
		    WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
		goto done;
	}
	if (json_parse(&a, x->command, out.buf, out.len, &cred, err) < 0) {
		s7_error_prefix(err, "%s: users[%s].user.exec: output",
		    x->file, kc->user);
		err->class = S7_ECLUSTER;
		goto done;
	}
	status = ynode_get(cred, "status");
	if (!ynode_get_str(cred, "kind") ||
	    strcmp(ynode_get_str(cred, "kind"), "ExecCredential") != 0 ||
	    status == NULL) {
		s7_error_class(err, S7_ECLUSTER,
		    "%s: users[%s].user.exec: '%s' did not print an ExecCredential with a status",
		    x->file, kc->user, x->command);
		goto done;
	}
	if (ynode_get_str(status, "token")) {
		if (kc->token)
			xfree_secret(kc->token, strlen(kc->token));
		kc->token = xstrdup(ynode_get_str(status, "token"));
	} else if (ynode_get_str(status, "clientCertificateData") &&
	    ynode_get_str(status, "clientKeyData")) {
		const char *c = ynode_get_str(status, "clientCertificateData");
		const char *k = ynode_get_str(status, "clientKeyData");

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
		    "%s: users[%s].user.exec: the ExecCredential has neither a token nor a client certificate",
		    x->file, kc->user);
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

		strbuf_init(&sb, 64 * 1024);
		if (fs_read(kc->token_file, &sb, err) < 0) {
			strbuf_release_secret(&sb);
			s7_error_prefix(err, "%s: users[%s].user.tokenFile", kc->file,
			    kc->user);
			err->class = S7_ECLUSTER;
			return -1;
		}
		while (sb.len && (sb.buf[sb.len - 1] == '\n' ||
		    sb.buf[sb.len - 1] == '\r' || sb.buf[sb.len - 1] == ' '))
			sb.len--;
		sb.buf[sb.len] = '\0';
		kc->token = xstrdup(sb.buf);
		strbuf_release_secret(&sb);
	}
	if (kc->token)
		*header = xasprintf("Bearer %s", kc->token);
	return 0;
}
