#!/usr/bin/env bash
# Start/stop test of the real node: start twice, a second cluster refused the
# node's network, stop twice, up.sh interrupted (SIGTERM) and killed (SIGKILL)
# in the middle of the node's start, kubelet and containerd killed under
# running pods. After each stop nothing of the cluster is left: no process
# naming DIR, no shim, no mount under DIR, no bridge s7br0, no KUBE-* or
# SECTOR7-RN-* iptables rule (IPv4 or IPv6), no KUBE-* ipset, no pod cgroup.
#
#   realnode/lifecycle.sh DIR      (DIR must not hold a running cluster)
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=${1:?usage: lifecycle.sh DIR}
mkdir -p "$DIR"; DIR=$(cd "$DIR" && pwd)
UP="$HERE/../up.sh" DOWN="$HERE/../down.sh"
BIN=$("$HERE/../build.sh" --real-node) || exit 1
K() { "$BIN/kubectl" --kubeconfig="$DIR/kubeconfig" "$@"; }
PASS=0 FAIL=0
check() {
  local name=$1; shift
  if out=$("$@" 2>&1); then PASS=$((PASS+1)); echo "ok   $name"
  else FAIL=$((FAIL+1)); echo "FAIL $name"; echo "$out" | tail -n 8 | sed 's/^/     /'; fi
}
leftovers() { # prints what is left; fails if anything is
  local d=$1 n=0 p m c
  for p in /proc/[0-9]*; do
    { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF -- "$d/" && { echo "process ${p#/proc/}: $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null | cut -c1-80)"; n=$((n+1)); }
  done
  m=$(awk -v d="$d/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo)
  [ -z "$m" ] || { echo "mounted: $(echo "$m" | head -3)"; n=$((n+1)); }
  ip link show s7br0 >/dev/null 2>&1 && { echo "bridge s7br0"; n=$((n+1)); }
  c=$( { iptables-save; ip6tables-save; } 2>/dev/null | grep -cE 'KUBE-|SECTOR7-RN-')
  [ "$c" = 0 ] || { echo "$c iptables lines"; n=$((n+1)); }
  c=$(ipset list -n 2>/dev/null | grep -c '^\(inet6:\)\{0,1\}KUBE-')
  [ "$c" = 0 ] || { echo "$c ipsets"; n=$((n+1)); }
  [ -z "$(ls -d /sys/fs/cgroup/*/sector7-realnode 2>/dev/null)" ] || { echo "pod cgroups"; n=$((n+1)); }
  [ "$n" = 0 ]
}
up() { "$UP" "$DIR" --real-node "$@" >>"$DIR/lifecycle.log" 2>&1; }
wait_pid_file() { local i; for i in $(seq 1200); do [ -s "$DIR/run/$1.pid" ] && return 0; sleep 0.1; done; return 1; }
: >"$DIR/lifecycle.log"

check "nothing of a cluster in $DIR to begin with" leftovers "$DIR"
check "start" up
check "start again: already running" sh -c "'$UP' '$DIR' --real-node 2>&1 | grep -q 'already running'"
OTHER=$(mktemp -d)
check "a second cluster is refused the real node's network" sh -c "! '$UP' '$OTHER' --real-node >'$OTHER/out' 2>&1 && grep -q 'belongs to the running cluster in $DIR' '$OTHER/out'"
naming() { local p; for p in /proc/[0-9]*; do { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF -- "$1/" && echo "${p#/proc/}"; done; return 0; }
check "the second cluster left nothing running" test -z "$(naming "$OTHER")"
rm -rf "$OTHER"
check "the first cluster still answers" K get node -l sector7.dev/real-node=true -o name
check "stop" "$DOWN" "$DIR"
check "stop again" "$DOWN" "$DIR"
check "nothing left after stop" leftovers "$DIR"

"$UP" "$DIR" --real-node >>"$DIR/lifecycle.log" 2>&1 & P=$!
wait_pid_file kubelet; kill -TERM "$P"; wait "$P"
check "up.sh interrupted (SIGTERM) while the node starts: nothing left" leftovers "$DIR"

"$UP" "$DIR" --real-node >>"$DIR/lifecycle.log" 2>&1 & P=$!
wait_pid_file kube-proxy; kill -KILL "$P"; wait "$P" 2>/dev/null
check "up.sh killed (SIGKILL) while the node starts: its components still run" sh -c "kill -0 \$(cat '$DIR/run/kubelet.pid')"
check "down.sh after the killed start" "$DOWN" "$DIR"
check "nothing left after it" leftovers "$DIR"

check "start" up
K apply -f - >/dev/null <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: lifecycle, namespace: default}
spec:
  replicas: 3
  selector: {matchLabels: {app: lifecycle}}
  template:
    metadata: {labels: {app: lifecycle}}
    spec:
      nodeSelector: {sector7.dev/real-node: "true"}
      terminationGracePeriodSeconds: 1
      containers: [{name: c, image: busybox, imagePullPolicy: Never, command: [sleep, "3600"], volumeMounts: [{name: e, mountPath: /e}]}]
      volumes: [{name: e, emptyDir: {}}]
EOF
check "3 pods run on the real node" K rollout status deploy/lifecycle --timeout=90s
kill -KILL "$(cat "$DIR/run/kubelet.pid")" "$(cat "$DIR/run/containerd.pid")"
check "kubelet and containerd killed: up.sh starts the cluster again" up
check "the pods run again" K rollout status deploy/lifecycle --timeout=90s
K delete deploy/lifecycle --wait=false >/dev/null 2>&1
check "stop" "$DOWN" "$DIR"
check "nothing left" leftovers "$DIR"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
