#!/bin/sh
# The main job on the built-in site: validate it, render it, bring up the
# simulated cluster (tests/cluster: a real Kubernetes control plane on
# loopback with simulated nodes), roll the site out with sector7 apply, and
# end with sector7 status.  Upstream manifests come from the local cache
# only ($SECTOR7_UPSTREAM; default ~/.cache/sector7/upstream), filled first
# by sector7 fetch from the copy of the pinned files beside the repository
# (../shared/upstream, or $SECTOR7_MIRROR); nothing is downloaded but Go
# modules for the cluster's first build.
set -eu
S7=${1:-build/sector7}
MIRROR=${SECTOR7_MIRROR:-../shared/upstream}
OUT=${DEMO_OUT:-build/demo}

echo "== sector7 fetch --mirror $MIRROR (the pinned upstream manifests, verified, into the cache)"
"$S7" fetch --mirror "$MIRROR"
echo
echo "== sector7 check (the built-in site: the gameplan's Sector7 site)"
"$S7" check
echo
echo "== sector7 render -o $OUT"
"$S7" render -o "$OUT"
echo
echo "== the simulated cluster (first start builds it: about 6 min, then 11 for the add-ons)"
tests/cluster/up.sh .cluster --addons metallb,cert-manager,local-path,k3s,longhorn,cnpg
export KUBECONFIG="$PWD/.cluster/kubeconfig"
echo
echo "== sector7 apply"
"$S7" apply
echo
echo "== sector7 apply again (nothing changed)"
"$S7" apply
echo
echo "== sector7 status"
"$S7" status
echo
echo "The cluster keeps running: KUBECONFIG=$KUBECONFIG; kubectl is $(tests/cluster/build.sh)/kubectl"
echo "Stop it with: make cluster-down"
