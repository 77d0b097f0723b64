/*
 * kubeconfig, read as kubectl reads it: the files in $KUBECONFIG (a colon
 * list, merged: the first file to define a cluster, user or context name
 * wins, and the first current-context wins), or only --kubeconfig, or
 * ~/.kube/config; then --context or current-context.
 *
 * Certificates, keys and tokens may be inline (-data, base64) or in files
 * (relative paths are relative to the kubeconfig that names them).  Exec
 * credential plugins (client.authentication.k8s.io/v1) are run when the
 * credentials are needed, in a process group of their own, with their
 * output capped at 1 MiB and their time at exec_timeout_ms (and the
 * deadline): past either the group is killed and the error says so.
 * Errors name the file, the key and file:line:col.
 *
 * Booleans are YAML booleans: `insecure-skip-tls-verify: "false"` (a
 * string) is an error, not a true value.  A token holding a control
 * character (a line break would add an HTTP header) is refused, naming
 * where it came from, never the token.
 *
 * struct kubeconfig owns its arena and its secrets; kubeconfig_release
 * wipes the secrets and frees everything.
 */
#ifndef S7_KUBE_KUBECONFIG_H
#define S7_KUBE_KUBECONFIG_H

#include <stddef.h>

#include "../http/http.h"
#include "../util/arena.h"
#include "../util/error.h"

struct kube_exec {
	const char *command;
	const char **args;
	size_t nargs;
	const char **env;	/* "NAME=value" */
	size_t nenv;
	const char *api_version;
	const char *file;	/* the kubeconfig that defined it */
};

struct kubeconfig {
	struct arena arena;
	struct ynode **roots;	/* the files read: wiped on release */
	size_t nroots, aroots;
	const char *context, *cluster, *user;
	const char *server;
	const char *file;	/* where the context came from */
	struct http_tls tls;	/* ca and cert in the arena; key is secret */
	char *key;		/* secret: wiped on release */
	size_t key_len;
	char *token;		/* secret: bearer token */
	const char *token_file;
	struct kube_exec exec;
	int has_exec;
	int insecure;
	const char *ns;		/* the context's namespace, or "default" */
	long exec_timeout_ms;	/* the exec plugin's limit (default 30 s) */
	long long deadline_ms;	/* the command's deadline, 0: none */
};

void kubeconfig_init(struct kubeconfig *kc);
void kubeconfig_release(struct kubeconfig *kc);
/* path: --kubeconfig or NULL; context: --context or NULL. */
int kubeconfig_load(struct kubeconfig *kc, const char *path,
    const char *context, struct s7_error *err);
/* One kubeconfig from memory (name: for messages); for the fuzzer. */
int kubeconfig_load_text(struct kubeconfig *kc, const char *name,
    const char *buf, size_t len, const char *context, struct s7_error *err);
/*
 * The Authorization header value ("Bearer ...") or NULL when the client
 * certificate suffices.  Runs the exec plugin when there is one (and may
 * fill the client certificate from it).  The caller wipes and frees
 * *header.
 */
int kubeconfig_auth(struct kubeconfig *kc, char **header,
    struct s7_error *err);

#endif
