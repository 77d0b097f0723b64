/*
 * What the hosts outside Kubernetes need, derived from the site: the k3s
 * configuration of each node, the packages Longhorn needs on every node,
 * and the firewall's port forwards.  Shared by `check` (as advice) and
 * `render` (as files).
 */
#ifndef S7_SITE_HOSTS_H
#define S7_SITE_HOSTS_H

#include "site.h"
#include "../util/strbuf.h"

/* /etc/rancher/k3s/config.yaml for one node. */
void hosts_k3s_config(const struct site *s, const struct site_node *n,
    struct strbuf *out);
/* The server flags alone, as a config.yaml fragment. */
void hosts_k3s_server_flags(const struct site *s, struct strbuf *out);
/* A shell script installing and enabling Longhorn's node prerequisites. */
void hosts_prerequisites(const struct site *s, struct strbuf *out);
/* Port forwards on the firewall, one per line. */
void hosts_firewall(const struct site *s, struct strbuf *out);

#endif
