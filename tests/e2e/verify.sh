# Sourced by tests/e2e/run.sh: sector7 verify against the real-node site.
#
# Probes go to what the site really has: the ingress address (the real
# Traefik), the API server, query pods on the real node (real psql against
# CloudNativePG).  The resolvers are Unbound on loopback with the data of
# `sector7 dns` (tests/verify/fixtures.sh): the internal one is what the
# site's firewall would serve; the public one stands in for the internet.
#
# Checks that cannot pass here, each asserted to fail for its reason:
#   - the HTTPS checks of apps whose pods run on the kwok node (Heimdall,
#     AppFlowy's GoTrue, cloud and admin: closed or unbuildable images):
#     Traefik has their endpoints, but nothing answers at a kwok pod's
#     address;
#   - Longhorn's backup: Longhorn is simulated (its StorageClass over
#     local-path-provisioner), so no backups.longhorn.io ever complete.
# Then one thing is broken at a time, each exit 6 naming what and why.

. "$ROOT/tests/verify/fixtures.sh"
start_resolvers "$SITE"
V=("$S7" verify -f "$SITE" --resolver "127.0.0.1:$IN_PORT" --public-resolver "127.0.0.1:$PUB_PORT" --timeout 60)

# The nightly dumps, really run by the CronJob controller: each CronJob's
# schedule set to every minute until it has a successful run
# (status.lastSuccessfulTime, what verify reads), then sector7 apply puts
# the site's schedule back.
dumps_run() {
	local cj ns name t
	for cj in postgres/postgres-dump appflowy/appflowy-db-dump; do
		"${K[@]}" -n "${cj%/*}" patch cronjob "${cj#*/}" --type=merge -p '{"spec":{"schedule":"* * * * *"}}' >/dev/null || return 1
	done
	for cj in postgres/postgres-dump appflowy/appflowy-db-dump; do
		ns=${cj%/*} name=${cj#*/}
		retry 420 sh -c "[ -n \"\$(\"$BIN/kubectl\" --kubeconfig=$CDIR/kubeconfig -n $ns get cronjob $name -o jsonpath='{.status.lastSuccessfulTime}')\" ]" ||
			{ echo "$cj: no successful run"; "${K[@]}" -n "$ns" get jobs,pods -o wide 2>&1 | tail -5; return 1; }
		t=$("${K[@]}" -n "$ns" get cronjob "$name" -o jsonpath='{.status.lastSuccessfulTime}')
		echo "$cj: last success $t"
	done
	e2e_apply >"$TMP/apply3.out" 2>&1 || { tail -5 "$TMP/apply3.out"; return 1; }
	[ "$("${K[@]}" -n postgres get cronjob postgres-dump -o jsonpath='{.spec.schedule}')" = "$(python3 -c 'import sys,yaml; print(yaml.safe_load(open(sys.argv[1]))["backup"]["schedule"])' "$SITE")" ] ||
		{ echo "apply did not restore the schedule"; return 1; }
}
t0=$(date +%s.%N)
check "the nightly dumps run from their CronJobs (scheduled every minute, then apply restores the site's schedule)" dumps_run
info "dumps done in $(secs_since "$t0") s"

# verify_expect CODE FILE ARGS...: verify's exit code, output in FILE
verify_expect() {
	local want=$1 out=$2 rc
	shift 2
	"${V[@]}" "$@" >"$out" 2>"$out.err"
	rc=$?
	[ "$rc" = "$want" ] || { echo "exit $rc, want $want"; tail -n 5 "$out.err"; grep '✗' "$out" | head -20; return 1; }
}
has() { grep -qF -- "$2" "$1" || { echo "'$2' not in $(basename "$1"):"; grep -E '✗|^[0-9]+ passed' "$1" | head -20; return 1; }; }

# The failures this cluster cannot avoid, by subject.
EXPECTED_FAIL=(
	"heimdall https://$DOMAIN/:"
	"appflowy https://appflowy.$DOMAIN/gotrue/health:"
	"appflowy https://appflowy.$DOMAIN/api/health:"
	"appflowy https://appflowy.$DOMAIN/console:"
	"backup Longhorn backup:"
)
has_image nocodb || EXPECTED_FAIL+=("nocodb https://nocodb.$DOMAIN/api/v1/health:")
only_expected_failures() { # FILE: every ✗ is one of EXPECTED_FAIL, and each of those fails
	local f=$1 line e ok bad=0
	while IFS= read -r line; do
		ok=0
		for e in "${EXPECTED_FAIL[@]}"; do case $line in *"✗ $e"*) ok=1 ;; esac; done
		[ $ok = 1 ] || { echo "unexpected: $line"; bad=1; }
	done < <(grep '✗' "$f")
	for e in "${EXPECTED_FAIL[@]}"; do grep -qF "✗ $e" "$f" || { echo "expected to fail, did not: $e"; bad=1; }; done
	return $bad
}

v_green() {
	verify_expect 6 "$TMP/v-all.out" || return 1
	only_expected_failures "$TMP/v-all.out" || return 1
	has "$TMP/v-all.out" "✓ ingress Service kube-system/traefik address: LoadBalancer address $LBIP assigned" &&
	has "$TMP/v-all.out" "✓ n8n https://n8n.$DOMAIN/healthz: 200 in" &&
	{ ! has_image nocodb || has "$TMP/v-all.out" "✓ nocodb https://nocodb.$DOMAIN/api/v1/health: 200 in"; } &&
	has "$TMP/v-all.out" "chain verified against the cluster's CA cert-manager/sector7-ca" &&
	has "$TMP/v-all.out" "✓ postgres PostgreSQL postgres/postgres database postgres: as postgres-dump: databases n8n, nocodb; roles dump, n8n, nocodb" &&
	has "$TMP/v-all.out" "✓ appflowy PostgreSQL appflowy/appflowy-db database appflowy: as appflowy-db-dump: database appflowy; roles appflowy, dump; extension vector" &&
	has "$TMP/v-all.out" "✓ backup CronJob postgres/postgres-dump last success:" &&
	has "$TMP/v-all.out" "✓ backup CronJob appflowy/appflowy-db-dump last success:" &&
	has "$TMP/v-all.out" "✓ cert-manager ClusterIssuer sector7-ca Ready"
}
check "verify: every check passes but those that cannot here (kwok apps' HTTPS, Longhorn's backups)" v_green
info "verify: $(tail -n 1 "$TMP/v-all.out")"
grep '✗' "$TMP/v-all.out" | sed 's/^/info   expected: /' | cut -c1-220

v_n8n_down() {
	"${K[@]}" -n n8n scale deploy n8n --replicas=0 >/dev/null
	retry 120 sh -c "[ -z \"\$(\"$BIN/kubectl\" --kubeconfig=$CDIR/kubeconfig -n n8n get endpointslices -l kubernetes.io/service-name=n8n -o jsonpath='{.items[*].endpoints[*].addresses[0]}')\" ]" || return 1
	verify_expect 6 "$TMP/v.out" --only n8n
	local r=$?
	"${K[@]}" -n n8n scale deploy n8n --replicas=1 >/dev/null
	[ $r = 0 ] && has "$TMP/v.out" "✗ n8n Service n8n/n8n endpoints: no ready endpoints" &&
		has "$TMP/v.out" "✗ n8n https://n8n.$DOMAIN/healthz:"
}
check "verify: n8n scaled to 0 fails its endpoints and its HTTPS check" v_n8n_down

# cert-manager (out of cluster) paused so it cannot reissue at once
pause_cm() { local cm p; cm=$(cat "$CDIR/run/addon-cert-manager.pid"); for p in $cm $(pgrep -P "$cm"); do kill -STOP "$p" && STOPPED+=("$p"); done; }
resume_cm() { local p; for p in "${STOPPED[@]}"; do kill -CONT "$p"; done; STOPPED=(); }

v_tls_deleted() {
	pause_cm
	"${K[@]}" -n nocodb delete secret nocodb-tls >/dev/null
	verify_expect 6 "$TMP/v.out" --only nocodb
	local r=$?
	resume_cm
	[ $r = 0 ] && has "$TMP/v.out" "✗ nocodb Certificate nocodb/nocodb-tls: Ready, but its Secret nocodb/nocodb-tls is missing"
}
check "verify: a deleted TLS Secret fails, naming it" v_tls_deleted

# A certificate issued to expire in 2 days: the Ingress asks cert-manager
# for a 49 h certificate (renewed 1 h before the end); a changed duration
# alone is not reissued, so its Secret is deleted and cert-manager issues
# the short one, which Traefik then serves.  Undone the same way.
served_expires_within() { # served_expires_within SECONDS: the leaf Traefik serves for n8n does
	! openssl s_client -connect "$LBIP:443" -servername "n8n.$DOMAIN" -CAfile "$CA" </dev/null 2>/dev/null |
		openssl x509 -noout -checkend "$1" >/dev/null
}
reissue_n8n_tls() { # reissue_n8n_tls WANT_DURATION ('' for the default)
	retry 60 sh -c "[ \"\$(\"$BIN/kubectl\" --kubeconfig=$CDIR/kubeconfig -n n8n get certificate n8n-tls -o jsonpath='{.spec.duration}')\" = '$1' ]" ||
		{ echo "the Certificate's duration is not '$1'"; return 1; }
	"${K[@]}" -n n8n delete secret n8n-tls >/dev/null
	retry 180 "${K[@]}" -n n8n get secret n8n-tls -o name >/dev/null 2>&1 || { echo "n8n-tls not reissued"; return 1; }
}
v_short_cert() {
	local r
	"${K[@]}" -n n8n annotate ingress n8n cert-manager.io/duration=49h cert-manager.io/renew-before=1h --overwrite >/dev/null
	reissue_n8n_tls 49h0m0s || return 1
	retry 120 served_expires_within 259200 || { echo "Traefik still serves the long certificate"; return 1; }
	verify_expect 6 "$TMP/v.out" --only n8n
	r=$?
	"${K[@]}" -n n8n annotate ingress n8n cert-manager.io/duration- cert-manager.io/renew-before- >/dev/null
	reissue_n8n_tls "" || echo "n8n-tls not reissued with the default duration"
	retry 120 eval '! served_expires_within 2592000' || echo "the long certificate is not back"
	[ $r = 0 ] && has "$TMP/v.out" "✗ n8n Certificate n8n/n8n-tls:" && has "$TMP/v.out" "✗ n8n https://n8n.$DOMAIN/healthz:" &&
		grep -E '✗ n8n (Certificate|https).*(1|2) (more )?day' "$TMP/v.out"
}
check "verify: a certificate issued to expire in 2 days fails (Certificate and HTTPS)" v_short_cert

v_dump_fails() {
	local job=postgres-dump-bad-$$
	"${K[@]}" -n postgres create job "$job" --from=cronjob/postgres-dump --dry-run=client -o json |
		python3 -c '
import json, sys
j = json.load(sys.stdin)
j["spec"]["backoffLimit"] = 0
for c in j["spec"]["template"]["spec"]["containers"]:
    c["env"] = [e for e in c["env"] if e["name"] != "PGPASSWORD"] + [{"name": "PGPASSWORD", "value": "wrong"}]
print(json.dumps(j))' | "${K[@]}" create -f - >/dev/null
	"${K[@]}" -n postgres wait --for=condition=failed --timeout=300s "job/$job" >/dev/null || { echo "the bad dump did not fail"; return 1; }
	verify_expect 6 "$TMP/v.out" --only backup --since 1h
	local r=$?
	"${K[@]}" -n postgres delete job "$job" >/dev/null
	[ $r = 0 ] && has "$TMP/v.out" "postgres-dump" && grep -E '✗.*postgres-dump.*fail' "$TMP/v.out"
}
check "verify --since: a dump Job that failed fails the backup runs, naming it" v_dump_fails

v_hand_edit() {
	"${K[@]}" -n nocodb patch deploy nocodb --type=merge -p '{"spec":{"revisionHistoryLimit":4}}' >/dev/null
	verify_expect 6 "$TMP/v.out" --only nocodb --since 1h
	local r=$?
	[ $r = 0 ] && has "$TMP/v.out" "Deployment nocodb/nocodb by kubectl-patch"
}
check "verify --since: a field changed with kubectl fails, naming the object and the manager" v_hand_edit

v_resolver_stopped() {
	kill "$UNBOUND_IN"; wait "$UNBOUND_IN" 2>/dev/null
	verify_expect 6 "$TMP/v.out" --only n8n
	has "$TMP/v.out" "✗ n8n internal DNS n8n.$DOMAIN A: 127.0.0.1:$IN_PORT: connection refused"
}
check "verify: the internal resolver stopped fails every internal name" v_resolver_stopped
