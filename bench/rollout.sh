#!/usr/bin/env bash
# Benchmark: what apply and diff cost once a site is rolled out, against
# kubectl on the same objects, same cluster, same run.  The built-in site is
# applied to a fresh simulated cluster once; then, RUNS times each (median):
#
#   sector7 apply          a no-op: nothing to send, everything ready
#   kubectl apply --server-side --dry-run=server   every object, dry run
#   sector7 diff           nothing would change
#   kubectl diff --server-side                     every object
#
# Wall time and peak RSS (/usr/bin/time).  kubectl gets the very files
# `sector7 render -o` writes.
#
#   bench/rollout.sh build/sector7
set -eu
S7=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-5}
CDIR=$ROOT/build/bench-rollout
TMP=$(mktemp -d)
trap '"$ROOT/tests/cluster/down.sh" "$CDIR" --purge >/dev/null 2>&1; rm -rf "$TMP"' EXIT
# the upstream cache, filled from the copy beside the repository
(cd "$ROOT" && "$S7" fetch --mirror "${SECTOR7_MIRROR:-../shared/upstream}" >/dev/null)
BIN=$("$ROOT/tests/cluster/build.sh")
K="$BIN/kubectl"
cd "$ROOT"

"$ROOT/tests/cluster/down.sh" "$CDIR" --purge >/dev/null 2>&1 || true
"$ROOT/tests/cluster/up.sh" "$CDIR" --fresh --addons metallb,cert-manager,local-path,k3s,longhorn,cnpg >/dev/null 2>&1
export KUBECONFIG=$CDIR/kubeconfig
"$S7" apply >/dev/null 2>&1
"$S7" render -o "$TMP/r" >/dev/null
objects=$(find "$TMP/r/manifests" -name '*.yaml' | wc -l)

median() { sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# measure NAME OKCODES CMD...: RUNS runs; median wall ms and peak KiB
measure() {
	local name=$1 ok=$2; shift 2
	: >"$TMP/t"; : >"$TMP/m"
	for _ in $(seq "$RUNS"); do
		local start end rc=0
		start=$(date +%s%N)
		/usr/bin/time -f '%M' -o "$TMP/one" "$@" >/dev/null 2>"$TMP/err" || rc=$?
		end=$(date +%s%N)
		case " $ok " in *" $rc "*) ;; *) echo "$name: exit $rc" >&2; tail -5 "$TMP/err" >&2; exit 1 ;; esac
		echo $(( (end - start) / 1000000 )) >>"$TMP/t"
		tail -1 "$TMP/one" >>"$TMP/m"
	done
	t=$(median <"$TMP/t"); m=$(median <"$TMP/m")
	printf '%-50s %8.0f ms %9d KiB\n' "$name" "$t" "$m"
	echo "$t $m" >"$TMP/result-$(echo "$name" | tr -c 'a-z0-9\n' '_')"
}

echo "built-in site rolled out: $objects objects; median of $RUNS runs"
measure "sector7 apply (no-op)" 0 "$S7" apply
measure "kubectl apply --server-side --dry-run=server" 0 "$K" apply --server-side --force-conflicts --dry-run=server -R -f "$TMP/r/manifests"
measure "sector7 diff" 0 "$S7" diff
# kubectl diff exits 1 when it finds differences (server defaults it shows)
measure "kubectl diff --server-side" "0 1" "$K" diff --server-side --force-conflicts -R -f "$TMP/r/manifests"

ratio() {
	read -r st sm <"$TMP/result-$1"; read -r kt km <"$TMP/result-$2"
	awk -v w="$3" -v st="$st" -v kt="$kt" -v sm="$sm" -v km="$km" 'BEGIN {
		printf "%-10s kubectl / sector7: time %.1fx, peak memory %.1fx\n", w, kt / st, km / sm }'
}
ratio sector7_apply__no_op_ kubectl_apply___server_side___dry_run_server apply
ratio sector7_diff kubectl_diff___server_side diff
echo "peer: $K ($("$K" version --client | head -1))"
