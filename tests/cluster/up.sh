#!/usr/bin/env bash
# Start the simulated cluster: a real etcd, kube-apiserver, kube-controller-manager
# and kube-scheduler on 127.0.0.1, with kwok playing the nodes.
#
#   up.sh DIR [--nodes SPEC] [--addons LIST] [--real-node] [--images DIR] [--fresh] [--timeout SECONDS]
#
# DIR holds all state (pki/, etcd/, logs/, run/*.pid, ports.env). When the
# cluster is ready, DIR/kubeconfig appears (written to a temp file, then renamed);
# it never exists for a cluster that is not up. Ports are free ports picked at
# start (see DIR/ports.env). Stop with down.sh DIR.
#
# --nodes SPEC   comma-separated nodes, each NAME[:ATTR]...; ATTR is one of
#                cp (control-plane role), gpu=N (nvidia.com/gpu), cpu=N, memory=Q,
#                pods=N, ip=A.B.C.D, label=K=V, real (a real kubelet: see
#                --real-node). Default:
#                aurora:cp:cpu=8:memory=32Gi:gpu=1,optiplex:cpu=4:memory=16Gi
#                (with --real-node: aurora:cp:cpu=8:memory=32Gi:gpu=1,optiplex:real)
# --addons LIST  comma-separated real add-on controllers to run out of cluster:
#                metallb, cert-manager, local-path (see addons/README.md),
#                k3s: what k3s installs itself, with a simulated
#                helm-controller; longhorn: Longhorn's StorageClass
#                (simulated) with local-path-provisioner as its provisioner;
#                cnpg: CloudNativePG Cluster status (simulated).  See sim/.
# --real-node    one node (the one marked `real`) is a real kubelet with
#                containerd, CNI bridge s7br0 (10.77.0.0/16), kube-proxy, CoreDNS
#                and kube-router's NetworkPolicy controller; needs root. See
#                realnode/README.md. Implied by a node marked `real`.
# --images DIR   (with --real-node) import every OCI archive (*.tar) under DIR
#                into the node's containerd; nothing is ever pulled.
# --fresh        wipe DIR's cluster state first (etcd data, certificates).
#
# Starting a running cluster is a no-op. A start that fails stops whatever it
# started, so nothing is left running and no kubeconfig is left behind.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
usage() { sed -n '5,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

DIR=""; NODES=""
ADDONS=""; FRESH=0; TIMEOUT=${SECTOR7_CLUSTER_TIMEOUT:-180}; REAL=0; IMAGES=""
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) NODES=${2:?--nodes needs a value}; shift 2 ;;
    --nodes=*) NODES=${1#*=}; shift ;;
    --real-node) REAL=1; shift ;;
    --images) IMAGES=${2:?--images needs a directory}; shift 2 ;;
    --images=*) IMAGES=${1#*=}; shift ;;
    --addons) ADDONS=${2?--addons needs a value}; shift 2 ;;
    --addons=*) ADDONS=${1#*=}; shift ;;
    --fresh) FRESH=1; shift ;;
    --timeout) TIMEOUT=${2:?}; shift 2 ;;
    -h|--help) usage ;;
    -*) echo "up.sh: unknown option $1" >&2; usage ;;
    *) [ -z "$DIR" ] || usage; DIR=$1; shift ;;
  esac
done
[ -n "$DIR" ] || usage
mkdir -p "$DIR"; DIR=$(cd "$DIR" && pwd)

. "$HERE/lib.sh"

log() { echo "up.sh: $*" >&2; }

case ":$NODES," in *:real:*|*:real,*) REAL=1 ;; esac
if [ "$REAL" = 1 ]; then
  . "$HERE/realnode/node.sh"
  [ -n "$NODES" ] || NODES="aurora:cp:cpu=8:memory=32Gi:gpu=1,optiplex:real"
  NODE_IP_BASE=10.77.0
  RN_LIST=$(rn_nodes "$NODES") || exit 2
  read -r RN_NAME RN_IP _ RN_CP RN_PODS_MAX RN_LABELS <<<"$(awk '$3 == 1' <<<"$RN_LIST")"
  if [ -n "$IMAGES" ]; then
    [ -d "$IMAGES" ] || { echo "up.sh: --images $IMAGES is not a directory" >&2; exit 2; }
    IMAGES=$(cd "$IMAGES" && pwd)
  fi
  [ "$(id -u)" = 0 ] || { echo "up.sh: --real-node needs root" >&2; exit 2; }
else
  [ -z "$IMAGES" ] || { echo "up.sh: --images needs --real-node" >&2; exit 2; }
  [ -n "$NODES" ] || NODES="aurora:cp:cpu=8:memory=32Gi:gpu=1,optiplex:cpu=4:memory=16Gi"
fi
node_manifests "$NODES" v0 >/dev/null || exit 2   # validate --nodes before anything starts
case ",$ADDONS," in *[!a-z0-9,-]*) echo "up.sh: bad --addons '$ADDONS'" >&2; exit 2 ;; esac
for a in ${ADDONS//,/ }; do
  case "$a" in metallb|cert-manager|local-path|k3s|longhorn|cnpg) ;; *) echo "up.sh: unknown add-on '$a' (metallb, cert-manager, local-path, k3s, longhorn, cnpg)" >&2; exit 2 ;; esac
done

exec 9>"$DIR/.lock"
flock -w 600 9 || { log "could not lock $DIR/.lock"; exit 1; }

# ---- already running? ---------------------------------------------------------
# (the same mode only: a cluster with a real node has DIR/realnode/active)
same_mode() { [ -f "$DIR/realnode/active" ] && [ "$REAL" = 1 ] || { [ ! -f "$DIR/realnode/active" ] && [ "$REAL" = 0 ]; }; }
if [ -f "$DIR/kubeconfig" ] && all_running "$DIR" && apiserver_ready "$DIR" && same_mode; then
  log "already running ($(echo $(components "$DIR"))); kubeconfig: $DIR/kubeconfig"
  echo "$DIR/kubeconfig"
  exit 0
fi
if any_running "$DIR"; then
  log "found a partly running cluster in $DIR (or one of the other mode): stopping it first"
  stop_all "$DIR"
fi
teardown_realnode "$DIR"   # what a killed start may have left (bridge, mounts, rules)
rm -f "$DIR/kubeconfig"

if [ "$REAL" = 1 ]; then
  rn_deps
  BIN=$("$HERE/build.sh" --real-node)
  { read -r RN_COREDNS; read -r RN_KUBE_ROUTER; } < <("$HERE/realnode/build.sh" coredns kube-router)
  [ -x "$RN_COREDNS" ] && [ -x "$RN_KUBE_ROUTER" ] || { log "realnode/build.sh failed"; exit 1; }
  RN_IMAGES=$("$HERE/realnode/image/build.sh")
  ( flock -w 60 8 || exit 1; rn_claim "$DIR" ) 8>"$RN_LOCK" || exit 1
else
  BIN=$("$HERE/build.sh")
fi
[ -x "$BIN/kube-apiserver" ] || { log "no binaries in $BIN"; exit 1; }

if [ "$FRESH" = 1 ]; then
  rm -rf "$DIR/etcd" "$DIR/pki" "$DIR/addons"
fi
mkdir -p "$DIR/logs" "$DIR/run" "$DIR/pki" "$DIR/etcd"
chmod 700 "$DIR/pki" "$DIR/etcd"
rm -f "$DIR"/run/*.pid "$DIR/run/components" "$DIR"/run/*.waiting
for f in "$DIR"/logs/*.log; do [ -f "$f" ] && mv -f "$f" "$f.prev"; done   # one start per log

T0=$(date +%s.%N)
OK=0
cleanup() {
  local rc=$?
  if [ "$OK" != 1 ]; then
    log "start failed (exit $rc); stopping what was started. Logs: $DIR/logs/"
    for f in "$DIR"/logs/*.log; do
      [ -f "$f" ] || continue; echo "---- tail $f" >&2; tail -n 15 "$f" >&2 || true
    done
    rm -f "$DIR/kubeconfig" "$DIR"/kubeconfig.tmp.*
    stop_all "$DIR" || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# ---- ports ----------------------------------------------------------------------
# Free ports are picked in 20000-32000 (below the ephemeral range), all on 127.0.0.1.
pick_ports $(( REAL ? 12 : 5 ))
ETCD_PORT=${PORTS[0]} ETCD_PEER_PORT=${PORTS[1]} APISERVER_PORT=${PORTS[2]}
KCM_PORT=${PORTS[3]} SCHED_PORT=${PORTS[4]}
cat >"$DIR/ports.env" <<EOF
ETCD_PORT=$ETCD_PORT
ETCD_PEER_PORT=$ETCD_PEER_PORT
APISERVER_PORT=$APISERVER_PORT
KCM_PORT=$KCM_PORT
SCHED_PORT=$SCHED_PORT
EOF
if [ "$REAL" = 1 ]; then
  RN_KUBELET_HEALTH_PORT=${PORTS[5]} RN_PROXY_HEALTH_PORT=${PORTS[6]} RN_PROXY_METRICS_PORT=${PORTS[7]}
  RN_DNS_PORT=${PORTS[8]} RN_DNS_HEALTH_PORT=${PORTS[9]} RN_DNS_READY_PORT=${PORTS[10]}
  RN_API_PORT=${PORTS[11]}
  cat >>"$DIR/ports.env" <<EOF
RN_API_PORT=$RN_API_PORT
RN_KUBELET_HEALTH_PORT=$RN_KUBELET_HEALTH_PORT
RN_PROXY_HEALTH_PORT=$RN_PROXY_HEALTH_PORT
RN_PROXY_METRICS_PORT=$RN_PROXY_METRICS_PORT
RN_DNS_PORT=$RN_DNS_PORT
RN_DNS_HEALTH_PORT=$RN_DNS_HEALTH_PORT
RN_DNS_READY_PORT=$RN_DNS_READY_PORT
EOF
fi

# ---- certificates ---------------------------------------------------------------
P="$DIR/pki"
gen_pki "$P"
# A static bearer token (user "tester" in system:masters), for the tests of
# token, token-file and exec-plugin credentials.
if [ ! -s "$P/token" ]; then
  (umask 077; openssl rand -hex 32 >"$P/token")
  (umask 077; printf '%s,tester,tester,system:masters\n' "$(cat "$P/token")" >"$P/tokens.csv")
fi
write_kubeconfig "$P/admin.kubeconfig" "https://127.0.0.1:$APISERVER_PORT" "$P"
[ "$REAL" = 0 ] || rn_pki "$DIR" "$RN_NAME" "$RN_IP"

# Everything the apiserver would send towards the cluster (webhooks, aggregated
# APIs, pod/service/node proxy, logs/exec) goes through this egress selector to a
# unix socket nobody listens on: such calls fail at once and no packet leaves
# the host, whatever addresses the simulated pods, services and nodes carry.
# (Kubelet addresses prefer InternalIP: with Hostname first, node proxy would
# resolve the node name through the host's DNS before dialling.)
cat >"$DIR/egress-selector.yaml" <<EOF
apiVersion: apiserver.k8s.io/v1beta1
kind: EgressSelectorConfiguration
egressSelections:
- name: cluster
  connection:
    proxyProtocol: HTTPConnect
    transport:
      uds:
        udsName: $DIR/run/no-cluster-egress.sock
EOF
# With the real node, cluster egress is Direct (kubectl logs/exec/port-forward
# reach the kubelet): every address the API server can then dial for the
# cluster is on the bridge s7br0 or loopback (node IPs are checked above; pod
# IPs are in 10.77.0.0/16; ClusterIPs are routed onto the bridge; the
# bridge's guards drop anything DNAT'd elsewhere), and no name is resolved
# (InternalIP first; webhooks and aggregated APIs are dialled at ClusterIPs).
APISERVER_REAL=()
if [ "$REAL" = 1 ]; then
  cat >"$DIR/egress-selector.yaml" <<EOF
apiVersion: apiserver.k8s.io/v1beta1
kind: EgressSelectorConfiguration
egressSelections:
- name: cluster
  connection:
    proxyProtocol: Direct
EOF
  APISERVER_REAL=(--kubelet-client-certificate="$P/apiserver-kubelet-client.crt"
    --kubelet-client-key="$P/apiserver-kubelet-client.key" --kubelet-certificate-authority="$P/ca.crt")
fi

# ---- etcd ---------------------------------------------------------------------------
start etcd "$DIR" "$BIN/etcd" --name=sector7 --data-dir="$DIR/etcd" \
  --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster="sector7=http://127.0.0.1:$ETCD_PEER_PORT" \
  --unsafe-no-fsync=true --log-level=warn
wait_for "etcd" 60 etcd curl -fsS "http://127.0.0.1:$ETCD_PORT/health"

# ---- kube-apiserver -------------------------------------------------------------------
# ValidatingAdmissionWebhook/MutatingAdmissionWebhook are off: add-on webhook
# servers do not run here. --advertise-address is loopback (there may be no
# default route); loopback is not a valid Endpoints address, so the endpoint
# reconciler for default/kubernetes is off.
start apiserver "$DIR" "$BIN/kube-apiserver" \
  --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$APISERVER_PORT" \
  --endpoint-reconciler-type=none \
  --cert-dir="$DIR/run/apiserver-certs" \
  --tls-cert-file="$P/apiserver.crt" --tls-private-key-file="$P/apiserver.key" \
  --client-ca-file="$P/ca.crt" --token-auth-file="$P/tokens.csv" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$P/sa.pub" --service-account-signing-key-file="$P/sa.key" \
  --service-cluster-ip-range=10.43.0.0/16 \
  --authorization-mode=Node,RBAC --allow-privileged=true --anonymous-auth=false \
  --enable-admission-plugins=NodeRestriction \
  --disable-admission-plugins=ValidatingAdmissionWebhook,MutatingAdmissionWebhook \
  --egress-selector-config-file="$DIR/egress-selector.yaml" \
  --kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname \
  --proxy-client-cert-file="$P/admin.crt" --proxy-client-key-file="$P/admin.key" \
  --requestheader-client-ca-file="$P/ca.crt" --requestheader-allowed-names=sector7-admin \
  --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
  --requestheader-extra-headers-prefix=X-Remote-Extra- \
  --profiling=false "${APISERVER_REAL[@]}"
wait_for "kube-apiserver /readyz" "$TIMEOUT" apiserver apiserver_ready "$DIR"

# ---- controller-manager, scheduler --------------------------------------------------
K="$P/admin.kubeconfig"
start kcm "$DIR" "$BIN/kube-controller-manager" --kubeconfig="$K" \
  --authentication-kubeconfig="$K" --authorization-kubeconfig="$K" \
  --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --leader-elect=false \
  --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics \
  --root-ca-file="$P/ca.crt" --service-account-private-key-file="$P/sa.key" \
  --cluster-signing-cert-file="$P/ca.crt" --cluster-signing-key-file="$P/ca.key" \
  --cluster-cidr=10.42.0.0/16 --service-cluster-ip-range=10.43.0.0/16 \
  --use-service-account-credentials=false --profiling=false
start scheduler "$DIR" "$BIN/kube-scheduler" --kubeconfig="$K" \
  --authentication-kubeconfig="$K" --authorization-kubeconfig="$K" \
  --bind-address=127.0.0.1 --secure-port="$SCHED_PORT" --leader-elect=false \
  --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics --profiling=false
wait_for "kube-controller-manager /healthz" 60 kcm curl -fsSk "https://127.0.0.1:$KCM_PORT/healthz"
wait_for "kube-scheduler /healthz" 60 scheduler curl -fsSk "https://127.0.0.1:$SCHED_PORT/healthz"

# ---- kwok and the nodes -----------------------------------------------------------------
# No --server-address/--node-port: kwok serves nothing. Pod IPs come from the
# k3s default cluster CIDR.
KWOK_CIDR=10.42.0.0/16
[ "$REAL" = 0 ] || KWOK_CIDR=$RN_KWOK_PODS
start kwok "$DIR" "$BIN/kwok" --kubeconfig="$K" --config="$BIN/kwok-stages.yaml" --config="$HERE/kwok-extra-stages.yaml" \
  --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
  --cidr="$KWOK_CIDR" --node-lease-duration-seconds=40
KUBECTL=("$BIN/kubectl" --kubeconfig="$K")
K8S_VERSION=$(sed -n 's/^kubernetes //p' "$BIN/VERSIONS")
node_manifests "$NODES" "$K8S_VERSION" >"$DIR/nodes.yaml"
# Nodes keep their status on create (as a kubelet's do); an existing node is left alone.
if [ -s "$DIR/nodes.yaml" ]; then
  # DIR's etcd is kept: a node left from an earlier start with other
  # addresses (or one a real kubelet registered) is replaced
  while read -r n ip real _; do
    [ "$real" = 1 ] && continue
    a=$("${KUBECTL[@]}" get node "$n" -o jsonpath='{.metadata.annotations.kwok\.x-k8s\.io/node} {.status.addresses[?(@.type=="InternalIP")].address}' 2>/dev/null) || continue
    [ "$a" = "fake $ip" ] || "${KUBECTL[@]}" delete node "$n" >/dev/null
  done <<<"$(node_manifests "$NODES" v0 --list)"
  "${KUBECTL[@]}" create -f "$DIR/nodes.yaml" 2>&1 | grep -v AlreadyExists >&2 || true
fi
NODE_NAMES=$(node_names "$NODES")
if [ "$REAL" = 1 ]; then
  . "$HERE/realnode/up.sh"
fi
for n in $NODE_NAMES; do
  wait_for "node $n Ready" 60 kwok node_ready "$n"
done
wait_for "default ServiceAccount" 60 kcm "${KUBECTL[@]}" get serviceaccount default -n default -o name

# ---- add-ons ------------------------------------------------------------------------------
if [ -n "$ADDONS" ]; then
  . "$HERE/addons/addons.sh"
  start_addons "$DIR" "$ADDONS"
fi

# ---- done -------------------------------------------------------------------------------------
TMPK=$(mktemp "$DIR/kubeconfig.tmp.XXXXXX")
cp "$K" "$TMPK"; chmod 600 "$TMPK"; mv -f "$TMPK" "$DIR/kubeconfig"
OK=1
T1=$(date +%s.%N)
log "ready in $(awk -v a="$T0" -v b="$T1" 'BEGIN{printf "%.1f", b-a}')s: apiserver https://127.0.0.1:$APISERVER_PORT, nodes: $(echo $NODE_NAMES)"
log "export KUBECONFIG=$DIR/kubeconfig   # kubectl: $BIN/kubectl"
echo "$DIR/kubeconfig"
