#!/usr/bin/env bash
# Smoke test of the real node of a cluster started with
#   up.sh DIR --real-node --addons metallb,local-path
# Runs real containers (busybox from realnode/image) on the real node and
# checks: node Ready; a Deployment Ready on an httpGet probe; a failing
# liveness probe restarts its container; the memory limit in the cgroup;
# kubectl logs/exec/port-forward; a ClusterIP and cluster DNS from a pod,
# NXDOMAIN for other names; the LoadBalancer address (MetalLB's controller,
# pool inside the bridge) from the host; NetworkPolicy deny and allow; no
# default route in pods, an off-bridge address unreachable; nothing pulled;
# a local-path PVC binds and keeps its data across realnode/restart.sh.
# Also prints figures (pod create->Ready, RSS of the node's daemons).
#
#   realnode/smoke.sh DIR        "N passed, N failed" last; exit 1 if any failed
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=${1:?usage: smoke.sh DIR}
DIR=$(cd "$DIR" && pwd)
. "$HERE/../lib.sh"
UPSTREAM=$(upstream_dir)
BIN=$("$HERE/../build.sh" --real-node) || exit 1
export KUBECONFIG="$DIR/kubeconfig"
[ -f "$KUBECONFIG" ] && [ -f "$DIR/realnode.env" ] || { echo "smoke.sh: no cluster with a real node in $DIR (up.sh DIR --real-node)" >&2; exit 1; }
. "$DIR/realnode.env"
N=$REALNODE_NAME
K() { "$BIN/kubectl" "$@"; }
PASS=0 FAIL=0
check() { # check NAME CMD...
  local name=$1; shift
  if out=$("$@" 2>&1); then PASS=$((PASS+1)); echo "ok   $name"
  else FAIL=$((FAIL+1)); echo "FAIL $name"; echo "$out" | tail -n 8 | sed 's/^/     /'; fi
}
info() { echo "info $*"; }
retry() { # retry SECONDS CMD...: until CMD succeeds
  local end=$(( $(date +%s) + $1 )); shift
  until "$@"; do [ "$(date +%s)" -lt "$end" ] || return 1; sleep 0.5; done
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }

NS=rn-smoke-$$
K create namespace "$NS" >/dev/null
cleanup() { K delete namespace "$NS" --wait=false >/dev/null 2>&1 || true; [ -n "${PF:-}" ] && kill "$PF" 2>/dev/null; }
trap cleanup EXIT
KN() { K -n "$NS" "$@"; }
EX() { KN exec "$@"; }

# ---- node ------------------------------------------------------------------------------
node_ok() {
  local s; s=$(K get node "$N" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status} {.status.nodeInfo.kubeletVersion} {.status.nodeInfo.containerRuntimeVersion} {.status.addresses[?(@.type=="InternalIP")].address}')
  echo "$s"; case "$s" in "True v1.36."*" containerd://"*" $REALNODE_IP") ;; *) return 1 ;; esac
}
check "node $N Ready (kubelet v1.36, containerd, InternalIP $REALNODE_IP)" node_ok

# ---- workloads ------------------------------------------------------------------------------
T0=$(now)
KN apply -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      nodeSelector: {kubernetes.io/hostname: $N}
      containers:
      - name: web
        image: busybox
        imagePullPolicy: Never
        command: [sh, -c, 'mkdir -p /www && echo "hello from \$(hostname)" >/www/index.html && echo started web && exec httpd -f -p 8080 -h /www']
        ports: [{containerPort: 8080}]
        readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
        resources: {limits: {memory: 64Mi}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Pod
metadata: {name: liveness}
spec:
  nodeName: $N
  containers:
  - name: c
    image: busybox
    imagePullPolicy: Never
    command: [sh, -c, 'touch /tmp/alive; sleep 4; rm /tmp/alive; sleep 3600']
    livenessProbe: {exec: {command: [test, -f, /tmp/alive]}, periodSeconds: 1, failureThreshold: 1}
---
apiVersion: v1
kind: Pod
metadata: {name: client, labels: {access: allowed}}
spec:
  nodeName: $N
  terminationGracePeriodSeconds: 1
  containers: [{name: c, image: busybox, imagePullPolicy: Never, command: [sleep, "3600"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: stranger}
spec:
  nodeName: $N
  terminationGracePeriodSeconds: 1
  containers: [{name: c, image: busybox, imagePullPolicy: Never, command: [sleep, "3600"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: absent-image}
spec:
  nodeName: $N
  containers: [{name: c, image: sector7.invalid/absent:1, imagePullPolicy: Always}]
EOF
check "Deployment web rolls out on $N, Ready on its httpGet probe" KN rollout status deploy/web --timeout=60s
info "pod create -> Ready (Deployment web, first of the run): $(since "$T0")s"
WEB=$(KN get pods -l app=web -o jsonpath='{.items[0].metadata.name}')
check "pods client and stranger Running" KN wait --for=condition=Ready pod/client pod/stranger --timeout=60s

restarted() { [ "$(KN get pod liveness -o jsonpath='{.status.containerStatuses[0].restartCount}')" -ge 1 ]; }
check "a failing liveness probe restarts the container" retry 40 restarted

mem_limit() {
  local uid f v
  uid=$(KN get pod "$WEB" -o jsonpath='{.metadata.uid}')
  v=$(EX "$WEB" -- cat /sys/fs/cgroup/memory/memory.limit_in_bytes); echo "in the container: $v"
  [ "$v" = 67108864 ] || return 1
  f=$(find /sys/fs/cgroup/memory/sector7-realnode -type d -name "pod$uid" | head -1)/memory.limit_in_bytes
  echo "$f: $(cat "$f")"; [ "$(cat "$f")" = 67108864 ]
}
check "memory limit 64Mi lands in the pod's memory cgroup" mem_limit

check "kubectl logs" sh -c "'$BIN/kubectl' -n $NS logs $WEB | grep -qx 'started web'"
check "kubectl exec" sh -c "'$BIN/kubectl' -n $NS exec $WEB -- cat /www/index.html | grep -q '^hello from $WEB'"
pick_ports 1; PFP=${PORTS[0]}
KN port-forward --address 127.0.0.1 "pod/$WEB" "$PFP:8080" >/dev/null 2>&1 & PF=$!
check "kubectl port-forward" retry 15 sh -c "curl -fsS --max-time 2 http://127.0.0.1:$PFP/ | grep -q '^hello from $WEB'"
kill "$PF" 2>/dev/null; wait "$PF" 2>/dev/null; PF=""

# ---- Services, DNS -------------------------------------------------------------------------------
CIP=$(KN get svc web -o jsonpath='{.spec.clusterIP}')
check "a pod reaches the Service's ClusterIP $CIP" retry 15 EX client -- timeout 3 wget -qO- "http://$CIP/"
# In-cluster clients (operators, the ingress controller) reach the API
# server as the Service default/kubernetes.
check "a pod reaches the API server as kubernetes.default (10.43.0.1:443)" retry 15 EX client -- \
  nc -w 3 10.43.0.1 443 -e true
check "cluster DNS: web.$NS.svc.cluster.local resolves to $CIP" sh -c "'$BIN/kubectl' -n $NS exec client -- nslookup web.$NS.svc.cluster.local | grep -q 'Address: $CIP'"
check "a pod reaches the Service by name" EX client -- timeout 3 wget -qO- http://web/
nxdomain() {
  local t0 out; t0=$(now)
  out=$(EX client -- nslookup example.com. 2>&1); echo "$out"
  echo "took $(since "$t0")s"
  echo "$out" | grep -q NXDOMAIN && awk -v a="$t0" -v b="$(now)" 'BEGIN{exit !(b-a < 3)}'
}
check "other names: NXDOMAIN at once (nothing is forwarded)" nxdomain

# ---- LoadBalancer from the host -----------------------------------------------------------------------
lb_setup() {
  local f="$UPSTREAM/metallb/v0.16.1/metallb-native.yaml"
  # the controller runs as the kwok pod of its Deployment (kept off the real
  # node, which has no MetalLB image); the speaker never runs
  yaml_docs DaemonSet --not "$f" | K apply --server-side --force-conflicts --field-manager=sector7-sim -f - >/dev/null || return 1
  K -n metallb-system patch deploy controller --type=merge \
    -p "{\"spec\":{\"template\":{\"spec\":{\"nodeSelector\":{\"sector7.dev/real-node\":null,\"kubernetes.io/hostname\":\"$(K get nodes -l '!sector7.dev/real-node' -o jsonpath='{.items[0].metadata.name}')\"}}}}}" >/dev/null || return 1
  K -n metallb-system rollout status deploy/controller --timeout=60s || return 1
  retry 60 sh -c "'$BIN/kubectl' apply -f - >/dev/null 2>&1" <<'EOF'
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: rn-smoke, namespace: metallb-system}
spec: {addresses: [10.77.0.200-10.77.0.220]}
EOF
}
check "MetalLB deployed (controller as a kwok pod), pool 10.77.0.200-220" lb_setup
KN apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: web-lb}
spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
EOF
lb_ip() { LBIP=$(KN get svc web-lb -o jsonpath='{.status.loadBalancer.ingress[0].ip}'); [ -n "$LBIP" ]; }
check "the LoadBalancer Service gets an address from the pool" retry 60 lb_ip
lb_ip || true
check "the host reaches the LoadBalancer address ${LBIP:-?}" retry 15 sh -c "curl -fsS --max-time 2 http://${LBIP:-0.0.0.0}/ | grep -q '^hello from'"
check "a pod reaches the LoadBalancer address ${LBIP:-?}" retry 15 EX client -- timeout 3 wget -qO- "http://${LBIP:-0.0.0.0}/"

# ---- NetworkPolicy ------------------------------------------------------------------------------------
KN apply -f - >/dev/null <<'EOF'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-allowed}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress: [{from: [{podSelector: {matchLabels: {access: allowed}}}]}]
EOF
denied() { ! EX stranger -- timeout 3 wget -qO- "http://$CIP/" >/dev/null 2>&1; }
check "NetworkPolicy: a pod it does not allow is refused" retry 30 denied
check "NetworkPolicy: the pod it allows still gets through" EX client -- timeout 3 wget -qO- "http://$CIP/"
check "NetworkPolicy: the kubelet's probes still reach the pod" KN wait --for=condition=Ready "pod/$WEB" --timeout=5s
KN delete networkpolicy web-from-allowed >/dev/null
check "NetworkPolicy removed: the other pod gets through again" retry 30 EX stranger -- timeout 3 wget -qO- "http://$CIP/"

# ---- isolation ------------------------------------------------------------------------------------------
no_default_route() {
  local r; r=$(EX client -- ip route); echo "$r"
  ! echo "$r" | grep -q '^default' && ! echo "$r" | grep -vqE '^10\.(77|43)\.'
}
check "pods have no default route (only 10.77.0.0/16 and 10.43.0.0/16)" no_default_route
# 203.0.113.1 (TEST-NET-3): the pod has no route to it, so nothing is sent
unreachable() { local o; o=$(EX client -- timeout 3 wget -qO- http://203.0.113.1/ 2>&1); echo "$o"; echo "$o" | grep -qi 'unreachable'; }
check "an off-bridge address is unreachable from a pod" unreachable
not_pulled() {
  local m; m=$(KN get pod absent-image -o jsonpath='{.status.containerStatuses[0].state.waiting.message}'); echo "$m"
  echo "$m" | grep -q '127.0.0.1:9'
}
check "nothing is pulled: a missing image fails at the dead proxy 127.0.0.1:9" retry 30 not_pulled

# ---- an image archive imported the way --images does it --------------------------------------------------
import_tag_only() {
  local t; t=$(mktemp -d)
  mkdir -p "$t/root/bin" && cp /bin/busybox "$t/root/bin/" && ln -s busybox "$t/root/bin/sh" && ln -s busybox "$t/root/bin/echo" || return 1
  echo "$TOKEN_IMG" >"$t/root/token"
  python3 "$HERE/image/oci-image.py" "$t/root" 0.1 "$t/rn-smoke-app.tar" --cmd '["sh","-c","echo $(cat /token)"]' || return 1
  ( . "$HERE/node.sh"; rn_import "$t/rn-smoke-app.tar" ) || return 1
  rm -rf "$t"
}
TOKEN_IMG=img-$$-$RANDOM
check "an OCI archive with a tag-only name imports as docker.io/library/<file>:<tag>" import_tag_only
KN run imported --image=rn-smoke-app:0.1 --image-pull-policy=Never --restart=Never \
  --overrides="{\"spec\":{\"nodeName\":\"$N\"}}" >/dev/null
check "a pod runs the imported image" retry 30 sh -c "'$BIN/kubectl' -n $NS logs imported 2>/dev/null | grep -qx $TOKEN_IMG"

# ---- storage across a node restart ---------------------------------------------------------------------------
KN apply -f - >/dev/null <<EOF
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec: {accessModes: [ReadWriteOnce], storageClassName: local-path, resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: writer}
spec:
  nodeSelector: {kubernetes.io/hostname: $N}   # through the scheduler: the PVC waits for its first consumer
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: busybox, imagePullPolicy: Never, command: [sleep, "3600"], volumeMounts: [{name: d, mountPath: /data}]}
  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]
EOF
check "a local-path PVC binds and its pod runs on $N" KN wait --for=condition=Ready pod/writer --timeout=90s
TOKEN=persist-$$-$RANDOM
check "write to the volume" EX writer -- sh -c "echo $TOKEN >/data/f"
pv_dir() { local p; p=$(K get pv "$(KN get pvc data -o jsonpath='{.spec.volumeName}')" -o jsonpath='{.spec.hostPath.path}{.spec.local.path}'); echo "$p"; [ "$(cat "$p/f")" = "$TOKEN" ] && case "$p" in "$REALNODE_STORAGE"/*) ;; *) false ;; esac; }
check "the volume's directory is under $REALNODE_STORAGE" pv_dir
RC0=$(KN get pod writer -o jsonpath='{.status.containerStatuses[0].restartCount}')
T1=$(now)
check "realnode/restart.sh (kubelet + containerd, pods killed)" "$HERE/restart.sh" "$DIR"
back() { [ "$(KN get pod writer -o jsonpath='{.status.containerStatuses[0].restartCount}')" -gt "$RC0" ] && KN wait --for=condition=Ready pod/writer --timeout=2s >/dev/null; }
check "the pod comes back after the restart" retry 90 back
info "restart -> pod Ready again: $(since "$T1")s"
check "the volume kept its data" sh -c "'$BIN/kubectl' -n $NS exec writer -- cat /data/f | grep -qx $TOKEN"
check "the Deployment is Ready again" KN rollout status deploy/web --timeout=90s
check "the Service answers again from a pod" retry 30 EX client -- timeout 3 wget -qO- http://web/

# ---- figures ------------------------------------------------------------------------------------------------------
for c in kubelet containerd kube-proxy coredns kube-router; do
  pid=$(pid_of "$DIR" "$c") && info "RSS $c: $(awk '/VmRSS/ {printf "%.0f MB", $2/1024}' "/proc/$pid/status")"
done
info "pods on $N: $(K get pods -A --field-selector spec.nodeName="$N" --no-headers 2>/dev/null | wc -l)"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
