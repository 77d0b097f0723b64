#!/usr/bin/env bash
# sector7 verify against the simulated cluster (tests/cluster), with every
# probe sent to loopback servers this script starts:
#   - two Unbound instances (Debian's) answering the internal overrides and
#     the public zone, their data taken from `sector7 dns`;
#   - an HTTPS server on 127.0.0.8 presenting, per SNI, the certificates
#     the cluster's real cert-manager issued for each host (the site is the
#     built-in one with self-signed certificates, so the CA is the
#     cluster's own, read by verify from its Secret);
#   - a real Prometheus on loopback (the simulated cluster runs no
#     Prometheus pod, so verify is pointed at it with --prometheus).
# Test fixtures, named as such: kwok runs no container, so a stand-in
# plays the query pod's container (it writes the termination message
# PostgreSQL's answer would give, by patching the pod's status); the
# CronJobs' last success and one Longhorn Backup are written into their
# status the way the controllers would.
#
# Then one thing is broken at a time, each giving exit 6 and naming what
# and why: n8n scaled to 0, a TLS Secret deleted (cert-manager paused so
# it cannot reissue it at once), a field changed by hand (--since), a
# container restart (--since), the internal resolver stopped.
#
#   SECTOR7=build/sector7 tests/verify/run.sh
set -u
. "$(dirname "$0")/../lib.sh"
export XDG_CACHE_HOME=${XDG_CACHE_HOME:-$HOME/.cache}
CDIR=${VTEST_DIR:-$ROOT/build/verify-cluster}
ADDONS=metallb,cert-manager,local-path,k3s,longhorn,cnpg
TMP=$(mktemp -d)
SITE=$ROOT/tests/verify/site.yaml
PIDS=()
STOPPED=()

cleanup() {
	local p
	for p in "${STOPPED[@]}"; do kill -CONT "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	"$ROOT/tests/cluster/down.sh" "$CDIR" --purge >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT

cd "$ROOT"
BIN=$("$ROOT/tests/cluster/build.sh") || { echo "cannot build the cluster binaries" >&2; exit 1; }
K="$BIN/kubectl"
for t in /usr/sbin/unbound /usr/bin/prometheus openssl; do
	command -v "$t" >/dev/null || { echo "tests/verify: $t is missing (tools/deps.sh)" >&2; exit 1; }
done
"$ROOT/tests/cluster/up.sh" "$CDIR" --fresh --addons "$ADDONS" >/dev/null 2>"$TMP/up.err" ||
	{ cat "$TMP/up.err" >&2; exit 1; }
export KUBECONFIG=$CDIR/kubeconfig
"$S7" apply -f "$SITE" >"$TMP/apply.out" 2>&1 || { tail -20 "$TMP/apply.out" >&2; exit 1; }

. "$ROOT/tests/verify/fixtures.sh"
start_resolvers "$SITE"
# the ingress stand-in, with the certificates cert-manager issued
HOSTS=()
for pair in heimdall/heimdall-tls n8n/n8n-tls nocodb/nocodb-tls appflowy/appflowy-tls monitoring/grafana-tls; do
	ns=${pair%/*} sec=${pair#*/}
	host=$("$K" -n "$ns" get certificate "$sec" -o jsonpath='{.spec.dnsNames[0]}')
	"$K" -n "$ns" get secret "$sec" -o jsonpath='{.data.tls\.crt}' | base64 -d >"$TMP/$host.crt"
	"$K" -n "$ns" get secret "$sec" -o jsonpath='{.data.tls\.key}' | base64 -d >"$TMP/$host.key"
	HOSTS+=("$host")
done
start_ingress 127.0.0.8 "${HOSTS[@]}"
start_prometheus
play_sql & PIDS+=($!)

# -- the backups' status, as the CronJob controller and Longhorn write it
two_h_ago=$(date -u -d '2 hours ago' +%Y-%m-%dT%H:%M:%SZ)
for cj in postgres/postgres-dump appflowy/appflowy-db-dump; do
	"$K" -n "${cj%/*}" patch cronjob "${cj#*/}" --subresource=status --type=merge \
		-p "{\"status\":{\"lastScheduleTime\":\"$two_h_ago\",\"lastSuccessfulTime\":\"$two_h_ago\"}}" >/dev/null
done
"$K" -n longhorn-system create -f - >/dev/null <<EOF
apiVersion: longhorn.io/v1beta2
kind: Backup
metadata: {name: backup-fixture, labels: {backup-volume: pvc-fixture}}
spec: {snapshotName: sector7-backup-fixture}
EOF
"$K" -n longhorn-system patch backups.longhorn.io backup-fixture --subresource=status --type=merge \
	-p "{\"status\":{\"state\":\"Completed\",\"backupCreatedAt\":\"$two_h_ago\",\"volumeName\":\"pvc-fixture\"}}" >/dev/null

V=("$S7" verify -f "$SITE" --resolver 127.0.0.1:$IN_PORT --public-resolver 127.0.0.1:$PUB_PORT
   --ingress "$HTTPS" --prometheus "http://127.0.0.1:$PROM_PORT" --timeout 10)

echo "  verify: every check of the site passes"
expect 0 "${V[@]}"
cat "$TMP/out" >"$TMP/all.out"
contains "$TMP/out" "✓ metallb nodes Ready: 2 of 2 Ready: aurora (v1.36.3+k3s1), optiplex (v1.36.3+k3s1)"
contains "$TMP/out" "✓ ingress Service kube-system/traefik address: LoadBalancer address 192.168.2.200 assigned"
contains "$TMP/out" "✓ ingress public DNS sector7.helloworlddao.com A: A 71.73.220.69"
contains "$TMP/out" "✓ ingress public DNS *.sector7.helloworlddao.com CNAME: CNAME sector7.helloworlddao.com"
contains "$TMP/out" "✓ n8n internal DNS n8n.sector7.helloworlddao.com A: A 192.168.2.200"
contains "$TMP/out" "✓ longhorn default StorageClass longhorn: longhorn is the default, numberOfReplicas 2"
contains "$TMP/out" "✓ nvidia node aurora allocatable nvidia.com/gpu: 1"
contains "$TMP/out" "✓ cert-manager ClusterIssuer sector7-ca Ready"
contains "$TMP/out" "✓ n8n https://n8n.sector7.helloworlddao.com/healthz: 200 in"
contains "$TMP/out" "certificate valid 89 days (chain verified against the cluster's CA cert-manager/sector7-ca)"
contains "$TMP/out" "✓ postgres PostgreSQL postgres/postgres database postgres: as postgres-dump: databases n8n, nocodb; roles dump, n8n, nocodb"
contains "$TMP/out" "✓ appflowy PostgreSQL appflowy/appflowy-db database appflowy: as appflowy-db-dump: database appflowy; roles appflowy, dump; extension vector"
contains "$TMP/out" "✓ monitoring Prometheus targets up: 1 of 1 targets up"
contains "$TMP/out" "✓ monitoring Prometheus alerts: no alert firing (by design: Watchdog)"
contains "$TMP/out" "✓ backup CronJob postgres/postgres-dump last success: last success 2 h ago"
contains "$TMP/out" "✓ backup Longhorn backup: newest completed backup backup-fixture, 2 h ago (1 completed)"
contains "$TMP/out" "- backup Velero backup: skipped: Velero needs an S3 backup target"
grep -q "✗" "$TMP/out" && fail "a check failed: $(grep "✗" "$TMP/out")"
# the phases in the gameplan's order
[ "$(grep -E '^Phase' "$TMP/out" | tr '\n' '|')" = "Phase 1: infrastructure|Phase 2: gpu|Phase 3: core services|Phase 4: appflowy|Phase 5: monitoring and backups|" ] ||
	fail "phases: $(grep -E '^Phase' "$TMP/out")"

echo "  verify: the query pods carry the dump role's Secret by reference and are deleted"
for f in "$TMP"/pod-*.json; do
	[ -e "$f" ] || { fail "no query pod was seen"; break; }
	python3 - "$f" <<'EOF' || fail "query pod $(basename "$f")"
import json, sys
p = json.load(open(sys.argv[1]))
c = p["spec"]["containers"][0]
env = {e["name"]: e for e in c["env"]}
assert "value" not in env["PGPASSWORD"], "a password value in the pod"
assert env["PGPASSWORD"]["valueFrom"]["secretKeyRef"]["name"].endswith("dump"), env["PGPASSWORD"]
assert p["spec"]["restartPolicy"] == "Never"
assert c["terminationMessagePolicy"] == "File"
EOF
	name=$(basename "$f" .json); name=${name#pod-}
	grep -q '"kind": "Pod"' "$TMP/np-$name.json" || fail "NetworkPolicy $name is not owned by its pod: $(head -c 300 "$TMP/np-$name.json")"
done
[ "$("$K" get pods -A -l sector7.io/verify -o name | wc -l)" = 0 ] || fail "query pods left behind: $("$K" get pods -A -l sector7.io/verify -o name)"

echo "  verify: --output json holds the same results"
expect 0 "${V[@]}" --output json
python3 - "$TMP/out" "$TMP/all.out" <<'EOF' || fail "json and text differ"
import json, sys
d = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
assert d["failed"] == 0 and d["passed"] > 30, (d["passed"], d["failed"])
for it in d["items"]:
    mark = {"pass": "✓", "fail": "✗", "skipped": "-"}[it["result"]]
    line = "  %s %s %s: " % (mark, it["component"], it["subject"])
    assert line in text, line
EOF

echo "  verify: --phase and --only narrow it"
expect 0 "${V[@]}" --phase 2
[ "$(grep -c '^  ✓' "$TMP/out")" = 1 ] || fail "--phase 2: $(cat "$TMP/out")"
expect 2 "${V[@]}" --only nosuch
contains "$TMP/err" "no enabled component matches --only nosuch"
expect 2 "${V[@]}" --since soon
contains "$TMP/err" "--since 'soon' is not a window like 48h"

echo "  verify: n8n scaled to 0 fails, naming the Service with nothing behind it"
"$K" -n n8n scale deploy n8n --replicas=0 >/dev/null
for i in $(seq 50); do
	[ -z "$("$K" -n n8n get endpointslices -l kubernetes.io/service-name=n8n -o jsonpath='{.items[*].endpoints[*].addresses[0]}')" ] && break; sleep 0.2
done
expect 6 "${V[@]}" --only n8n
contains "$TMP/out" "✗ n8n Service n8n/n8n endpoints: no ready endpoints (0 not ready): nothing serves it"
"$K" -n n8n scale deploy n8n --replicas=1 >/dev/null

echo "  verify: a deleted TLS Secret fails (cert-manager paused so it cannot reissue it)"
cm=$(cat "$CDIR/run/addon-cert-manager.pid")
for p in $cm $(pgrep -P "$cm"); do kill -STOP "$p" && STOPPED+=("$p"); done
"$K" -n nocodb delete secret nocodb-tls >/dev/null
expect 6 "${V[@]}" --only nocodb
contains "$TMP/out" "✗ nocodb Certificate nocodb/nocodb-tls: Ready, but its Secret nocodb/nocodb-tls is missing"
for p in "${STOPPED[@]}"; do kill -CONT "$p"; done
STOPPED=()

echo "  verify: --since names a field changed by hand and a container restart"
"$K" -n heimdall patch deploy heimdall --type=merge -p '{"spec":{"revisionHistoryLimit":3}}' >/dev/null
pod=$("$K" -n heimdall get pods -o jsonpath='{.items[0].metadata.name}')
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
"$K" -n heimdall patch pod "$pod" --subresource=status --type=json -p \
	"[{\"op\":\"replace\",\"path\":\"/status/containerStatuses/0/restartCount\",\"value\":2},{\"op\":\"add\",\"path\":\"/status/containerStatuses/0/lastState\",\"value\":{\"terminated\":{\"exitCode\":137,\"reason\":\"OOMKilled\",\"startedAt\":\"$now\",\"finishedAt\":\"$now\"}}}]" >/dev/null
expect 6 "${V[@]}" --only heimdall --since 1h
contains "$TMP/out" "Success criteria (--since 1h)"
contains "$TMP/out" "by kubectl-patch (Update) at"
contains "$TMP/out" "Deployment heimdall/heimdall by kubectl-patch"
contains "$TMP/out" "heimdall/$pod heimdall restarted 2 times, last at $now (OOMKilled, exit 137)"
grep -q "metallb-system\|by sector7\|controllers-sim" "$TMP/out" && fail "a controller's write was taken for a hand edit: $(grep 'by hand' "$TMP/out")"
expect 6 "${V[@]}" --only monitoring --since 1h
contains "$TMP/out" "✓ monitoring no alert fired in the last 1 h"

echo "  verify: the internal resolver stopped fails every internal name"
kill "$UNBOUND_IN"; wait "$UNBOUND_IN" 2>/dev/null
expect 6 "${V[@]}" --only heimdall
contains "$TMP/out" "✗ heimdall internal DNS sector7.helloworlddao.com A: 127.0.0.1:$IN_PORT: connection refused (nothing answers on that port)"

echo "  verify: a cluster that cannot be read is exit 4, before any check"
sed "s#server: https://127.0.0.1:[0-9]*#server: https://127.0.0.1:1#" "$KUBECONFIG" >"$TMP/dead.kubeconfig"
expect 4 "${V[@]}" --kubeconfig "$TMP/dead.kubeconfig"
[ -s "$TMP/out" ] && fail "exit 4 printed results: $(head -3 "$TMP/out")"

echo "  verify: $runs runs, $fails failed"
echo "$((runs - fails)) passed, $fails failed"
[ "$fails" = 0 ]
