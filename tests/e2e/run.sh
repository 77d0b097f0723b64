#!/usr/bin/env bash
# The stack's real containers end to end (tests/e2e/README.md): a cluster
# with one real node (tests/cluster/realnode), the site tests/e2e/site.yaml
# applied by sector7, and from the host, through MetalLB's address and the
# real Traefik with TLS verified against the site's CA: n8n's owner, NocoDB's
# admin, a presigned S3 URL against Garage, the databases, /metrics closed,
# NetworkPolicy, a restart of the node with its data kept; then sector7
# verify, green, and broken one thing at a time.
#
#   SECTOR7=build/sector7 tests/e2e/run.sh          (make e2e)
#   E2E_DIR=DIR  the cluster's directory (default build/e2e-cluster)
#   E2E_KEEP=1   leave the cluster running at the end (make e2e-up does)
#   E2E_ONLY=up  stop after the apply and the first checks
#   E2E_REUSE=1  use the cluster already running in E2E_DIR (no up.sh)
#   E2E_DIAG=DIR where a failed check's details go (default E2E_DIR.diag)
set -u
. "$(dirname "$0")/../lib.sh"
export XDG_CACHE_HOME=${XDG_CACHE_HOME:-$HOME/.cache}
CDIR=${E2E_DIR:-$ROOT/build/e2e-cluster}
mkdir -p "$(dirname "$CDIR")"
CDIR=$(cd "$(dirname "$CDIR")" && pwd)/$(basename "$CDIR")
TMP=$(mktemp -d)
# what a check that fails leaves to read (pod_diagnose)
E2E_DIAG=${E2E_DIAG:-$CDIR.diag}
rm -rf "$E2E_DIAG"
PIDS=()
STOPPED=()
T_START=$(date +%s.%N)

cleanup() {
	local p
	for p in "${STOPPED[@]}"; do kill -CONT "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	if [ "${E2E_KEEP:-0}" != 1 ]; then
		"$ROOT/tests/cluster/down.sh" "$CDIR" --purge >/dev/null 2>&1
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

cd "$ROOT"
BIN=$("$ROOT/tests/cluster/build.sh" --real-node) || { echo "cannot build the cluster binaries" >&2; exit 1; }
K=("$BIN/kubectl" --kubeconfig="$CDIR/kubeconfig")
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/checks.sh"

# ---- up and apply -----------------------------------------------------------------------
if [ "${E2E_REUSE:-0}" = 1 ] && [ -s "$CDIR/kubeconfig" ]; then
	# E2E_REUSE=1: the checks again against the cluster already in CDIR
	# (left by E2E_KEEP=1), with one more apply
	e2e_log "reusing the cluster in $CDIR"
else
	e2e_up || { echo "FAIL: the cluster did not start"; echo "0 passed, 1 failed"; exit 1; }
fi
export KUBECONFIG=$CDIR/kubeconfig
. "$CDIR/realnode.env"
t0=$(date +%s.%N)
if ! e2e_apply >"$TMP/apply.out" 2>&1; then
	tail -n 30 "$TMP/apply.out"
	"${K[@]}" get pods -A -o wide --field-selector "spec.nodeName=$REAL" >&2
	echo "FAIL: sector7 apply did not converge"; echo "0 passed, 1 failed"; exit 1
fi
T_APPLY=$(secs_since "$t0")
info "sector7 apply converged in $T_APPLY s"
info "pods on the real node, created -> Ready: $(pod_start_times)"
e2e_env || { echo "FAIL: no ingress address or site CA"; exit 1; }
info "ingress address $LBIP, domain $DOMAIN"
cat >"$CDIR.env" <<EOF
# The end-to-end site in $CDIR (tests/e2e/README.md)
E2E_KUBECONFIG=$CDIR/kubeconfig
E2E_LB_IP=$LBIP
E2E_DOMAIN=$DOMAIN
E2E_CA=$CDIR.ca.crt
E2E_SITE=$SITE
EOF
cp "$CA" "$CDIR.ca.crt"

second_apply() { e2e_apply >"$TMP/apply2.out" 2>&1 || { tail "$TMP/apply2.out"; return 1; }; grep -q 'no changes' "$TMP/apply2.out" || { tail "$TMP/apply2.out"; return 1; }; }
healthz() { [ "$(code "n8n.$DOMAIN" /healthz)" = 200 ]; }
redirected() { [ "$(curl -sS -o /dev/null -w '%{redirect_url}' --max-time 30 --resolve "n8n.$DOMAIN:80:$LBIP" "http://n8n.$DOMAIN/healthz")" = "https://n8n.$DOMAIN/healthz" ]; }
other_ca_refused() { ! curl -sS -o /dev/null --max-time 30 --resolve "n8n.$DOMAIN:443:$LBIP" "https://n8n.$DOMAIN/healthz"; }
object_kept() {
	local get
	get=$(S3_SECRET=$(cat "$(secret_file appflowy appflowy-s3 secret-key)") python3 "$ROOT/tests/cluster/images/checks/presign.py" GET \
		http://appflowy-s3:9000/appflowy/e2e/object.bin "GK$(cat "$(secret_file appflowy appflowy-s3 key-id-hex)")" - | sed 's#^http://appflowy-s3:9000#/minio-api#')
	https "appflowy.$DOMAIN" "$get" -f -o "$TMP/s3-again" && cmp "$TMP/s3-object" "$TMP/s3-again"
}
check "a second apply changes nothing" second_apply
check "the built pods run on the real node, Running and Ready on their rendered probes" pods_real_ready
check "only pods whose every image was built here are on the real node" only_local_images_on_real_node
check "the pods whose images are not built here are on the kwok node" pods_on_kwok
check "the containers run as their rendered security contexts say (UID, read-only root)" security_contexts_hold
check "MetalLB gave Traefik the site's ingress address" test "$LBIP" = "$(python3 -c 'import sys,yaml; print(yaml.safe_load(open(sys.argv[1]))["network"]["ingress-ip"])' "$SITE")"
check "n8n /healthz through Traefik, TLS verified against the site's CA" healthz
check "plain HTTP is redirected to HTTPS" redirected
check "without the site's CA the certificate is not trusted" other_ca_refused
OWNER=$(secret_file n8n n8n-owner password)
check "n8n: the owner logs in with the generated password" n8n_login "$OWNER"
check "n8n: a wrong password is refused" n8n_wrong_password_refused
check "n8n: a first visitor cannot claim the instance" n8n_no_claim
check "n8n: a workflow created through the REST API" n8n_workflow_create "e2e workflow $$"
check_if nocodb "NocoDB: the admin signs in with the generated password" nocodb_signin "$(secret_file nocodb nocodb NC_ADMIN_PASSWORD)"
check_if nocodb "NocoDB: a wrong password is refused" nocodb_wrong_password_refused
check_if garage "Garage: a presigned PUT and GET through the ingress; tampered and unsigned refused" s3_presigned
check "n8n's tables are in the shared PostgreSQL, owned by its role" n8n_tables_in_postgres
check "pgvector works in AppFlowy's database" pgvector_in_appflowy
check "/metrics is refused at the ingress" metrics_refused
check "NetworkPolicy: Traefik reaches n8n, n8n reaches PostgreSQL" netpol_allowed
check "NetworkPolicy: AppFlowy's Valkey (and NocoDB) reach neither n8n nor the shared PostgreSQL" netpol_denied

if [ "${E2E_ONLY:-}" = up ]; then
	echo "$PASS passed, $FAIL failed, $SKIP skipped"
	[ "$FAIL" = 0 ]; exit
fi

# ---- the node restarted ---------------------------------------------------------------------
t0=$(date +%s.%N)
if SECTOR7_REALNODE_READY_TIMEOUT=${E2E_RESTART_TIMEOUT:-180} "$ROOT/tests/cluster/realnode/restart.sh" "$CDIR" >"$TMP/restart.out" 2>&1; then
	PASS=$((PASS + 1)); echo "ok   restart.sh: kubelet and containerd restarted, the node Ready again in $(tail -n 1 "$TMP/restart.out") s"
else
	tail "$TMP/restart.out"; FAIL=$((FAIL + 1)); echo "FAIL restart.sh"
fi
check "after kubelet + containerd restart: the pods are back, Ready" retry 900 pods_real_ready
info "pods Ready again $(secs_since "$t0") s after the restart began"
check "after the restart: the owner logs in again" retry 120 n8n_login "$OWNER"
check "after the restart: the workflow is still there (PostgreSQL's volume kept)" n8n_workflow_there "e2e workflow $$"
check_if garage "after the restart: Garage still has the object (its volume kept)" object_kept

# ---- sector7 verify -----------------------------------------------------------------------
. "$ROOT/tests/e2e/verify.sh"

info "RSS on the real node (MB): $(ps -o rss=,comm= -p "$(cat "$CDIR/run/kubelet.pid")" "$(cat "$CDIR/run/containerd.pid")" | awk '{printf "%s %d; ", $2, $1/1024}')"
info "wall time $(secs_since "$T_START") s"
echo "$PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" = 0 ]
