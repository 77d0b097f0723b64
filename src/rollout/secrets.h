/*
 * Generated credentials.  Each component declares the Secrets it needs
 * (catalog descriptors, `secrets:`); ensure creates the missing ones, and
 * the missing keys of existing ones, with values from the OS random
 * source.  An existing value is never changed: losing n8n's encryption key
 * or AppFlowy's JWT secret would lose data.  The one exception is a hash
 * derived from another key (bcrypt): it follows that key, so a password
 * changed by hand gets its hash again.  Values are never printed,
 * logged or written to files: events name keys and a hash of the value.
 *
 * Secrets carry the label sector7.io/credential=true (so prune keeps them
 * unless told otherwise) and the ApplySet's part-of label.
 */
#ifndef S7_ROLLOUT_SECRETS_H
#define S7_ROLLOUT_SECRETS_H

#include "rollout.h"

/* Fills out[0..n) with a random value as gen says; out is NUL-terminated. */
int secret_generate(const struct secret_key *k, char *out, size_t size,
    struct s7_error *err);

/*
 * The bcrypt hash of pw ($2a$, cost 10 as n8n and NocoDB use, a random
 * salt) in out, and whether hash is the bcrypt hash of pw.
 */
int secret_bcrypt(const char *pw, char *out, size_t size,
    struct s7_error *err);
int secret_bcrypt_ok(const char *pw, const char *hash);

/*
 * Ensures the secrets of the enabled components of r (only the component
 * at index `only` unless it is (size_t)-1).  applyset_id may be NULL.
 * Each key generated, added or renewed and each copy made is an event;
 * st counts them and the mutating requests.
 */
int secrets_ensure(struct kube_client *k, struct rendered *r, size_t only,
    const char *applyset_id, rollout_event_fn ev, void *arg,
    struct rollout_stats *st, struct s7_error *err);

/* One declared key, or one copy of a secret, as `list` shows it. */
struct secret_entry {
	const char *component, *namespace, *name;
	const char *key;		/* NULL for a copy */
	const char *of;			/* a copy: the source "ns/name" */
	int present;
	int in_sync;			/* a copy: same values as its source */
	char hash[20];			/* of the value, when present */
};

typedef void (*secret_entry_fn)(void *arg, const struct secret_entry *se);

/* Every declared secret and key, present or missing, with hashes. */
int secrets_list(struct kube_client *k, struct rendered *r,
    secret_entry_fn fn, void *arg, struct s7_error *err);

/*
 * The value of NAMESPACE/NAME (one of the declared secrets) and key (may
 * be NULL when the secret has one key).  *value is wiped and freed by the
 * caller.
 */
int secrets_value(struct kube_client *k, struct rendered *r,
    const char *ref, const char *key, char **value, size_t *len,
    struct s7_error *err);

#endif
