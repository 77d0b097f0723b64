#!/usr/bin/env bash
# Stop the simulated cluster started by up.sh DIR: removes DIR/kubeconfig, then
# stops exactly the PIDs recorded in DIR/run (SIGTERM, SIGKILL after 30 s) and
# waits until they are gone. Stopping a stopped cluster is fine.
#
#   down.sh DIR [--purge]     --purge also deletes DIR's cluster state
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=""; PURGE=0
for a in "$@"; do
  case "$a" in
    --purge) PURGE=1 ;;
    -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    -*) echo "down.sh: unknown option $a" >&2; exit 2 ;;
    *) [ -z "$DIR" ] || { echo "down.sh: one DIR only" >&2; exit 2; }; DIR=$a ;;
  esac
done
[ -n "$DIR" ] || { echo "usage: down.sh DIR [--purge]" >&2; exit 2; }
if [ ! -d "$DIR" ]; then echo "down.sh: $DIR does not exist: nothing to stop" >&2; exit 0; fi
DIR=$(cd "$DIR" && pwd)
. "$HERE/lib.sh"
exec 9>"$DIR/.lock"
flock -w 600 9 || { echo "down.sh: could not lock $DIR/.lock" >&2; exit 1; }
rm -f "$DIR/kubeconfig" "$DIR"/kubeconfig.tmp.*
if any_running "$DIR"; then
  stop_all "$DIR"
  echo "down.sh: stopped" >&2
else
  rm -f "$DIR"/run/*.pid "$DIR/run/components"
  teardown_realnode "$DIR"
  echo "down.sh: not running" >&2
fi
if [ "$PURGE" = 1 ]; then
  if awk -v d="$DIR/" 'index($5, d) == 1 {f=1} END {exit !f}' /proc/self/mountinfo; then
    echo "down.sh: something is still mounted under $DIR: not purging" >&2; exit 1
  fi
  rm -rf "$DIR/etcd" "$DIR/pki" "$DIR/run" "$DIR/logs" "$DIR/addons" "$DIR/ports.env" \
         "$DIR/nodes.yaml" "$DIR/egress-selector.yaml" "$DIR/realnode" "$DIR/realnode.env" \
         "$DIR/containerd" "$DIR/cni" "$DIR/kubelet" "$DIR/pod-logs" "$DIR/storage"
  echo "down.sh: purged state in $DIR" >&2
fi
