# The real node (sourced after lib.sh by up.sh, down.sh, restart.sh and
# stop_all): containerd + runc + CNI bridge, kubelet, kube-proxy, CoreDNS and
# kube-router's network policy controller on this machine, joined to the
# cluster in DIR. See README.md here for the design; the network plan:
#
#   bridge s7br0, 10.77.0.0/16, owned by one cluster at a time (its alias
#   names the DIR); nothing on it is routed anywhere else
#   10.77.0.0/18    "LAN" of a test site: 10.77.0.1 is the host's address on
#                   the bridge (CoreDNS listens there); node InternalIPs (local
#                   addresses on the bridge), MetalLB pools, ingress addresses
#   10.77.64.0/18   kwok's pod IPs (nobody answers them)
#   10.77.128.0/17  real pods (host-local IPAM); 10.77.128.1 their gateway
#                   for 10.77.0.0/16 and the Service range 10.43.0.0/16
#   10.43.0.10      Service kube-system/kube-dns -> CoreDNS on 10.77.0.1

RN_BR=s7br0
RN_NET=10.77.0.0/16
RN_HOST=10.77.0.1
RN_LAN=10.77.0.0/18
RN_KWOK_PODS=10.77.64.0/18
RN_PODS=10.77.128.0/17
RN_PODS_GW=10.77.128.1
RN_SVC=10.43.0.0/16
RN_DNS=10.43.0.10
RN_CGROUP=sector7-realnode
RN_LOCK=/run/lock/sector7-realnode.lock
mkdir -p /run/lock 2>/dev/null || true
RN_CNI_NET=sector7-realnode
RN_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

rn_log() { echo "realnode: $*" >&2; }

# rn_ip_ok IP: inside the site part of the bridge (10.77.0.2-10.77.63.254).
rn_ip_ok() {
  local a b c d
  IFS=. read -r a b c d <<<"$1"
  [ "$a" = 10 ] && [ "$b" = 77 ] && [ "$c" -ge 0 ] && [ "$c" -lt 64 ] && [ "$d" -ge 0 ] && [ "$d" -le 255 ] &&
    ! { [ "$c" = 0 ] && [ "$d" -le 1 ]; } && ! { [ "$c" = 63 ] && [ "$d" = 255 ]; }
}

# rn_nodes SPEC: validate a --nodes SPEC for --real-node; prints node_manifests
# --list lines. Exactly one node is real; every InternalIP is inside 10.77.0.0/18
# (the real node's) or, for kwok nodes, there or on loopback.
rn_nodes() {
  local out n=0 name ip real rest
  out=$(NODE_IP_BASE=10.77.0 node_manifests "$1" v0 --list) || return 2
  while read -r name ip real rest; do
    if [ "$real" = 1 ]; then
      n=$((n+1))
      rn_ip_ok "$ip" || { echo "up.sh: the real node $name needs an ip in 10.77.0.2-10.77.63.254 (got $ip)" >&2; return 2; }
    else
      rn_ip_ok "$ip" || case "$ip" in 127.*) ;; *)
        echo "up.sh: with --real-node, node $name's ip must be in 10.77.0.2-10.77.63.254 or 127.0.0.0/8 (got $ip): the API server dials it" >&2; return 2 ;; esac
    fi
  done <<<"$out"
  [ "$n" = 1 ] || { echo "up.sh: --real-node needs exactly one node with the attribute 'real' (got $n)" >&2; return 2; }
  echo "$out"
}

# ---- packages -------------------------------------------------------------------
rn_deps() {
  local p missing=""
  for p in containerd runc containernetworking-plugins iptables ipset busybox-static gcc libc6-dev socat; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  rn_log "installing:$missing"
  export DEBIAN_FRONTEND=noninteractive
  # Debian's policy-rc.d keeps apt from starting a system containerd.
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1 || {
    apt-get update -q >/dev/null
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $missing >/dev/null
  }
}

# ---- ownership of the bridge -----------------------------------------------------
rn_owner() { { ip -o link show "$RN_BR" 2>/dev/null || true; } | sed -n 's/.* alias sector7-realnode \(.*\)$/\1/p'; }

# rn_claim DIR: the bridge is free, stale (its cluster is not running) or ours.
rn_claim() {
  local dir=$1 owner
  owner=$(rn_owner)
  if ip link show "$RN_BR" >/dev/null 2>&1 && [ "$owner" != "$dir" ]; then
    if [ -n "$owner" ] && [ -d "$owner/run" ] && any_running "$owner"; then
      echo "up.sh: the real node's network ($RN_BR, $RN_NET) belongs to the running cluster in $owner; stop it first (down.sh $owner)" >&2
      return 1
    fi
    rn_log "removing what is left of the real node of ${owner:-an unknown cluster}"
    [ -z "$owner" ] || rn_node_down "$owner" || return 1
    rn_kill_pods || return 1
    rn_net_down "${owner:-/nonexistent}" force
  fi
}

# ---- network ------------------------------------------------------------------------
IPT=(iptables -w 5)

rn_guard_rules() { # rn_guard_rules NODE_IP: iptables-restore input for the guard chains
  cat <<EOF
*raw
:SECTOR7-RN-PRE - [0:0]
-A SECTOR7-RN-PRE -i $RN_BR -j RETURN
-A SECTOR7-RN-PRE -i lo -j RETURN
-A SECTOR7-RN-PRE -d $RN_NET -j DROP
-A SECTOR7-RN-PRE -s $RN_NET -j DROP
-A SECTOR7-RN-PRE -d $RN_SVC -j DROP
-I PREROUTING 1 -j SECTOR7-RN-PRE
COMMIT
*mangle
:SECTOR7-RN-FWD - [0:0]
:SECTOR7-RN-IN - [0:0]
:SECTOR7-RN-POST - [0:0]
-A SECTOR7-RN-FWD -i $RN_BR -o $RN_BR -j RETURN
-A SECTOR7-RN-FWD -i $RN_BR -j DROP
-A SECTOR7-RN-FWD -o $RN_BR -j DROP
-A SECTOR7-RN-IN ! -i $RN_BR -j RETURN
-A SECTOR7-RN-IN -m conntrack --ctstate ESTABLISHED,RELATED,DNAT -j RETURN
-A SECTOR7-RN-IN -d $1/32 -p tcp --dport 10250 -j RETURN
-A SECTOR7-RN-IN -j DROP
-A SECTOR7-RN-POST -o $RN_BR -j RETURN
-A SECTOR7-RN-POST -o lo -j RETURN
-A SECTOR7-RN-POST -s $RN_NET -j DROP
-A SECTOR7-RN-POST -d $RN_NET -j DROP
-A SECTOR7-RN-POST -d $RN_SVC -j DROP
-A SECTOR7-RN-POST -m conntrack --ctstate DNAT --ctorigdst $RN_NET -j DROP
-A SECTOR7-RN-POST -m conntrack --ctstate DNAT --ctorigdst $RN_SVC -j DROP
-I FORWARD 1 -j SECTOR7-RN-FWD
-I INPUT 1 -j SECTOR7-RN-IN
-I POSTROUTING 1 -j SECTOR7-RN-POST
COMMIT
EOF
}

# rn_net_up DIR NODE_IP IP...: bridge, addresses, the Service route, the guards.
rn_net_up() {
  local dir=$1 nodeip=$2 a; shift 2
  rn_iptables_clean
  ip link show "$RN_BR" >/dev/null 2>&1 || ip link add "$RN_BR" type bridge
  ip link set "$RN_BR" alias "sector7-realnode $dir"
  echo 1 >"/proc/sys/net/ipv6/conf/$RN_BR/disable_ipv6"
  ip addr replace "$RN_HOST/16" dev "$RN_BR"
  ip addr replace "$RN_PODS_GW/17" dev "$RN_BR"
  for a in "$@"; do ip addr replace "$a/32" dev "$RN_BR"; done
  ip link set "$RN_BR" up
  ip route replace "$RN_SVC" dev "$RN_BR" src "$RN_HOST"
  # Routing only for packets that arrive on the bridge (ip_forward stays as
  # it is); the guards keep them on the bridge.
  echo 1 >"/proc/sys/net/ipv4/conf/$RN_BR/forwarding"
  rn_guard_rules "$nodeip" | iptables-restore -w 5 --noflush
}

# rn_iptables_clean: remove the guards and every KUBE-* chain (kube-proxy,
# kube-router, kubelet canaries) with the jumps to them, IPv4 and IPv6, and
# kube-router's ipsets. Only one real node runs on a machine (rn_claim).
rn_iptables_clean() {
  local save restore t
  for save in iptables-save ip6tables-save; do
    restore=${save%-save}-restore
    command -v "$save" >/dev/null || continue
    for t in raw mangle nat filter; do
      "$save" -t "$t" 2>/dev/null | python3 -c '
import re, sys
t = sys.argv[1]
ours = lambda c: c.startswith("KUBE-") or c.startswith("SECTOR7-RN-")
chains, dels = [], []
for line in sys.stdin:
    line = line.rstrip("\n")
    if line.startswith(":"):
        c = line[1:].split()[0]
        if ours(c): chains.append(c)
    elif line.startswith("-A "):
        parts = line.split()
        m = re.search(r"(?:^| )-[jg] (\S+)", line)
        if not ours(parts[1]) and m and ours(m.group(1)):
            dels.append("-D" + line[2:])
if chains or dels:
    print("*" + t)
    for d in dels: print(d)
    for c in chains: print("-F " + c)
    for c in chains: print("-X " + c)
    print("COMMIT")
' "$t" | "$restore" -w 5 --noflush 2>/dev/null || true
    done
  done
  if command -v ipset >/dev/null; then
    { ipset list -n 2>/dev/null || true; } | { grep -E '^(inet6:)?KUBE-' || true; } | while read -r s; do ipset destroy "$s" 2>/dev/null || true; done
  fi
}

# rn_net_down DIR [force]: tear the network down if DIR owns it (or force).
rn_net_down() {
  local dir=$1 owner
  owner=$(rn_owner)
  if [ "${2:-}" != force ] && ip link show "$RN_BR" >/dev/null 2>&1 && [ "$owner" != "$dir" ]; then
    return 0   # someone else's
  fi
  rn_iptables_clean
  ip link del "$RN_BR" 2>/dev/null || true
  rm -f /var/lib/cni/results/"$RN_CNI_NET"-* 2>/dev/null || true
}

# ---- certificates -----------------------------------------------------------------------
rn_leaf() { # rn_leaf PKI NAME SUBJECT EXT: NAME.crt/.key signed by the cluster CA, kept while valid
  local p=$1 n=$2 t
  if [ -s "$p/$n.crt" ] && [ -s "$p/$n.key" ] && [ "$(cat "$p/$n.ext" 2>/dev/null)" = "$4" ] &&
     openssl verify -CAfile "$p/ca.crt" "$p/$n.crt" >/dev/null 2>&1 &&
     openssl x509 -checkend 86400 -noout -in "$p/$n.crt" >/dev/null 2>&1; then
    return 0
  fi
  t=$(mktemp -d "$p/.leaf.XXXXXX")
  ( umask 077
    openssl req -new -newkey rsa:2048 -nodes -keyout "$t/k" -subj "$3" -out "$t/csr" >/dev/null 2>&1 &&
    printf "$4" >"$t/ext" &&
    openssl x509 -req -in "$t/csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial -CAserial "$t/srl" \
      -days 365 -sha256 -out "$t/c" -extfile "$t/ext" >/dev/null 2>&1 ) || { rm -rf "$t"; echo "up.sh: could not sign $n" >&2; return 1; }
  mv -f "$t/k" "$p/$n.key"; mv -f "$t/c" "$p/$n.crt"; printf '%s' "$4" >"$p/$n.ext"; rm -rf "$t"
}

# rn_pki DIR NODE NODE_IP: kubelet client + serving certs, kube-proxy's client
# cert, and the API server's client cert for the kubelets.
rn_pki() {
  local p="$1/pki" n=$2 ip=$3 cli='keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n'
  rn_leaf "$p" "kubelet-$n" "/O=system:nodes/CN=system:node:$n" "$cli"
  rn_leaf "$p" "kubelet-$n-serving" "/CN=$n" "subjectAltName=DNS:$n,IP:$ip\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
  rn_leaf "$p" kube-proxy "/CN=system:kube-proxy" "$cli"
  rn_leaf "$p" apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "$cli"
}

rn_kubeconfig() { # rn_kubeconfig FILE SERVER PKI CERTNAME
  local tmp; tmp=$(mktemp "$1.tmp.XXXXXX")
  cat >"$tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: sector7-sim
  cluster: {server: $2, certificate-authority: $3/ca.crt}
users:
- name: $4
  user: {client-certificate: $3/$4.crt, client-key: $3/$4.key}
contexts:
- name: sector7-sim
  context: {cluster: sector7-sim, user: $4}
current-context: sector7-sim
EOF
  chmod 600 "$tmp"; mv -f "$tmp" "$1"
}

# ---- cgroups (v1 and v2) ---------------------------------------------------------------------
rn_cgroup_dirs() { # every hierarchy's directory of the kubelet's cgroup root
  local d
  for d in /sys/fs/cgroup/*/"$RN_CGROUP" /sys/fs/cgroup/"$RN_CGROUP"; do [ -d "$d" ] && echo "$d"; done
  return 0
}

rn_cgroup_make() {
  local h
  for h in /sys/fs/cgroup/*/; do
    [ -f "$h/cgroup.procs" ] || continue
    mkdir -p "$h$RN_CGROUP"
    if [ -f "$h/cpuset.cpus" ]; then
      [ -n "$(cat "$h$RN_CGROUP/cpuset.cpus")" ] || cat "$h/cpuset.cpus" >"$h$RN_CGROUP/cpuset.cpus"
      [ -n "$(cat "$h$RN_CGROUP/cpuset.mems")" ] || cat "$h/cpuset.mems" >"$h$RN_CGROUP/cpuset.mems"
    fi
  done
}

rn_cgroup_pids() { local d; for d in $(rn_cgroup_dirs); do find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null; done | sort -un; }

# rn_kill_pods: SIGKILL every process in the pods' cgroups (frozen first so
# nothing forks away), wait until they are gone, remove the cgroups.
rn_kill_pods() {
  local fz=/sys/fs/cgroup/freezer/$RN_CGROUP pids i
  pids=$(rn_cgroup_pids)
  if [ -n "$pids" ]; then
    [ -f "$fz/freezer.state" ] && echo FROZEN >"$fz/freezer.state" 2>/dev/null
    for i in $(seq 3); do
      pids=$(rn_cgroup_pids); [ -n "$pids" ] || break
      # shellcheck disable=SC2086
      kill -KILL $pids 2>/dev/null || true
    done
    [ -f "$fz/freezer.state" ] && echo THAWED >"$fz/freezer.state" 2>/dev/null
    for i in $(seq 100); do [ -z "$(rn_cgroup_pids)" ] && break; sleep 0.1; done
  fi
  [ -z "$(rn_cgroup_pids)" ] || { echo "realnode: processes left in the pods' cgroups: $(rn_cgroup_pids | tr '\n' ' ')" >&2; return 1; }
  local d
  for d in $(rn_cgroup_dirs); do find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true; done
}

# rn_shims DIR: PIDs of containerd shims serving DIR's containerd (their command
# line names its socket).
rn_shims() {
  local p
  for p in /proc/[0-9]*; do
    case "$(readlink "$p/exe" 2>/dev/null)" in */containerd-shim*) ;; *) continue ;; esac
    tr '\0' '\n' <"$p/cmdline" 2>/dev/null | grep -qxF -- "$1/containerd/containerd.sock" && echo "${p#/proc/}"
  done
  return 0
}

rn_umount_all() { # every mount under DIR (deepest first)
  local dir=$1 m i
  for i in 1 2 3; do
    m=$(awk -v d="$dir/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r)
    [ -n "$m" ] || return 0
    for x in $m; do umount "$x" 2>/dev/null || umount -l "$x" 2>/dev/null || true; done
  done
  m=$(awk -v d="$dir/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo)
  [ -z "$m" ] || { echo "realnode: still mounted: $m" >&2; return 1; }
}

# rn_node_down DIR: kubelet and containerd stopped (by PID), every pod
# process killed, every shim gone, nothing mounted under DIR. Volume data
# (DIR/kubelet, DIR/storage) and images (DIR/containerd/root) stay.
rn_node_down() {
  local dir=$1 c pid s rc=0
  for c in kubelet containerd; do
    pid=$(pid_of "$dir" "$c") || continue
    kill -TERM "$pid" 2>/dev/null || true
    for s in $(seq 150); do is_ours "$dir" "$pid" || break; sleep 0.1; done
    is_ours "$dir" "$pid" && kill -KILL "$pid" 2>/dev/null
    for s in $(seq 50); do is_ours "$dir" "$pid" || break; sleep 0.1; done
  done
  rn_kill_pods || rc=1
  for pid in $(rn_shims "$dir"); do kill -KILL "$pid" 2>/dev/null || true; done
  for s in $(seq 50); do [ -z "$(rn_shims "$dir")" ] && break; sleep 0.1; done
  [ -z "$(rn_shims "$dir")" ] || { echo "realnode: shims left: $(rn_shims "$dir")" >&2; rc=1; }
  rn_umount_all "$dir" || rc=1
  # the kubelet's links to container logs (its log directory is fixed)
  find /var/log/containers -maxdepth 1 -type l -lname "$dir/*" -delete 2>/dev/null || true
  return $rc
}

# rn_teardown DIR: after stop_all; everything the real node left behind.
rn_teardown() {
  local dir=$1 rc=0
  [ -f "$dir/realnode/active" ] || return 0
  rn_node_down "$dir" || rc=1
  (
    flock -w 60 8 || true
    rn_net_down "$dir"
  ) 8>"$RN_LOCK"
  [ "$rc" = 0 ] || { echo "realnode: teardown incomplete; run down.sh $dir again" >&2; return 1; }
  rm -rf "$dir/containerd/state" "$dir/cni/ipam"
  rm -f "$dir/realnode/active"
}

# ---- configuration -----------------------------------------------------------------------------
# rn_configure DIR NODE NODE_IP PODS APISERVER_PORT: containerd, CNI, kubelet,
# kube-proxy, CoreDNS configuration under DIR/realnode.
rn_configure() {
  local dir=$1 n=$2 ip=$3 pods=$4 port=$5 R="$1/realnode" P="$1/pki"
  mkdir -p "$R" "$dir/containerd/certs.d" "$dir/cni/net.d" "$dir/cni/ipam" "$dir/kubelet" "$dir/pod-logs" "$dir/storage"
  chmod 700 "$dir/containerd"
  cat >"$R/containerd.toml" <<EOF
version = 2
root = "$dir/containerd/root"
state = "$dir/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$dir/containerd/containerd.sock"
[ttrpc]
  address = "$dir/containerd/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "sector7.invalid/pause:1"
  restrict_oom_score_adj = true
  disable_apparmor = true
  disable_hugetlb_controller = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "/usr/sbin/runc"
        Root = "$dir/containerd/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$dir/cni/net.d"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$dir/containerd/certs.d"
EOF
  cat >"$dir/cni/net.d/10-sector7.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "$RN_CNI_NET",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$RN_BR",
      "isGateway": false,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$dir/cni/ipam",
        "ranges": [[{"subnet": "$RN_PODS", "rangeStart": "10.77.128.2", "rangeEnd": "10.77.255.254", "gateway": "$RN_PODS_GW"}]],
        "routes": [{"dst": "$RN_NET", "gw": "$RN_PODS_GW"}, {"dst": "$RN_SVC", "gw": "$RN_PODS_GW"}]
      }
    },
    {"type": "loopback"}
  ]
}
EOF
  local server="https://127.0.0.1:$port"
  rn_kubeconfig "$R/kubelet.kubeconfig" "$server" "$P" "kubelet-$n"
  rn_kubeconfig "$R/kube-proxy.kubeconfig" "$server" "$P" kube-proxy
  cat >"$R/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $ip
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $RN_KUBELET_HEALTH_PORT
tlsCertFile: $P/kubelet-$n-serving.crt
tlsPrivateKeyFile: $P/kubelet-$n-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $P/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://$dir/containerd/containerd.sock
cgroupDriver: cgroupfs
cgroupRoot: /$RN_CGROUP
failCgroupV1: false
failSwapOn: false
oomScoreAdj: 0
makeIPTablesUtilChains: false
clusterDomain: cluster.local
clusterDNS: [$RN_DNS]
resolvConf: ""
podLogsDir: $dir/pod-logs
maxPods: $pods
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
serializeImagePulls: false
rotateCertificates: false
serverTLSBootstrap: false
registerNode: true
EOF
  cat >"$R/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $R/kube-proxy.kubeconfig}
hostnameOverride: $n
mode: iptables
clusterCIDR: $RN_PODS
nodePortAddresses: [$RN_LAN]
healthzBindAddress: 127.0.0.1:$RN_PROXY_HEALTH_PORT
metricsBindAddress: 127.0.0.1:$RN_PROXY_METRICS_PORT
oomScoreAdj: 0
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {localhostNodePorts: false, masqueradeAll: false, syncPeriod: 30s, minSyncPeriod: 0s}
EOF
  cat >"$R/Corefile" <<EOF
cluster.local:$RN_DNS_PORT in-addr.arpa:$RN_DNS_PORT ip6.arpa:$RN_DNS_PORT {
    bind $RN_HOST
    errors
    health 127.0.0.1:$RN_DNS_HEALTH_PORT
    ready 127.0.0.1:$RN_DNS_READY_PORT
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $P/admin.kubeconfig
        pods insecure
        ttl 30
    }
    cache 30
}
.:$RN_DNS_PORT {
    bind $RN_HOST
    errors
    template ANY ANY {
        rcode NXDOMAIN
    }
}
EOF
}

# ---- images ----------------------------------------------------------------------------------------
CTR() { ctr --address "$DIR/containerd/containerd.sock" -n k8s.io "$@"; }

# rn_import FILE: import one OCI image-layout tarball; every name its
# index.json gives (org.opencontainers.image.ref.name; a tag-only name gets the
# file's base name as repository; an index without names is kept whole under
# the file's base name) ends up in its normalized form (docker.io/library/...),
# the form the kubelet asks for.
rn_import() {
  local f=$1 plan base="" index="" refs
  plan=$(tar -xOf "$f" index.json 2>/dev/null | python3 -c '
import json, sys, os
stem = os.path.basename(sys.argv[1])
for ext in (".tar", ".oci"):
    if stem.endswith(ext): stem = stem[: -len(ext)]
def norm(r):
    name, sep, dig = r.partition("@")
    first = name.split("/")[0]
    if "/" not in name or ("." not in first and ":" not in first and first != "localhost"):
        name = ("docker.io/library/" if "/" not in name else "docker.io/") + name
    if not dig and ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    return name + sep + dig
try:
    idx = json.load(sys.stdin)
except Exception:
    sys.exit(1)
refs = [m.get("annotations", {}).get("org.opencontainers.image.ref.name") for m in idx.get("manifests", [])]
named = [r for r in refs if r]
if not named:
    print("index", norm(stem))
for r in named:
    if any(c in r for c in "/:@"):
        print("full", r, norm(r))
    else:
        print("tag", norm(stem).rsplit(":", 1)[0], norm(stem).rsplit(":", 1)[0] + ":" + r)
' "$f") || { echo "up.sh: $f is not an OCI image-layout tarball (no index.json)" >&2; return 1; }
  local kind a b
  while read -r kind a b; do
    case "$kind" in
      index) CTR images import --index-name "$a" "$f" >/dev/null || return 1 ;;
      full) CTR images import "$f" >/dev/null || return 1
            [ "$a" = "$b" ] || CTR images tag --force "$a" "$b" >/dev/null || return 1 ;;
      tag) CTR images import --base-name "$a" "$f" >/dev/null || return 1 ;;
    esac
  done <<<"$(echo "$plan" | sort -u)"
  # names ctr gave besides the ones wanted (a full name without a domain, import-DATE:*)
  { CTR images ls -q | grep -E '^import-[0-9-]+[:@]' || true; } | while read -r x; do CTR images rm "$x" >/dev/null 2>&1 || true; done
  echo "$plan" | awk '{print $NF}'
}

# rn_import_dir DIR IMAGES_DIR...: every *.tar found (recursively), skipping
# files imported before with the same size and mtime.
rn_import_all() {
  local dir=$1 f key seen="$dir/realnode/imported" n=0 t0; shift
  touch "$seen"
  t0=$(date +%s.%N)
  for f in "$@"; do
    [ -f "$f" ] || continue
    key="$(stat -c '%s %Y' "$f") $f"
    if grep -qxF -- "$key" "$seen" && CTR images ls -q | grep -qxF -- "$(grep -F -- " $f" "$seen.names" 2>/dev/null | head -1 | cut -d' ' -f1)"; then
      continue
    fi
    local names; names=$(rn_import "$f") || { echo "up.sh: importing $f failed" >&2; return 1; }
    { grep -vF -- " $f" "$seen" 2>/dev/null || true; echo "$key"; } >"$seen.tmp"; mv -f "$seen.tmp" "$seen"
    { grep -vF -- " $f" "$seen.names" 2>/dev/null || true; for x in $names; do echo "$x $f"; done; } >"$seen.names.tmp"; mv -f "$seen.names.tmp" "$seen.names"
    n=$((n+1))
  done
  [ "$n" = 0 ] || rn_log "imported $n image archive(s) in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s"
}

# ---- start -----------------------------------------------------------------------------------------------
# rn_node_up DIR NODE NODE_IP: containerd, images, kubelet; waits for the node
# to be Ready. (Also used by restart.sh.)
rn_node_up() {
  local dir=$1 n=$2 ip=$3 R="$1/realnode"
  rn_cgroup_make
  mkdir -p "$dir/containerd/state"
  # Nothing is ever pulled: every registry request goes to a proxy address
  # where nothing listens, so no name is even looked up.
  start containerd "$dir" env HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY= \
    http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 no_proxy= \
    /usr/bin/containerd --config "$R/containerd.toml"
  wait_for "containerd" 60 containerd CTR version
  local imgs; imgs=$(cat "$R/images.dirs" 2>/dev/null || true)
  local files=("$RN_IMAGES/pause.tar" "$RN_IMAGES/busybox.tar")
  if [ -n "$imgs" ]; then
    while IFS= read -r f; do files+=("$f"); done < <(find "$imgs" -name '*.tar' -type f 2>/dev/null | sort)
  fi
  rn_import_all "$dir" "${files[@]}"
  start kubelet "$dir" "$BIN/kubelet" --config="$R/kubelet.yaml" --kubeconfig="$R/kubelet.kubeconfig" \
    --root-dir="$dir/kubelet" --hostname-override="$n" --node-ip="$ip" --v=1
  wait_for "kubelet /healthz" 60 kubelet curl -fsS "http://127.0.0.1:$RN_KUBELET_HEALTH_PORT/healthz"
}
