#include <string.h>

#include "hosts.h"
#include "../util/ipv4.h"
#include "../util/banned.h"

static int
uses_traefik(const struct site *s)
{
	return strcmp(ynode_get_str(s->norm, "ingress"), "traefik") == 0;
}

void
hosts_k3s_server_flags(const struct site *s, struct strbuf *out)
{
	strbuf_addstr(out, "disable:\n");
	strbuf_addstr(out, "  - servicelb       # MetalLB hands out LoadBalancer addresses\n");
	strbuf_addstr(out, "  - local-storage   # Longhorn is the default StorageClass\n");
	if (!uses_traefik(s))
		strbuf_addstr(out, "  - traefik         # ingress-nginx serves the Ingresses\n");
}

void
hosts_k3s_config(const struct site *s, const struct site_node *n,
    struct strbuf *out)
{
	char ip[IPV4_STRLEN];
	const struct site_node *server = NULL;
	size_t i;

	for (i = 0; i < s->nnodes; i++)
		if (s->nodes[i].role == ROLE_SERVER) {
			server = &s->nodes[i];
			break;
		}
	ipv4_format(n->ip, ip);
	strbuf_addf(out, "# /etc/rancher/k3s/config.yaml on %s (%s), k3s %s\n",
	    n->name, n->role == ROLE_SERVER ? "server" : "agent",
	    ynode_get_str(ynode_get(s->norm, "k3s"), "version"));
	strbuf_addf(out, "node-name: %s\n", n->name);
	strbuf_addf(out, "node-ip: %s\n", ip);
	if (n->role == ROLE_SERVER) {
		strbuf_addstr(out, "write-kubeconfig-mode: \"0600\"\n");
		strbuf_addf(out, "tls-san:\n  - %s\n", ip);
		hosts_k3s_server_flags(s, out);
	} else if (server) {
		ipv4_format(server->ip, ip);
		strbuf_addf(out, "server: https://%s:6443\n", ip);
		strbuf_addstr(out, "# token: read it from /var/lib/rancher/k3s/server/node-token on the server\n");
	}
	if (n->gpus > 0)
		strbuf_addstr(out, "# NVIDIA driver and container toolkit must be installed before k3s starts;\n"
		    "# k3s then registers the 'nvidia' runtime by itself.\n");
}

void
hosts_prerequisites(const struct site *s, struct strbuf *out)
{
	size_t i;

	strbuf_addstr(out, "#!/bin/sh\n"
	    "# Run as root on every node before Longhorn is installed:\n");
	for (i = 0; i < s->nnodes; i++)
		strbuf_addf(out, "#   %s\n", s->nodes[i].name);
	strbuf_addstr(out, "set -eu\n"
	    "apt-get install -y open-iscsi nfs-common cryptsetup dmsetup\n"
	    "systemctl enable --now iscsid\n"
	    "modprobe iscsi_tcp\n"
	    "modprobe dm_crypt\n"
	    "printf 'iscsi_tcp\\ndm_crypt\\n' >/etc/modules-load.d/longhorn.conf\n");
}

void
hosts_firewall(const struct site *s, struct strbuf *out)
{
	char pub[IPV4_STRLEN], ing[IPV4_STRLEN];
	const char *ch = ynode_get_str(ynode_get(s->norm, "tls"), "challenge");

	ipv4_format(s->public_ip, pub);
	ipv4_format(s->ingress_ip, ing);
	strbuf_addstr(out, "# Port forwards on the firewall (OPNsense: Firewall > NAT > Port Forward)\n");
	strbuf_addstr(out, "# interface  protocol  destination          port  redirect-to          reason\n");
	strbuf_addf(out, "WAN          TCP       %-15s      443   %-15s      HTTPS to the ingress\n",
	    pub, ing);
	if (strcmp(ch, "http01") == 0)
		strbuf_addf(out, "WAN          TCP       %-15s      80    %-15s      Let's Encrypt HTTP-01 and redirect\n",
		    pub, ing);
	else
		strbuf_addf(out, "# port 80 is not needed: certificates use DNS-01\n");
}
