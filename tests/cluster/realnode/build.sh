#!/usr/bin/env bash
# Build the real node's Go pieces that are not in the k8s/ module, each from its
# own pinned wrapper module (their Kubernetes client versions differ):
#   coredns       coredns             coredns/main.go on github.com/coredns/coredns v1.14.7
#   kube-router   kube-router-netpol  kube-router/main.go on github.com/cloudnativelabs/kube-router/v2 v2.1.0
# (kubelet and kube-proxy come from ../build.sh --real-node.) Each goes to
# ${SECTOR7_REALNODE_BIN:-~/.cache/sector7/realnode-bin}/<name>-<hash of its
# go.mod, go.sum and *.go>/ and is skipped when complete (stamp written last).
#   realnode/build.sh [NAME...]   (default: both) prints each binary's path on stdout
#   SECTOR7_BUILD_TIME=1          time each go build (/usr/bin/time -v, on stderr)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
RECIPE=1
if [ -z "${GO:-}" ]; then
  if command -v go >/dev/null 2>&1; then GO=$(command -v go); else GO=/usr/local/go/bin/go; fi
fi
ROOT=${SECTOR7_REALNODE_BIN:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/sector7/realnode-bin}
export GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0

for a in ${*:-coredns kube-router}; do
  case "$a" in
    coredns) b=coredns ;;
    kube-router) b=kube-router-netpol ;;
    *) echo "realnode/build.sh: unknown piece '$a' (coredns, kube-router)" >&2; exit 2 ;;
  esac
  h=$( { echo "recipe $RECIPE"; for f in "$HERE/$a"/go.mod "$HERE/$a"/go.sum "$HERE/$a"/*.go; do
         echo "== $(basename "$f")"; cat "$f"; done; } | sha256sum | cut -c1-16)
  out="$ROOT/$a-$h"
  if ! { [ -f "$out/.complete" ] && [ -s "$out/$b" ]; }; then
    mkdir -p "$out"
    exec 9>"$out/.lock"; flock 9
    if ! { [ -f "$out/.complete" ] && [ -s "$out/$b" ]; }; then
      echo "realnode/build.sh: building $b into $out" >&2
      if [ "${SECTOR7_BUILD_TIME:-}" = 1 ]; then T=(/usr/bin/time -v); else T=(); fi
      ( cd "$HERE/$a" && nice -n 10 "${T[@]}" "$GO" build -trimpath -ldflags "-s -w" -o "$out/$b.tmp" . )
      mv -f "$out/$b.tmp" "$out/$b"
      echo "$h" >"$out/.complete"
    fi
    exec 9>&-
  fi
  echo "$out/$b"
done
