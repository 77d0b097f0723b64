#!/usr/bin/env bash
# Benchmark: `sector7 apply` of the built-in site onto a fresh simulated
# cluster, against the gameplan's way on a fresh cluster of the same kind,
# same machine, same run: `kubectl apply --server-side` of the files
# `sector7 render` wrote (twice: custom resources fail until their CRDs are
# established) followed by `kubectl wait` for the CRDs, the rollouts and the
# ingress address.  Wall time, API requests and peak RSS; median of RUNS
# (default 5) runs each.
#
# And a floor, on a third fresh cluster: every object sent at once
# (`kubectl apply --server-side` of the whole tree, again at once until
# the server accepts all of it), then the same waits for ready.  No
# ordering, no gates: what the cluster itself needs to get there, which
# no rollout can beat by much.  apply's time is given as a ratio to it.
#
#   bench/apply.sh build/sector7
set -eu
S7=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-5}
# the upstream cache, filled from the copy beside the repository
(cd "$(dirname "$0")/.." && "$S7" fetch --mirror "${SECTOR7_MIRROR:-../shared/upstream}" >/dev/null)
CDIR=$ROOT/build/bench-cluster
TMP=$(mktemp -d)
trap '"$ROOT/tests/cluster/down.sh" "$CDIR" --purge >/dev/null 2>&1; rm -rf "$TMP"' EXIT
BIN=$("$ROOT/tests/cluster/build.sh")
K="$BIN/kubectl"
cd "$ROOT"

fresh() {
	"$ROOT/tests/cluster/down.sh" "$CDIR" --purge >/dev/null 2>&1 || true
	"$ROOT/tests/cluster/up.sh" "$CDIR" --fresh --addons metallb,cert-manager,local-path,k3s,longhorn,cnpg >/dev/null 2>&1
	export KUBECONFIG=$CDIR/kubeconfig
	rm -rf "$HOME/.cache/sector7/discovery" "$HOME/.kube/cache"
}

median() { sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

"$S7" render -o "$TMP/r" >/dev/null
objects=$(find "$TMP/r/manifests" -name '*.yaml' | wc -l)
# The DaemonSets and Deployments to wait for, as namespace/name.
grep -l '^kind: DaemonSet' "$TMP"/r/manifests/*/*.yaml | while read -r f; do
	awk '/^  name:/{n=$2} /^  namespace:/{ns=$2} END{print ns"/"n}' "$f"
done >"$TMP/daemonsets"

: >"$TMP/s7" ; : >"$TMP/kc" ; : >"$TMP/floor"
for i in $(seq "$RUNS"); do
	fresh
	/usr/bin/time -f '%e %M' -o "$TMP/t" "$S7" apply --output json >"$TMP/json" 2>/dev/null
	req=$(python3 -c "import json; print(json.load(open('$TMP/json'))['requests'])")
	echo "$(cat "$TMP/t") $req" >>"$TMP/s7"

	fresh
	start=$(date +%s.%N)
	peak=0; req=0
	kc() {	# kubectl with request logging; keeps the peak RSS and counts requests
		/usr/bin/time -f '%M' -o "$TMP/m" "$K" -v=6 "$@" >/dev/null 2>"$TMP/log" || true
		m=$(tail -1 "$TMP/m")
		if [ "$m" -gt "$peak" ]; then peak=$m; fi
		n=$(grep -cE '"(GET|POST|PUT|PATCH|DELETE)" |(GET|POST|PUT|PATCH|DELETE) https://' "$TMP/log" || true)
		req=$((req + n))
	}
	kc apply --server-side --force-conflicts -R -f "$TMP/r/manifests"
	kc wait --for condition=established crd --all --timeout=300s
	kc apply --server-side --force-conflicts -R -f "$TMP/r/manifests"
	kc wait --for condition=Available deployment --all -A --timeout=300s
	while read -r ds; do kc rollout status -n "${ds%/*}" "daemonset/${ds#*/}" --timeout=300s; done <"$TMP/daemonsets"
	kc wait -n kube-system svc/traefik --for=jsonpath='{.status.loadBalancer.ingress[0].ip}'=192.168.2.200 --timeout=300s
	end=$(date +%s.%N)
	echo "$(awk -v a="$start" -v b="$end" 'BEGIN {print b - a}') $peak $req" >>"$TMP/kc"

	fresh
	start=$(date +%s.%N)
	tries=0
	until "$K" apply --server-side --force-conflicts -R -f "$TMP/r/manifests" >/dev/null 2>&1; do
		tries=$((tries + 1))
		[ "$tries" -lt 600 ] || { echo "floor: not accepted after $tries tries" >&2; exit 1; }
		sleep 0.2
	done
	"$K" wait --for condition=established crd --all --timeout=300s >/dev/null
	"$K" wait --for condition=Available deployment --all -A --timeout=300s >/dev/null
	while read -r ds; do "$K" rollout status -n "${ds%/*}" "daemonset/${ds#*/}" --timeout=300s >/dev/null; done <"$TMP/daemonsets"
	"$K" wait -n kube-system svc/traefik --for=jsonpath='{.status.loadBalancer.ingress[0].ip}'=192.168.2.200 --timeout=300s >/dev/null
	end=$(date +%s.%N)
	echo "$(awk -v a="$start" -v b="$end" 'BEGIN {print b - a}') $((tries + 1))" >>"$TMP/floor"
done

col() { awk -v c="$1" '{print $c}' "$2" | median; }
st=$(col 1 "$TMP/s7"); sm=$(col 2 "$TMP/s7"); sr=$(col 3 "$TMP/s7")
kt=$(col 1 "$TMP/kc"); km=$(col 2 "$TMP/kc"); kr=$(col 3 "$TMP/kc")
ft=$(col 1 "$TMP/floor"); fa=$(col 2 "$TMP/floor")
echo "built-in site: $objects objects onto a fresh simulated cluster; median of $RUNS runs"
printf '%-52s %8s %10s %9s\n' "" "wall s" "peak KiB" "requests"
printf '%-52s %8.2f %10d %9d\n' "sector7 apply (waits for everything ready)" "$st" "$sm" "$sr"
printf '%-52s %8.2f %10d %9d\n' "kubectl apply --server-side x2 + kubectl wait" "$kt" "$km" "$kr"
printf '%-52s %8.2f %10s %9s\n' "floor: everything at once until accepted, then wait" "$ft" "-" "-"
echo "floor: the whole tree sent $fa times (median) before the server took all of it"
awk -v st="$st" -v kt="$kt" -v sm="$sm" -v km="$km" -v sr="$sr" -v kr="$kr" 'BEGIN {
	printf "ratio (kubectl / sector7): time %.1fx, peak memory %.1fx, requests %.1fx\n",
	    kt / st, km / sm, kr / sr }'
awk -v st="$st" -v ft="$ft" 'BEGIN { printf "sector7 apply / floor: time %.2fx\n", st / ft }'
echo "peer: $K ($("$K" version --client | head -1))"
