#!/usr/bin/env bash
# Runs each built image the way the rendered manifests run it, on a
# containerd of its own (temp dir, own socket, no CRI, nothing pulled):
# `ctr images import` of the archive, then `ctr run` with the image's own
# user, a read-only root filesystem where the manifest sets one, host
# networking limited to what the test serves on 127.0.0.1.
#
#   tests/cluster/images/test.sh [--out DIR] [NAME...]
#
# Builds what is missing first (build.sh).  Prints "ok NAME: ..." or
# "FAIL NAME: ..." per check and ends with "N passed, N failed".
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${SECTOR7_IMAGES_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/sector7/images}
OUT=${SECTOR7_IMAGES_OUT:-$CACHE/out}
NAMES=()
while [ $# -gt 0 ]; do
  case $1 in
    --out) OUT=$2; shift 2 ;;
    *) NAMES+=("$1"); shift ;;
  esac
done
if [ ${#NAMES[@]} -eq 0 ]; then
  mapfile -t NAMES < <(grep -v '^#' "$HERE/recipes/ORDER" | grep .)
fi
"$HERE/build.sh" --out "$OUT" "${NAMES[@]}" >&2

source "$HERE/lib/containerd.sh"
T=$(mktemp -d /tmp/sector7-images-test.XXXXXX)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "${CTR:-}" ] && for c in $($CTR -n k8s.io containers ls -q 2>/dev/null); do
    $CTR -n k8s.io tasks kill -s KILL "$c" >/dev/null 2>&1 || true
    sleep 0.2
    $CTR -n k8s.io containers rm "$c" >/dev/null 2>&1 || true
  done
  ctrd_stop "$T"
  umount -R "$T/root" 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT
ctrd_start "$T"

PASS=0 FAILN=0
ok() { echo "ok $*"; PASS=$((PASS + 1)); }
bad() { echo "FAIL $*"; FAILN=$((FAILN + 1)); }
check() { # NAME DESCRIPTION COMMAND...
  local n=$1 d=$2; shift 2
  local out
  if out=$("$@" 2>&1); then ok "$n: $d"; else bad "$n: $d"; echo "$out" | tail -20 | sed 's/^/    /'; fi
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
import() { # NAME -> prints the first reference
  $CTR -n k8s.io images import "$OUT/$1.tar" >&2
  python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["refs"][0])' \
    "$(ls -t "$CACHE/$1"-*.json | head -1)"
}
# run ID IMAGE [ctr run options...] -- ARGS...: a container on the host's
# network namespace (the test's listeners are on 127.0.0.1), read-only root.
run() {
  local id=$1 img=$2; shift 2
  local opts=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  $CTR -n k8s.io run --rm --read-only --net-host "${opts[@]}" "$img" "$id" "$@"
}

for name in "${NAMES[@]}"; do
  source "$HERE/checks/$name.sh"
  "test_${name//-/_}"
done
echo "$PASS passed, $FAILN failed"
[ "$FAILN" -eq 0 ]
