#!/usr/bin/env bash
# Restart the real node's kubelet and containerd as a reboot would: the kubelet
# and containerd stop, every pod process is killed, everything under DIR is
# unmounted; then containerd and the kubelet start again and the kubelet
# brings the node's pods back. Volume data stays (hostPath and local-path
# volumes under DIR/storage, emptyDirs under DIR/kubelet), and so do the
# images. kube-proxy, CoreDNS, kube-router and the control plane keep running.
#
#   realnode/restart.sh DIR      prints the seconds until the node was Ready again
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=${1:?usage: restart.sh DIR}
DIR=$(cd "$DIR" && pwd)
. "$HERE/../lib.sh"
. "$HERE/node.sh"
[ -f "$DIR/realnode/active" ] && [ -f "$DIR/kubeconfig" ] || { echo "restart.sh: no cluster with a real node in $DIR" >&2; exit 1; }
exec 9>"$DIR/.lock"
flock -w 600 9 || { echo "restart.sh: could not lock $DIR/.lock" >&2; exit 1; }
. "$DIR/ports.env"
. "$DIR/realnode.env"
BIN=$("$HERE/../build.sh" --real-node)
RN_IMAGES=$(cat "$DIR/realnode/images.own")
KUBECTL=("$BIN/kubectl" --kubeconfig="$DIR/pki/admin.kubeconfig")
T0=$(date +%s.%N)
rn_node_down "$DIR"
sed -i '/^kubelet$/d; /^containerd$/d' "$DIR/run/components"
rm -f "$DIR/run/kubelet.pid" "$DIR/run/containerd.pid"
for f in "$DIR/logs/kubelet.log" "$DIR/logs/containerd.log"; do [ -f "$f" ] && mv -f "$f" "$f.prev"; done
rn_node_up "$DIR" "$REALNODE_NAME" "$REALNODE_IP"
# Ready, with none of the node lifecycle's taints (not-ready, unreachable)
# left; taints a test set on the node itself stay, and do not count.
node_ready_again() {
  local out
  out=$("${KUBECTL[@]}" get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}/{.spec.taints[*].key}' 2>/dev/null) || return 1
  case $out in True/*node.kubernetes.io/*) return 1 ;; True/*) return 0 ;; esac
  return 1
}
wait_for "node $REALNODE_NAME Ready" "${SECTOR7_REALNODE_READY_TIMEOUT:-180}" kubelet node_ready_again "$REALNODE_NAME"
awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f\n", b-a}'
