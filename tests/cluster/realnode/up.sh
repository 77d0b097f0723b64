# Sourced by ../up.sh --real-node once the control plane and the kwok nodes are
# up: the bridge and its guards, containerd, the images, the kubelet of node
# RN_NAME, kube-proxy, CoreDNS (behind Service kube-system/kube-dns
# 10.43.0.10) and kube-router's network policy controller. Everything is a
# component of the cluster (DIR/run/NAME.pid); stop_all and down.sh tear the
# rest down (rn_teardown). Writes DIR/realnode.env.

mkdir -p "$DIR/realnode"
touch "$DIR/realnode/active"     # from here on, a failed start tears the node down too
printf '%s\n' "$IMAGES" >"$DIR/realnode/images.dirs"
echo "$RN_IMAGES" >"$DIR/realnode/images.own"

# every node address inside the bridge's range is a local address on it: the
# API server's dials to kwok nodes are refused at once
RN_ADDRS=()
while read -r _n _ip _rest; do rn_ip_ok "$_ip" && RN_ADDRS+=("$_ip"); done <<<"$RN_LIST"
( flock -w 60 8 || exit 1; rn_claim "$DIR" && rn_net_up "$DIR" "$RN_IP" "${RN_ADDRS[@]}" ) 8>"$RN_LOCK"
# the kwok node of that name from an earlier start without --real-node goes
if [ "$("${KUBECTL[@]}" get node "$RN_NAME" -o jsonpath='{.metadata.annotations.kwok\.x-k8s\.io/node}' 2>/dev/null)" = fake ]; then
  "${KUBECTL[@]}" delete node "$RN_NAME" >/dev/null
fi
# Cluster egress is Direct: no node may carry an address off the bridge
for _ip in $("${KUBECTL[@]}" get nodes -o jsonpath='{range .items[*]}{.status.addresses[?(@.type=="InternalIP")].address}{"\n"}{end}'); do
  rn_ip_ok "$_ip" || case "$_ip" in 127.*) ;; *) echo "up.sh: a node has the InternalIP $_ip, off the bridge: refusing to go on" >&2; exit 1 ;; esac
done
rn_configure "$DIR" "$RN_NAME" "$RN_IP" "$RN_PODS_MAX" "$APISERVER_PORT"
RN_T0=$(date +%s.%N)
# ---- cluster DNS ----------------------------------------------------------------------
"${KUBECTL[@]}" apply --server-side --force-conflicts --field-manager=sector7-sim -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: {k8s-app: kube-dns, kubernetes.io/name: CoreDNS}
spec:
  clusterIP: $RN_DNS
  ports:
  - {name: dns, port: 53, protocol: UDP, targetPort: $RN_DNS_PORT}
  - {name: dns-tcp, port: 53, protocol: TCP, targetPort: $RN_DNS_PORT}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kube-dns-host
  namespace: kube-system
  labels: {kubernetes.io/service-name: kube-dns, endpointslice.kubernetes.io/managed-by: sector7-sim}
addressType: IPv4
ports:
- {name: dns, port: $RN_DNS_PORT, protocol: UDP}
- {name: dns-tcp, port: $RN_DNS_PORT, protocol: TCP}
endpoints:
- addresses: [$RN_HOST]
  conditions: {ready: true}
EOF
start coredns "$DIR" "$RN_COREDNS" -conf "$DIR/realnode/Corefile"

# ---- the API server, for pods ------------------------------------------------------------
# The API server listens on 127.0.0.1 only.  Pods reach it as k3s's do, as
# the Service default/kubernetes (10.43.0.1:443, in the serving
# certificate): its endpoint is a forwarder on the host's bridge address,
# the one address and port of the host the guards let pods reach besides
# the kubelet's.
start apiserver-proxy "$DIR" socat "TCP-LISTEN:$RN_API_PORT,bind=$RN_HOST,fork,reuseaddr" \
  "TCP:127.0.0.1:$APISERVER_PORT"
"${IPT[@]}" -t mangle -I SECTOR7-RN-IN 3 -d "$RN_HOST/32" -p tcp --dport "$RN_API_PORT" -j RETURN
"${KUBECTL[@]}" apply --server-side --force-conflicts --field-manager=sector7-sim -f - >/dev/null <<EOF
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kubernetes-host
  namespace: default
  labels: {kubernetes.io/service-name: kubernetes, endpointslice.kubernetes.io/managed-by: sector7-sim}
addressType: IPv4
ports:
- {name: https, port: $RN_API_PORT, protocol: TCP}
endpoints:
- addresses: [$RN_HOST]
  conditions: {ready: true}
EOF

rn_node_up "$DIR" "$RN_NAME" "$RN_IP"
# kube-proxy waits for its node by itself
start kube-proxy "$DIR" "$BIN/kube-proxy" --config="$DIR/realnode/kube-proxy.yaml"


# roles and labels the kubelet may not set on itself
wait_for "node $RN_NAME registered" 60 kubelet "${KUBECTL[@]}" get node "$RN_NAME" -o name
RN_L=(sector7.dev/real-node=true)
[ "$RN_CP" = 1 ] && RN_L+=(node-role.kubernetes.io/control-plane=true node-role.kubernetes.io/master=true)
[ "$RN_LABELS" = - ] || RN_L+=(${RN_LABELS//,/ })
"${KUBECTL[@]}" label node "$RN_NAME" --overwrite "${RN_L[@]}" >/dev/null

# ---- NetworkPolicy ----------------------------------------------------------------------
start kube-router "$DIR" "$RN_KUBE_ROUTER" --kubeconfig="$DIR/pki/admin.kubeconfig" \
  --hostname-override="$RN_NAME" --service-cluster-ip-range="$RN_SVC" --iptables-sync-period=1m
wait_for "CoreDNS /ready" 60 coredns curl -fsS "http://127.0.0.1:$RN_DNS_READY_PORT/ready"
wait_for "kube-proxy /healthz" 60 kube-proxy curl -fsS "http://127.0.0.1:$RN_PROXY_HEALTH_PORT/healthz"
wait_for "kube-router's KUBE-ROUTER-FORWARD chain" 60 kube-router iptables -w 5 -S KUBE-ROUTER-FORWARD

wait_for "node $RN_NAME Ready" 60 kubelet node_ready "$RN_NAME"
rn_log "node $RN_NAME ready in $(awk -v a="$RN_T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s (containerd, images, kubelet, kube-proxy, CoreDNS, kube-router)"

RN_TMP=$(mktemp "$DIR/realnode.env.tmp.XXXXXX")
cat >"$RN_TMP" <<EOF
# The real node of the cluster in $DIR (tests/cluster/realnode/README.md)
REALNODE_NAME=$RN_NAME
REALNODE_IP=$RN_IP
REALNODE_BRIDGE=$RN_BR
REALNODE_BRIDGE_NET=$RN_NET
REALNODE_SITE_NET=$RN_LAN
REALNODE_HOST_IP=$RN_HOST
REALNODE_POD_NET=$RN_PODS
REALNODE_KWOK_POD_NET=$RN_KWOK_PODS
REALNODE_SERVICE_NET=$RN_SVC
REALNODE_DNS_IP=$RN_DNS
REALNODE_CONTAINERD_SOCK=$DIR/containerd/containerd.sock
REALNODE_STORAGE=$DIR/storage
REALNODE_IMAGES=${IMAGES}
EOF
mv -f "$RN_TMP" "$DIR/realnode.env"
