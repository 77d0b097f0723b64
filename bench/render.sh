#!/usr/bin/env bash
# Benchmark: `sector7 render` of the built-in site, against a peer run on
# the same machine in the same run: `kubectl kustomize` reading the very
# objects sector7 wrote (parse every manifest, write one YAML stream).
# Wall time and peak RSS of each, median of RUNS runs (default 9).
#
#   bench/render.sh build/sector7 [KUBECTL]
set -eu
S7=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
KUBECTL=${2:-}
RUNS=${RUNS:-9}
# the upstream cache, filled from the copy beside the repository
(cd "$(dirname "$0")/.." && "$S7" fetch --mirror "${SECTOR7_MIRROR:-../shared/upstream}" >/dev/null)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

if [ -z "$KUBECTL" ]; then
	for k in "$HOME"/.cache/sector7/cluster-bin/*/kubectl "$(command -v kubectl || true)"; do
		[ -x "$k" ] && KUBECTL=$k && break
	done
fi

median() { sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# measure NAME CMD...: runs CMD RUNS times, prints median seconds and KiB
measure() {
	local name=$1; shift
	: >"$TMP/t" ; : >"$TMP/m"
	for _ in $(seq "$RUNS"); do
		local start end
		start=$(date +%s%N)
		/usr/bin/time -f '%M' -o "$TMP/one" "$@" >/dev/null 2>"$TMP/err" ||
			{ cat "$TMP/err" >&2; exit 1; }
		end=$(date +%s%N)
		# wall time in ms from the clock (time(1) only has 10 ms steps)
		echo $(( (end - start) / 1000000 )) >>"$TMP/t"
		tail -1 "$TMP/one" >>"$TMP/m"
	done
	t=$(median <"$TMP/t"); m=$(median <"$TMP/m")
	printf '%-44s %8.0f ms %9d KiB\n' "$name" "$t" "$m"
	echo "$t $m" >"$TMP/result-$name"
}

"$S7" render -o "$TMP/out" >/dev/null
objects=$(find "$TMP/out/manifests" -name '*.yaml' | wc -l)
bytes=$(cat "$TMP/out"/manifests/*/*.yaml | wc -c)
echo "built-in site: $objects objects, $bytes bytes of manifests; median of $RUNS runs"
echo

measure "sector7 render -o DIR" "$S7" render -o "$TMP/out"
measure "sector7 render (stream to stdout)" "$S7" render

if [ -n "$KUBECTL" ]; then
	# The same objects, for kustomize: one kustomization listing them all.
	mkdir -p "$TMP/k"
	cp "$TMP/out"/manifests/*/*.yaml "$TMP/k/"
	{ echo "resources:"; (cd "$TMP/k" && ls *.yaml | grep -v kustomization | sed 's/^/- /'); } >"$TMP/k/kustomization.yaml"
	measure "kubectl kustomize (same objects)" "$KUBECTL" kustomize "$TMP/k"
	echo
	echo "peer: $KUBECTL ($("$KUBECTL" version --client 2>/dev/null | head -1))"
	read -r st sm <"$TMP/result-sector7 render (stream to stdout)"
	read -r kt km <"$TMP/result-kubectl kustomize (same objects)"
	awk -v st="$st" -v kt="$kt" -v sm="$sm" -v km="$km" 'BEGIN {
		printf "ratio (kubectl / sector7): time %.1fx, peak memory %.1fx\n", kt / st, km / sm }'
else
	echo "no kubectl found: peer not run"
fi
