#!/usr/bin/env bash
# Build the simulated cluster's binaries from the Go module proxy:
#   kube-apiserver kube-controller-manager kube-scheduler kubectl etcd  (module k8s/)
#   kwok + kwok-stages.yaml                                             (module kwok/)
#   kubelet kube-proxy         (module k8s/; only with --real-node, see realnode/)
# into a cache directory outside the repository, keyed by a hash of the pinned
# go.mod/go.sum/tools.go files. When that directory is complete (stamp file,
# written last) nothing is built. The directory is printed on stdout; all
# progress goes to stderr.
#
#   SECTOR7_CLUSTER_BIN  output directory (default ${XDG_CACHE_HOME:-~/.cache}/sector7/cluster-bin/<hash>)
#   GO                   go command (default: go on PATH, else /usr/local/go/bin/go)
#   SECTOR7_BUILD_TIME=1 run each go build under /usr/bin/time -v (figures on stderr)
#
#   build.sh [--real-node]    --real-node: also kubelet and kube-proxy (own stamp
#                             .complete-realnode, so the kwok-only set stays as it was)
set -euo pipefail
REAL=0
case "${1:-}" in --real-node) REAL=1 ;; "") ;; *) echo "build.sh: unknown argument $1" >&2; exit 2 ;; esac

HERE=$(cd "$(dirname "$0")" && pwd)
# Bump when the build recipe below changes in a way that changes the binaries.
RECIPE=1

if [ -z "${GO:-}" ]; then
  if command -v go >/dev/null 2>&1; then GO=$(command -v go); else GO=/usr/local/go/bin/go; fi
fi
[ -x "$GO" ] || { echo "build.sh: no go toolchain (set GO=...)" >&2; exit 1; }

PINS=(k8s/go.mod k8s/go.sum k8s/tools.go kwok/go.mod kwok/go.sum kwok/tools.go)
HASH=$( { echo "recipe $RECIPE"; for f in "${PINS[@]}"; do echo "== $f"; cat "$HERE/$f"; done; } | sha256sum | cut -c1-16)
OUT=${SECTOR7_CLUSTER_BIN:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/sector7/cluster-bin/$HASH}
STAMP="$OUT/.complete"
BINS=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok kwok-stages.yaml)

complete() {
  [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$HASH" ] || return 1
  local b; for b in "${BINS[@]}"; do [ -s "$OUT/$b" ] || return 1; done
}

RSTAMP="$OUT/.complete-realnode"
RBINS=(kubelet kube-proxy)
complete_real() {
  [ "$REAL" = 0 ] && return 0
  [ -f "$RSTAMP" ] && [ "$(cat "$RSTAMP")" = "$HASH" ] || return 1
  local b; for b in "${RBINS[@]}"; do [ -s "$OUT/$b" ] || return 1; done
}

if complete && complete_real; then echo "$OUT"; exit 0; fi

mkdir -p "$OUT"
# One builder at a time per output directory; a second one waits, then finds it complete.
exec 9>"$OUT/.lock"
flock 9
if complete && complete_real; then echo "$OUT"; exit 0; fi

export GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0
TMP="$OUT/.tmp"; rm -rf "$TMP"; mkdir -p "$TMP"

gobuild() { # gobuild MODULE_DIR ARGS...
  local dir=$1; shift
  if [ "${SECTOR7_BUILD_TIME:-}" = 1 ]; then
    ( cd "$HERE/$dir" && nice -n 10 /usr/bin/time -v "$GO" build "$@" )
  else
    ( cd "$HERE/$dir" && nice -n 10 "$GO" build "$@" )
  fi
}

log() { echo "build.sh: $*" >&2; }
log "building into $OUT ($("$GO" version))"

K8S=$(cd "$HERE/k8s" && "$GO" list -m -f '{{.Version}}' k8s.io/kubernetes)   # v1.36.3
MINOR=$(echo "$K8S" | cut -d. -f2)
LDF="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LDF="$LDF -X $p.gitVersion=$K8S -X $p.gitMajor=1 -X $p.gitMinor=$MINOR"
  LDF="$LDF -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
done

if ! complete; then
  rm -f "$STAMP"
  # --- Kubernetes + etcd -------------------------------------------------------
  log "kubernetes $K8S: kube-apiserver kube-controller-manager kube-scheduler kubectl"
  gobuild k8s -trimpath -tags selinux,notest -ldflags "$LDF" -o "$TMP/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
  ETCD=$(cd "$HERE/k8s" && "$GO" list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
  log "etcd $ETCD"
  gobuild k8s -trimpath -ldflags "-s -w" -o "$TMP/etcd" go.etcd.io/etcd/server/v3

  # --- kwok --------------------------------------------------------------------
  KWOK=$(cd "$HERE/kwok" && "$GO" list -m -f '{{.Version}}' sigs.k8s.io/kwok)
  log "kwok $KWOK"
  gobuild kwok -trimpath -ldflags "-s -w" -o "$TMP/kwok" sigs.k8s.io/kwok/cmd/kwok
  # kwok >= 0.8 has no built-in stages: take the "fast" node/pod stages from the
  # pinned module (node becomes Ready with lease heartbeats; pods become Running
  # and Ready; pods owned by a Job become Succeeded; deleted pods go away).
  KWDIR=$(cd "$HERE/kwok" && "$GO" list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
           pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    echo "# sigs.k8s.io/kwok@$KWOK kustomize/stage/$f"; cat "$KWDIR/kustomize/stage/$f"; echo '---'
  done >"$TMP/kwok-stages.yaml"

  for b in "${BINS[@]}"; do mv -f "$TMP/$b" "$OUT/$b"; done
  cat >"$OUT/VERSIONS" <<EOF
kubernetes $K8S
etcd $ETCD
kwok $KWOK
go $("$GO" env GOVERSION)
EOF
  echo "$HASH" >"$STAMP"
fi

# --- kubelet, kube-proxy (the real node; only with --real-node) -------------------
if ! complete_real; then
  rm -f "$RSTAMP"
  log "kubernetes $K8S: kubelet kube-proxy"
  gobuild k8s -trimpath -tags selinux,notest -ldflags "$LDF" -o "$TMP/" \
    k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy
  for b in "${RBINS[@]}"; do mv -f "$TMP/$b" "$OUT/$b"; done
  echo "$HASH" >"$RSTAMP"
fi
rmdir "$TMP"
log "done: $(du -sh "$OUT" | cut -f1)"
echo "$OUT"
