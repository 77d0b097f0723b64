# Sourced by tests/e2e/run.sh: the checks of the running site, from the
# host through the LoadBalancer address MetalLB gave Traefik, with TLS
# verified against the site's CA.  Credentials are read from their
# Secrets into files under $TMP (0600) and handed to curl from there:
# never printed, never on a command line.
#
# Needs: K (kubectl), TMP, SITE, and from e2e_env: LBIP, CA, DOMAIN, EMAIL.

PASS=0 FAIL=0
check() { # check NAME CMD...
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		PASS=$((PASS + 1)); echo "ok   $name"
	else
		FAIL=$((FAIL + 1)); echo "FAIL $name"; printf '%s\n' "$out" | tail -n 12 | sed 's/^/     /'
	fi
}
info() { echo "info $*"; }
SKIP=0
skip() { SKIP=$((SKIP + 1)); echo "skip $1 ($2)"; }
# check_if IMAGE NAME CMD...: the check when IMAGE was built, else a skip
check_if() { local img=$1; shift; if has_image "$img"; then check "$@"; else skip "$1" "no $img image here: its pods are on the kwok node"; fi; }
retry() { # retry SECONDS CMD...
	local end=$(($(date +%s) + $1))
	shift
	until "$@"; do [ "$(date +%s)" -lt "$end" ] || return 1; sleep 2; done
}

# e2e_env: the site's address, domain and CA as the cluster has them.
e2e_env() {
	DOMAIN=$(python3 -c 'import sys,yaml; print(yaml.safe_load(open(sys.argv[1]))["domain"])' "$SITE")
	EMAIL=$(python3 -c 'import sys,yaml; print(yaml.safe_load(open(sys.argv[1]))["email"])' "$SITE")
	LBIP=$("${K[@]}" -n kube-system get svc traefik -o jsonpath='{.status.loadBalancer.ingress[0].ip}')
	CA=$TMP/site-ca.crt
	"${K[@]}" -n cert-manager get secret sector7-ca -o jsonpath='{.data.ca\.crt}' | base64 -d >"$CA"
	export DOMAIN EMAIL
	[ -n "$LBIP" ] && [ -s "$CA" ]
}

# secret_file NS NAME KEY: the value into a 0600 file; prints its path.
secret_file() {
	local f=$TMP/secret.$1.$2.$3
	(umask 077; "${K[@]}" -n "$1" get secret "$2" -o "jsonpath={.data.${3//./\\.}}" | base64 -d >"$f")
	[ -s "$f" ] || { echo "no key $3 in Secret $1/$2" >&2; return 1; }
	echo "$f"
}

# json_file FILE PYTHON-EXPR: writes json.dumps(EXPR) to FILE (0600); the
# expression sees secret(PATH) (a file's content) and the environment.
json_file() {
	(umask 077; python3 -c '
import json, os, sys
def secret(p):
    return open(p).read()
print(json.dumps(eval(sys.argv[1])))' "$2" >"$1")
}

# https HOST PATH [curl args...]: through the ingress address, the site's
# CA and nothing else; prints the body, fails on a transport error.
https() {
	local host=$1 path=$2
	shift 2
	curl -sS --max-time 60 --cacert "$CA" --resolve "$host:443:$LBIP" "$@" "https://$host$path"
}
# code HOST PATH [curl args...]: only the status
code() { https "$@" -o /dev/null -w '%{http_code}'; }

# ---- placement and readiness -----------------------------------------------------------

# The pods that must run on the real node, by namespace and label selector.
REAL_PODS=(
	"kube-system app.kubernetes.io/name=traefik"
	"cnpg-system app.kubernetes.io/name=cloudnative-pg"
	"postgres cnpg.io/cluster=postgres,cnpg.io/podRole=instance"
	"n8n app.kubernetes.io/name=n8n,app.kubernetes.io/component=main"
	"appflowy cnpg.io/cluster=appflowy-db,cnpg.io/podRole=instance"
	"appflowy app.kubernetes.io/component=redis"
)
has_image nocodb && REAL_PODS+=("nocodb app.kubernetes.io/name=nocodb")
has_image garage && REAL_PODS+=("appflowy app.kubernetes.io/component=s3")
# ... and the ones that must not be (their images are not built here)
KWOK_PODS=(
	"heimdall app.kubernetes.io/name=heimdall"
	"appflowy app.kubernetes.io/component=gotrue"
	"appflowy app.kubernetes.io/component=cloud"
)
has_image nocodb || KWOK_PODS+=("nocodb app.kubernetes.io/name=nocodb")
has_image garage || KWOK_PODS+=("appflowy app.kubernetes.io/component=s3")

pods_on_kwok() {
	local spec ns sel out bad=0
	for spec in "${KWOK_PODS[@]}"; do
		ns=${spec%% *} sel=${spec#* }
		out=$("${K[@]}" -n "$ns" get pods -l "$sel" -o jsonpath='{range .items[*]}{.metadata.name} {.spec.nodeName}{"\n"}{end}')
		[ -n "$out" ] || { echo "$ns $sel: no pod"; bad=1; continue; }
		while read -r name node; do
			[ "$node" != "$REAL" ] && [ -n "$node" ] || { echo "$ns/$name on '$node'"; bad=1; }
		done <<<"$out"
	done
	return $bad
}

pods_real_ready() {
	local spec ns sel out bad=0
	for spec in "${REAL_PODS[@]}"; do
		ns=${spec%% *} sel=${spec#* }
		out=$("${K[@]}" -n "$ns" get pods -l "$sel" -o jsonpath='{range .items[*]}{.metadata.name} {.spec.nodeName} {.status.phase} {.status.containerStatuses[*].ready}{"\n"}{end}')
		if [ -z "$out" ]; then echo "$ns $sel: no pod"; bad=1; continue; fi
		while read -r name node phase ready; do
			[ "$node" = "$REAL" ] && [ "$phase" = Running ] && case " $ready " in *false*) false ;; *) true ;; esac ||
				{ echo "$ns/$name: on $node, $phase, ready: $ready"; pod_diagnose "$ns" "$name"; bad=1; }
		done <<<"$out"
	done
	return $bad
}

# pod_diagnose NS NAME: why a pod is not ready, in one line (restarts and
# the last termination), and in full (conditions, container states, the
# namespace's events, the logs of this and the previous container) in
# $E2E_DIAG/NS.NAME.txt, which the line names.
pod_diagnose() {
	local ns=$1 name=$2 f
	mkdir -p "$E2E_DIAG"
	f=$E2E_DIAG/$ns.$name.txt
	"${K[@]}" -n "$ns" get pod "$name" -o jsonpath='{range .status.containerStatuses[*]}     {.name}: restarts {.restartCount}, last {.lastState.terminated.reason} (exit {.lastState.terminated.exitCode}, {.lastState.terminated.finishedAt}), now {.state}{"\n"}{end}' 2>&1
	{
		echo "== $(date -u +%FT%TZ) pod $ns/$name"
		"${K[@]}" -n "$ns" get pod "$name" -o yaml
		echo "== events in $ns"
		"${K[@]}" -n "$ns" get events --sort-by=.lastTimestamp
		echo "== logs"
		"${K[@]}" -n "$ns" logs "$name" --all-containers --tail=200
		echo "== logs of the previous container"
		"${K[@]}" -n "$ns" logs "$name" --all-containers --previous --tail=200
		echo "== the CloudNativePG operator's lines naming it"
		"${K[@]}" -n cnpg-system logs deploy/cnpg-controller-manager --tail=2000 | grep -F "$name" | tail -n 100
	} >"$f" 2>&1
	echo "     details: $f"
}

# Nothing else runs on the real node but what the policy let in.
only_local_images_on_real_node() {
	local bad
	bad=$("${K[@]}" get pods -A --field-selector "spec.nodeName=$REAL" -o json | python3 -c '
import json, sys
refs = set(open(sys.argv[1]).read().split())
for p in json.load(sys.stdin)["items"]:
    imgs = [c["image"] for c in p["spec"]["containers"] + p["spec"].get("initContainers", [])]
    if any(i not in refs for i in imgs):
        print(p["metadata"]["namespace"] + "/" + p["metadata"]["name"], imgs)' "$CDIR.images/local-refs.txt")
	[ -z "$bad" ] || { echo "$bad"; return 1; }
}

# Every container of every pod on the real node runs as its rendered
# security context says, read from the host (/proc of the container's
# process, found through the node's containerd; distroless images have no
# shell): the UID (runAsUser, else not 0 where runAsNonRoot), a read-only
# root file system where asked, no_new_privs where privilege escalation is
# off, no effective capabilities where ALL are dropped.
security_contexts_hold() {
	local tasks
	tasks=$(ctr --address "$REALNODE_CONTAINERD_SOCK" -n k8s.io task ls) || return 1
	"${K[@]}" get pods -A --field-selector "spec.nodeName=$REAL,status.phase=Running" -o json | python3 -c '
import json, sys
tasks = {}
for line in sys.argv[1].splitlines()[1:]:
    f = line.split()
    if len(f) >= 3 and f[2] == "RUNNING":
        tasks[f[0]] = f[1]
bad = n = 0
for p in json.load(sys.stdin)["items"]:
    ps = p["spec"].get("securityContext", {})
    st = {c["name"]: c for c in p["status"].get("containerStatuses", [])}
    for c in p["spec"]["containers"]:
        name = "%s/%s/%s" % (p["metadata"]["namespace"], p["metadata"]["name"], c["name"])
        cs = c.get("securityContext", {})
        cid = st.get(c["name"], {}).get("containerID", "").split("://")[-1]
        pid = tasks.get(cid)
        if not pid:
            print(name, "no running task"); bad += 1; continue
        status = dict(l.split(":", 1) for l in open("/proc/%s/status" % pid).read().splitlines() if ":" in l)
        uid = int(status["Uid"].split()[1])
        root_ro = None
        for l in open("/proc/%s/mountinfo" % pid):
            f = l.split()
            if f[4] == "/":
                root_ro = "ro" in f[5].split(",")
        want_uid = cs.get("runAsUser", ps.get("runAsUser"))
        nonroot = cs.get("runAsNonRoot", ps.get("runAsNonRoot"))
        errs = []
        if want_uid is not None and uid != want_uid: errs.append("uid %d, rendered %d" % (uid, want_uid))
        if nonroot and uid == 0: errs.append("runs as root")
        if cs.get("readOnlyRootFilesystem") and not root_ro: errs.append("root file system writable")
        if cs.get("allowPrivilegeEscalation") is False and status["NoNewPrivs"].strip() != "1": errs.append("no_new_privs not set")
        if "ALL" in cs.get("capabilities", {}).get("drop", []) and not cs.get("capabilities", {}).get("add") and int(status["CapEff"], 16) != 0:
            errs.append("effective capabilities %s" % status["CapEff"].strip())
        n += 1
        print(name, "uid", uid, "ro" if root_ro else "rw", "-", "; ".join(errs) or "as rendered")
        bad += bool(errs)
if n == 0:
    print("no containers checked"); bad += 1
sys.exit(1 if bad else 0)' "$tasks"
}

# ---- through the ingress ------------------------------------------------------------------

N8N_COOKIES=$TMP/n8n.cookies
N8N_BROWSER=e2e-browser-0001

n8n_login() { # n8n_login PASSWORD_FILE: 200 and the auth cookie
	local body=$TMP/n8n-login.json c
	PWF=$1 json_file "$body" '{"emailOrLdapLoginId": os.environ["EMAIL"], "password": secret(os.environ["PWF"])}'
	c=$(code "n8n.$DOMAIN" /rest/login -c "$N8N_COOKIES" -H "browser-id: $N8N_BROWSER" \
		-H 'Content-Type: application/json' --data-binary @"$body")
	rm -f "$body"
	echo "POST /rest/login: $c"
	[ "$c" = 200 ] && grep -q n8n-auth "$N8N_COOKIES"
}

n8n_wrong_password_refused() {
	local f=$TMP/wrong c
	(umask 077; echo 'not-the-password-Aa1!' >"$f")
	PWF=$f json_file "$TMP/n8n-wrong.json" '{"emailOrLdapLoginId": os.environ["EMAIL"], "password": secret(os.environ["PWF"]).strip()}'
	c=$(code "n8n.$DOMAIN" /rest/login -H 'Content-Type: application/json' --data-binary @"$TMP/n8n-wrong.json")
	echo "POST /rest/login with a wrong password: $c"
	[ "$c" = 401 ]
}

n8n_owner_is_the_site() {
	local out
	out=$(https "n8n.$DOMAIN" /rest/login -b "$N8N_COOKIES" -H "browser-id: $N8N_BROWSER")
	python3 -c 'import json,sys; d=json.loads(sys.argv[1])["data"]; print(d["email"], d["role"]); assert d["email"] == sys.argv[2] and d["role"] == "global:owner"' "$out" "$EMAIL"
}

n8n_no_claim() { # a first visitor (no cookie) cannot set up the owner
	local c
	json_file "$TMP/claim.json" '{"email": "intruder@example.invalid", "firstName": "I", "lastName": "N", "password": "Intruder-Pass-1234"}'
	c=$(code "n8n.$DOMAIN" /rest/owner/setup -H 'Content-Type: application/json' --data-binary @"$TMP/claim.json")
	echo "POST /rest/owner/setup without a login: $c"
	case $c in 2??) return 1 ;; esac
	# and the owner is still the site's
	n8n_owner_is_the_site
}

# n8n_workflow_create NAME: a workflow through the REST API; its id in $TMP/wf.id
n8n_workflow_create() {
	local out
	NAME=$1 json_file "$TMP/wf.json" '{"name": os.environ["NAME"], "active": False, "connections": {}, "settings": {}, "nodes": [{"id": "0f5532f9-36ba-4bef-86c7-30d607400b15", "name": "Start", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1, "position": [0, 0], "parameters": {}}]}'
	out=$(https "n8n.$DOMAIN" /rest/workflows -b "$N8N_COOKIES" -H "browser-id: $N8N_BROWSER" \
		-H 'Content-Type: application/json' --data-binary @"$TMP/wf.json")
	python3 -c 'import json,sys; print(json.loads(sys.argv[1])["data"]["id"])' "$out" >"$TMP/wf.id" ||
		{ echo "$out" | head -c 400; return 1; }
}
n8n_workflow_there() { # n8n_workflow_there NAME
	local out
	out=$(https "n8n.$DOMAIN" "/rest/workflows/$(cat "$TMP/wf.id")" -b "$N8N_COOKIES" -H "browser-id: $N8N_BROWSER")
	python3 -c 'import json,sys; d=json.loads(sys.argv[1])["data"]; print(d["id"], d["name"]); assert d["name"] == sys.argv[2]' "$out" "$1"
}

nocodb_signin() { # 200 and a token for the site's email with the generated password
	local out
	PWF=$1 json_file "$TMP/nc-signin.json" '{"email": os.environ["EMAIL"], "password": secret(os.environ["PWF"])}'
	out=$(https "nocodb.$DOMAIN" /api/v1/auth/user/signin -H 'Content-Type: application/json' \
		--data-binary @"$TMP/nc-signin.json" -w '\n%{http_code}')
	rm -f "$TMP/nc-signin.json"
	echo "POST /api/v1/auth/user/signin: ${out##*$'\n'}"
	[ "${out##*$'\n'}" = 200 ] || return 1
	(umask 077; python3 -c 'import json,sys; print(json.loads(sys.argv[1])["token"])' "${out%$'\n'*}" >"$TMP/nc.token")
}
nocodb_wrong_password_refused() {
	local c
	json_file "$TMP/nc-wrong.json" '{"email": os.environ["EMAIL"], "password": "not-the-password-Aa1!"}'
	c=$(code "nocodb.$DOMAIN" /api/v1/auth/user/signin -H 'Content-Type: application/json' --data-binary @"$TMP/nc-wrong.json")
	echo "wrong password: $c"
	case $c in 400|401|403) ;; *) return 1 ;; esac
}

# A presigned URL, signed here for the address AppFlowy signs for
# (http://appflowy-s3:9000, path style), used through the ingress's
# /minio-api route, which strips the prefix and sets that Host.
s3_presigned() {
	local id secret put get obj=$TMP/s3-object
	id=GK$(cat "$(secret_file appflowy appflowy-s3 key-id-hex)")
	secret=$(secret_file appflowy appflowy-s3 secret-key)
	head -c 200000 /dev/urandom >"$obj"
	sign() { S3_SECRET=$(cat "$secret") python3 "$ROOT/tests/cluster/images/checks/presign.py" "$1" \
		"http://appflowy-s3:9000/appflowy/e2e/$2" "$id" - | sed "s#^http://appflowy-s3:9000#/minio-api#"; }
	put=$(sign PUT object.bin) get=$(sign GET object.bin)
	c=$(code "appflowy.$DOMAIN" "$put" -X PUT --data-binary @"$obj")
	echo "presigned PUT: $c"; [ "$c" = 200 ] || return 1
	https "appflowy.$DOMAIN" "$get" -f -o "$TMP/s3-back" || return 1
	cmp "$obj" "$TMP/s3-back" || return 1
	c=$(code "appflowy.$DOMAIN" "${get%?}$([ "${get: -1}" = 0 ] && echo 1 || echo 0)")
	echo "tampered signature: $c"; [ "$c" = 403 ] || return 1
	c=$(code "appflowy.$DOMAIN" /minio-api/appflowy/e2e/object.bin)
	echo "unsigned GET: $c"; [ "$c" = 403 ]
}

metrics_refused() { # /metrics is n8n's, but not through the ingress
	local c
	c=$(code "n8n.$DOMAIN" /metrics)
	echo "GET /metrics: $c"
	[ "$c" = 403 ] || [ "$c" = 404 ]
}

# ---- inside the cluster ---------------------------------------------------------------------

# psql NS CLUSTER DB SQL: as the superuser over the primary's socket.
psql_in() {
	local pod
	pod=$("${K[@]}" -n "$1" get pods -l "cnpg.io/cluster=$2,cnpg.io/instanceRole=primary" -o jsonpath='{.items[0].metadata.name}')
	"${K[@]}" -n "$1" exec "$pod" -c postgres -- psql -X -A -t -v ON_ERROR_STOP=1 -d "$3" -c "$4"
}

n8n_tables_in_postgres() {
	local n
	n=$(psql_in postgres postgres n8n "SELECT count(*) FROM pg_tables WHERE tableowner = 'n8n' AND tablename IN ('workflow_entity', 'credentials_entity', 'user', 'execution_entity')")
	echo "n8n's tables owned by n8n: $n of 4"
	[ "$n" = 4 ]
}

pgvector_in_appflowy() {
	local v d
	v=$(psql_in appflowy appflowy-db appflowy "SELECT extversion FROM pg_extension WHERE extname = 'vector'")
	d=$(psql_in appflowy appflowy-db appflowy "SELECT '[1,2,3]'::vector <-> '[1,2,5]'::vector")
	echo "vector $v, distance $d"
	[ -n "$v" ] && [ "$d" = 2 ]
}

# Flows the NetworkPolicies allow and deny, each with a tool that is shown
# to work (busybox nc: a connection, then EOF): Traefik to n8n and n8n to PostgreSQL allowed;
# AppFlowy's Valkey pod reaches its own namespace's database but neither
# n8n nor the shared PostgreSQL.
tcp_from() { # tcp_from NS WORKLOAD HOST PORT
	"${K[@]}" -n "$1" exec "$2" -- sh -c 'nc -w 5 "$0" "$1" </dev/null' "$3" "$4"
}
netpol_allowed() {
	"${K[@]}" -n kube-system exec deploy/traefik -- wget -q -T 10 -O /dev/null http://n8n.n8n.svc.cluster.local:5678/healthz &&
		tcp_from n8n deploy/n8n postgres-rw.postgres.svc.cluster.local 5432
}
netpol_denied() {
	tcp_from appflowy deploy/appflowy-redis appflowy-db-rw.appflowy.svc.cluster.local 5432 ||
		{ echo "appflowy-redis cannot reach its own database: the probe does not work"; return 1; }
	if tcp_from appflowy deploy/appflowy-redis n8n.n8n.svc.cluster.local 5678; then echo "appflowy-redis reached n8n"; return 1; fi
	if tcp_from appflowy deploy/appflowy-redis postgres-rw.postgres.svc.cluster.local 5432; then echo "appflowy-redis reached the shared PostgreSQL"; return 1; fi
	if has_image nocodb; then
		if tcp_from nocodb deploy/nocodb n8n.n8n.svc.cluster.local 5678; then echo "nocodb reached n8n"; return 1; fi
		tcp_from nocodb deploy/nocodb postgres-rw.postgres.svc.cluster.local 5432 || { echo "nocodb cannot reach PostgreSQL"; return 1; }
	fi
	return 0
}

# pod_start_times: for each Pod on the real node, seconds from its creation
# to Ready (its conditions as the kubelet set them), one info line.
pod_start_times() {
	"${K[@]}" get pods -A --field-selector "spec.nodeName=$REAL" -o json | python3 -c '
import json, sys
from datetime import datetime
def t(s): return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
out = []
for p in json.load(sys.stdin)["items"]:
    c = {x["type"]: x for x in p["status"].get("conditions", [])}
    if c.get("Ready", {}).get("status") == "True":
        out.append("%s %ds" % (p["metadata"]["name"], (t(c["Ready"]["lastTransitionTime"]) - t(p["metadata"]["creationTimestamp"])).total_seconds()))
print("; ".join(sorted(out)))'
}
