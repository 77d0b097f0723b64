#!/usr/bin/env bash
# Build the real add-on controllers that up.sh --addons runs out of cluster, each
# from its own pinned wrapper module (their Kubernetes client versions differ):
#   metallb       metallb-controller        go.universe.tf/metallb/controller v0.16.1
#   local-path    local-path-provisioner    github.com/rancher/local-path-provisioner v0.0.37
#   cert-manager  cert-manager-controller   cert-manager/main.go on github.com/cert-manager/cert-manager v1.21.1
# Each goes to ${SECTOR7_ADDONS_BIN:-~/.cache/sector7/addons-bin}/<name>-<hash of
# its go.mod, go.sum and *.go>/ and is skipped when complete (stamp written last).
#   addons/build.sh [NAME...]   (default: all) prints each binary's path on stdout
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
RECIPE=1
if [ -z "${GO:-}" ]; then
  if command -v go >/dev/null 2>&1; then GO=$(command -v go); else GO=/usr/local/go/bin/go; fi
fi
ROOT=${SECTOR7_ADDONS_BIN:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/sector7/addons-bin}
export GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0

for a in ${*:-metallb local-path cert-manager}; do
  case "$a" in
    metallb) b=metallb-controller p=go.universe.tf/metallb/controller ;;
    local-path) b=local-path-provisioner p=github.com/rancher/local-path-provisioner ;;
    cert-manager) b=cert-manager-controller p=. ;;
    *) echo "addons/build.sh: unknown add-on '$a' (metallb, local-path, cert-manager)" >&2; exit 2 ;;
  esac
  h=$( { echo "recipe $RECIPE"; for f in "$HERE/$a"/go.mod "$HERE/$a"/go.sum "$HERE/$a"/*.go; do
         if [ -f "$f" ]; then echo "== $(basename "$f")"; cat "$f"; fi; done; } | sha256sum | cut -c1-16)
  out="$ROOT/$a-$h"
  if ! { [ -f "$out/.complete" ] && [ -s "$out/$b" ]; }; then
    mkdir -p "$out"
    exec 9>"$out/.lock"; flock 9
    if ! { [ -f "$out/.complete" ] && [ -s "$out/$b" ]; }; then
      echo "addons/build.sh: building $b into $out" >&2
      if [ "${SECTOR7_BUILD_TIME:-}" = 1 ]; then T=(/usr/bin/time -v); else T=(); fi
      ( cd "$HERE/$a" && "${T[@]}" "$GO" build -trimpath -ldflags "-s -w" -o "$out/$b.tmp" "$p" )
      mv -f "$out/$b.tmp" "$out/$b"
      echo "$h" >"$out/.complete"
    fi
    exec 9>&-
  fi
  echo "$out/$b"
done
