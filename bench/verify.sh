#!/usr/bin/env bash
# Benchmark: `sector7 verify` of the built-in site on the simulated
# cluster, every probe answered on loopback (tests/verify/fixtures.sh:
# Unbound for both views, an HTTPS stand-in for the ingress, a real
# Prometheus, the stand-in for the query pods' container).  The built-in
# site's issuer is Let's Encrypt, which the simulated cluster never
# contacts, so its ClusterIssuer, certificates and HTTPS chains fail:
# those checks still make their round trips.  Wall time of RUNS runs
# (default 7) and their median.
#
#   bench/verify.sh build/sector7
set -u
SECTOR7=$1
. "$(dirname "$0")/../tests/lib.sh"
RUNS=${RUNS:-7}
CDIR=$ROOT/build/bench-verify-cluster
TMP=$(mktemp -d)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	"$ROOT/tests/cluster/down.sh" "$CDIR" --purge >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
BIN=$("$ROOT/tests/cluster/build.sh") || exit 1
K=$BIN/kubectl
"$ROOT/tests/cluster/up.sh" "$CDIR" --fresh --addons metallb,cert-manager,local-path,k3s,longhorn,cnpg >/dev/null 2>"$TMP/up.err" ||
	{ cat "$TMP/up.err" >&2; exit 1; }
export KUBECONFIG=$CDIR/kubeconfig
"$S7" apply >"$TMP/apply.out" 2>&1 || { tail "$TMP/apply.out" >&2; exit 1; }
. "$ROOT/tests/verify/fixtures.sh"
start_resolvers "$ROOT/examples/sector7.yaml"
hosts=$(python3 -c 'import json,sys; print(" ".join(r["name"] for r in json.load(open(sys.argv[1]))["internal"] if r["for"] != "node"))' "$TMP/dns.json")
# shellcheck disable=SC2086
"$ROOT/tests/verify/mkcerts.sh" "$TMP" $hosts
# shellcheck disable=SC2086
start_ingress 127.0.0.9 $hosts
start_prometheus
play_sql & PIDS+=($!)

median() { sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
: >"$TMP/t"
for i in $(seq "$RUNS"); do
	start=$(date +%s%N)
	"$S7" verify --resolver 127.0.0.1:$IN_PORT --public-resolver 127.0.0.1:$PUB_PORT \
		--ingress "$HTTPS" --prometheus "http://127.0.0.1:$PROM_PORT" --output json >"$TMP/out.json" 2>"$TMP/err"
	code=$?
	end=$(date +%s%N)
	python3 - "$TMP/out.json" "$code" "$(( (end - start) / 1000000 ))" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
print("  run: %s ms, exit %s: %d passed, %d failed, %d skipped, %d API requests" % (
    sys.argv[3], sys.argv[2], d["passed"], d["failed"], d["skipped"], d["api_requests"]))
EOF
	echo "$(( (end - start) / 1000000 ))" >>"$TMP/t"
done
echo "verify of the built-in site: median $(median <"$TMP/t") ms over $RUNS runs"
echo "failed checks of the last run (what the simulated cluster cannot give):"
python3 -c 'import json,sys
for it in json.load(open(sys.argv[1]))["items"]:
    if it["result"] == "fail": print("  %s %s: %s" % (it["component"], it["subject"], it["evidence"][:150]))' "$TMP/out.json"
