#!/usr/bin/env bash
# Integration tests against the simulated cluster (tests/cluster): a real
# kube-apiserver, controller-manager and scheduler, kwok nodes, the real
# MetalLB, cert-manager and local-path controllers, and k3s's packaged
# components with a simulated helm-controller.
#
#   SECTOR7=build/sector7 tests/integration/run.sh
#
# The cluster lives in $ITEST_DIR (default build/itest-cluster) and is
# stopped at the end, by PID, whatever happens.
set -u
. "$(dirname "$0")/../lib.sh"
export XDG_CACHE_HOME=${XDG_CACHE_HOME:-$HOME/.cache}
CDIR=${ITEST_DIR:-$ROOT/build/itest-cluster}
ADDONS=metallb,cert-manager,local-path,k3s,longhorn,cnpg
TMP=$(mktemp -d)

cleanup() { "$ROOT/tests/cluster/down.sh" "$CDIR" --purge >/dev/null 2>&1; rm -rf "$TMP"; }
trap cleanup EXIT
json() { python3 -c "import json,sys; d=json.load(open('$TMP/out')); print(d$1)"; }

cd "$ROOT"
BIN=$("$ROOT/tests/cluster/build.sh") || { echo "cannot build the cluster binaries" >&2; exit 1; }
K="$BIN/kubectl"
"$ROOT/tests/cluster/up.sh" "$CDIR" --fresh --addons "$ADDONS" >/dev/null 2>"$TMP/up.err" ||
	{ cat "$TMP/up.err" >&2; exit 1; }
export KUBECONFIG=$CDIR/kubeconfig
P=$CDIR/pki

echo "  integration: apply of the built-in site converges"
expect 0 "$S7" apply
contains "$TMP/out" "applied 304 of 304 objects"
contains "$TMP/err" "metallb: ready"
expect 0 "$S7" status
for c in cert-manager longhorn metallb ingress nvidia heimdall postgres n8n nocodb appflowy monitoring backup; do
	grep -qE "^$c +[0-9] +ready" "$TMP/out" || fail "status: $c not ready: $(cat "$TMP/out")"
done
[ "$("$K" -n kube-system get svc traefik -o jsonpath='{.status.loadBalancer.ingress[0].ip}')" = 192.168.2.200 ] ||
	fail "traefik did not get the ingress address 192.168.2.200 from MetalLB"
# kubectl sees the same ApplySet
[ "$("$K" -n sector7 get secret sector7 -o jsonpath='{.metadata.annotations.applyset\.kubernetes\.io/tooling}')" = sector7/v0.1.0 ] ||
	fail "ApplySet parent tooling annotation"
id=$("$K" -n sector7 get secret sector7 -o jsonpath='{.metadata.labels.applyset\.kubernetes\.io/id}')
# ... and computes the id as kubectl does: a parent kubectl makes itself,
# under a name drawn for this run, carries the id sector7 computes for it.
probe=p$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
"$K" create namespace "$probe" >/dev/null
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: probe, namespace: %s}\n' "$probe" >"$TMP/probe.yaml"
KUBECTL_APPLYSET=true "$K" apply --server-side --applyset="secret/$probe" --prune -n "$probe" -f "$TMP/probe.yaml" >/dev/null ||
	fail "kubectl could not make an ApplySet"
[ "$("$K" -n "$probe" get secret "$probe" -o jsonpath='{.metadata.labels.applyset\.kubernetes\.io/id}')" = \
	"$("${S7%/sector7}/tests/unit/test_rollout" --applyset "$probe" "$probe")" ] ||
	fail "kubectl's ApplySet id for secret $probe/$probe differs from sector7's"
"$K" delete namespace "$probe" --wait=false >/dev/null
n=$("$K" get deploy -A -l "applyset.kubernetes.io/part-of=$id" -o name | wc -l)
[ "$n" = 22 ] || fail "$n Deployments carry the part-of label, want 22"
apply_out="$TMP/apply-first.out" && cat "$TMP/out" "$TMP/err" >"$apply_out"

echo "  integration: re-apply is a no-op"
expect 0 "$S7" apply --output json
[ "$(json "['applied']")" = 0 ] || fail "re-apply applied objects"
[ "$(json "['mutating_requests']")" = 1 ] || fail "re-apply sent $(json "['mutating_requests']") mutating requests, want 1 (the ApplySet parent)"
# one connection, everything multiplexed over HTTP/2
[ "$(json "['connections']")" = 1 ] || fail "re-apply opened $(json "['connections']") connections, want 1"
[ "$(json "['http2_answers']")" -gt 0 ] || fail "no answer came over HTTP/2"
expect 0 "$S7" apply
contains "$TMP/out" "no changes"
expect 0 "$S7" diff
[ -s "$TMP/out" ] && fail "diff of an unchanged site printed: $(head -5 "$TMP/out")"

echo "  integration: --phase and --only narrow the run"
expect 0 "$S7" apply --phase 2 --output json
[ "$(json "['objects']")" = 1 ] || fail "--phase 2 covered $(json "['objects']") objects, want 1 (the device plugin)"
expect 0 "$S7" apply --only metallb --output json
[ "$(json "['objects']")" = 28 ] || fail "--only metallb covered $(json "['objects']") objects, want 28"
expect 2 "$S7" apply --only nosuch
contains "$TMP/err" "no enabled component matches --only nosuch"

echo "  integration: a changed site gives exactly the expected diff and apply"
sed -e 's/pool: 192.168.2.200-192.168.2.220/pool: 192.168.2.200-192.168.2.230/' \
    -e 's/replicas: 2}/replicas: 1}/' examples/sector7.yaml >"$TMP/changed.yaml"
expect 1 "$S7" diff -f "$TMP/changed.yaml"
grep '^+++ ' "$TMP/out" | sort >"$TMP/changed-objects"
printf '%s\n' "+++ sector7/ConfigMap longhorn-system/longhorn-default-setting" \
    "+++ sector7/ConfigMap longhorn-system/longhorn-storageclass" \
    "+++ sector7/IPAddressPool metallb-system/sector7-pool" | sort >"$TMP/want-objects"
diff -u "$TMP/want-objects" "$TMP/changed-objects" || fail "diff named other objects"
contains "$TMP/out" '+  - 192.168.2.200-192.168.2.230'
contains "$TMP/out" '-      numberOfReplicas: "2"'
contains "$TMP/out" '+      numberOfReplicas: "1"'
expect 0 "$S7" apply -f "$TMP/changed.yaml" --output json
[ "$(json "['applied']")" = 3 ] || fail "changed site applied $(json "['applied']") objects, want 3"
expect 0 "$S7" diff -f "$TMP/changed.yaml"

echo "  integration: a field changed by hand is put back"
"$K" -n metallb-system set image deploy/controller controller=example.invalid/x:1 >/dev/null
expect 1 "$S7" diff -f "$TMP/changed.yaml"
contains "$TMP/out" '+        image: quay.io/metallb/controller:v0.16.1'
expect 0 "$S7" apply -f "$TMP/changed.yaml" -v
contains "$TMP/err" "metallb: changed Deployment metallb-system/controller"

echo "  integration: a Job whose pod template changed is replaced"
sed -e 's/n8n:       {host: n8n, size: 20Gi}/n8n:       {host: n8n, size: 20Gi, model: "qwen2.5:0.5b"}/' \
    "$TMP/changed.yaml" >"$TMP/model.yaml"
grep -q 'qwen2.5:0.5b' "$TMP/model.yaml" || fail "model.yaml: the n8n line did not match"
expect 1 "$S7" diff -f "$TMP/model.yaml"
contains "$TMP/err" "Job n8n/ollama-pull: would be replaced"
uid=$("$K" -n n8n get job ollama-pull -o jsonpath='{.metadata.uid}')
expect 0 "$S7" apply -f "$TMP/model.yaml"
contains "$TMP/err" "n8n: replaced Job n8n/ollama-pull"
[ "$("$K" -n n8n get job ollama-pull -o jsonpath='{.spec.template.spec.containers[0].env[?(@.name=="MODEL")].value}')" = qwen2.5:0.5b ] ||
	fail "the new Job does not pull qwen2.5:0.5b"
[ "$("$K" -n n8n get job ollama-pull -o jsonpath='{.metadata.uid}')" != "$uid" ] || fail "the Job was not recreated"
expect 0 "$S7" diff -f "$TMP/model.yaml"

echo "  integration: generated secrets are kept, repaired, and never printed"
# Every value sector7 generated, decoded, one per line.
values() {
	"$K" get secret -A -l sector7.io/credential=true -o json |
		python3 -c 'import base64, json, sys
for s in json.load(sys.stdin)["items"]:
    for v in (s.get("data") or {}).values():
        v = base64.b64decode(v).decode()
        if len(v) >= 16: print(v)'
}
values >"$TMP/values"
[ "$(wc -l <"$TMP/values")" -ge 12 ] || fail "only $(wc -l <"$TMP/values") generated values found"
key=$("$K" -n n8n get secret n8n -o jsonpath='{.data.N8N_ENCRYPTION_KEY}')
jwt=$("$K" -n appflowy get secret appflowy -o jsonpath='{.data.jwt-secret}')
expect 0 "$S7" secrets ensure -f "$TMP/model.yaml"
contains "$TMP/out" "0 created, 0 added to existing secrets"
# a key removed by hand comes back; the others keep their values
"$K" -n appflowy patch secret appflowy --type=json -p '[{"op":"remove","path":"/data/redis-password"}]' >/dev/null
expect 0 "$S7" secrets list -f "$TMP/model.yaml"
contains "$TMP/out" "appflowy/appflowy redis-password: missing"
expect 0 "$S7" secrets ensure -f "$TMP/model.yaml"
contains "$TMP/out" "added appflowy/appflowy redis-password"
[ -n "$("$K" -n appflowy get secret appflowy -o jsonpath='{.data.redis-password}')" ] || fail "redis-password not recreated"
[ "$("$K" -n appflowy get secret appflowy -o jsonpath='{.data.jwt-secret}')" = "$jwt" ] || fail "ensure changed the JWT secret"
# a copy changed by hand is brought back to its source
"$K" -n n8n patch secret n8n-db --type=merge -p '{"data":{"password":"d3Jvbmc="}}' >/dev/null
expect 0 "$S7" secrets list -f "$TMP/model.yaml"
contains "$TMP/out" "n8n/n8n-db: copy of postgres/n8n-db, differs"
expect 0 "$S7" apply -f "$TMP/model.yaml"
[ "$("$K" -n n8n get secret n8n-db -o jsonpath='{.data.password}')" = \
  "$("$K" -n postgres get secret n8n-db -o jsonpath='{.data.password}')" ] || fail "the n8n-db copy was not synced"
[ "$("$K" -n n8n get secret n8n -o jsonpath='{.data.N8N_ENCRYPTION_KEY}')" = "$key" ] ||
	fail "apply changed n8n's encryption key"
# n8n's owner: a password and its bcrypt hash, made again when the
# password is changed by hand (and only then)
owner_ok() {	# owner_ok: the stored hash is the hash of the stored password
	"$K" -n n8n get secret n8n-owner -o json | python3 -W ignore -c 'import base64, crypt, json, sys
d = {k: base64.b64decode(v).decode() for k, v in json.load(sys.stdin)["data"].items()}
sys.exit(0 if d["password-hash"].startswith("$2a$10$") and crypt.crypt(d["password"], d["password-hash"]) == d["password-hash"] else 1)'
}
runs=$((runs + 1))
owner_ok || fail "n8n-owner: password-hash is not the bcrypt hash of password"
hash=$("$K" -n n8n get secret n8n-owner -o jsonpath='{.data.password-hash}')
"$K" -n n8n patch secret n8n-owner --type=merge \
	-p "{\"data\":{\"password\":\"$(printf 'Hand-set.0wner' | base64)\"}}" >/dev/null
expect 0 "$S7" secrets ensure -f "$TMP/model.yaml"
contains "$TMP/out" "updated n8n/n8n-owner password-hash"
contains "$TMP/out" "1 hashes renewed"
runs=$((runs + 1))
owner_ok || fail "n8n-owner: the hash does not follow the changed password"
[ "$("$K" -n n8n get secret n8n-owner -o jsonpath='{.data.password-hash}')" != "$hash" ] ||
	fail "n8n-owner: the hash did not change"
expect 0 "$S7" secrets ensure -f "$TMP/model.yaml"
contains "$TMP/out" "0 hashes renewed"
# NocoDB's admin password follows NocoDB's rules
runs=$((runs + 1))
"$K" -n nocodb get secret nocodb -o jsonpath='{.data.NC_ADMIN_PASSWORD}' | base64 -d |
	grep -E '^[A-Za-z0-9._-]{24}$' | grep '[A-Z]' | grep '[a-z]' | grep '[0-9]' | grep -q '[._-]' ||
	fail "NC_ADMIN_PASSWORD does not follow NocoDB's rules"
# show: to a terminal only (script(1) gives it one)
expect 1 bash -o pipefail -c "'$S7' secrets show n8n/n8n N8N_ENCRYPTION_KEY | cat"
contains "$TMP/err" "terminal"
runs=$((runs + 1))
script -qec "'$S7' secrets show n8n/n8n N8N_ENCRYPTION_KEY" /dev/null >"$TMP/shown" 2>&1 ||
	fail "secrets show on a terminal failed: $(cat "$TMP/shown")"
grep -qF "$(printf %s "$key" | base64 -d)" "$TMP/shown" || fail "secrets show did not print the key"
# no value in anything sector7 printed, nor in the render
"$S7" render -f "$TMP/model.yaml" -o "$TMP/render-model" >/dev/null
cat "$apply_out" "$TMP/out" "$TMP/err" >"$TMP/printed"
for c in "status" "diff -f $TMP/model.yaml" "secrets list -f $TMP/model.yaml" "apply -v -f $TMP/model.yaml" \
	 "secrets ensure -f $TMP/model.yaml" "apply --output json -f $TMP/model.yaml"; do
	"$S7" $c >>"$TMP/printed" 2>&1
done
runs=$((runs + 1))
leaks=$(grep -rlF -f "$TMP/values" "$TMP/printed" "$TMP/render-model" 2>/dev/null)
[ -z "$leaks" ] || fail "generated values printed or rendered: $leaks"

echo "  integration: prune removes what left the set and keeps data"
# A volume that was part of the set earlier (its kind listed by the parent,
# as an earlier apply would have left it): prune must keep it.
gks=$("$K" -n sector7 get secret sector7 -o jsonpath='{.metadata.annotations.applyset\.kubernetes\.io/contains-group-kinds}')
"$K" -n sector7 annotate --overwrite secret sector7 \
	"applyset.kubernetes.io/contains-group-kinds=$gks,PersistentVolumeClaim" >/dev/null
"$K" -n longhorn-system apply --server-side -f - >/dev/null <<YAML
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: former-data
  namespace: longhorn-system
  labels: {applyset.kubernetes.io/part-of: $id}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: local-path
  resources: {requests: {storage: 1Gi}}
YAML
sed -e 's/role: server, gpus: 1}/role: server}/' "$TMP/changed.yaml" >"$TMP/nogpu.yaml"
expect 0 "$S7" apply -f "$TMP/nogpu.yaml" --prune
contains "$TMP/err" "pruned DaemonSet kube-system/nvidia-device-plugin-daemonset"
contains "$TMP/err" "kept PersistentVolumeClaim longhorn-system/former-data"
"$K" -n kube-system get ds nvidia-device-plugin-daemonset >/dev/null 2>&1 &&
	fail "the device plugin survived prune"
"$K" -n longhorn-system get pvc former-data >/dev/null 2>&1 || fail "prune deleted a PVC"
expect 0 "$S7" apply -f "$TMP/nogpu.yaml" --prune --prune-data
contains "$TMP/err" "pruned PersistentVolumeClaim longhorn-system/former-data"
expect 2 "$S7" apply --prune --only metallb
contains "$TMP/err" "--prune needs the whole stack"

echo "  integration: kubeconfig variants"
server=$(sed -n 's/^ *server: //p' "$P/admin.kubeconfig" | head -1)
kc() {	# kc FILE USER-YAML [CLUSTER-EXTRA]
	cat >"$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: sim
  cluster:
    server: $server
${3:-    certificate-authority: $P/ca.crt}
users:
- name: u
  user:
$2
contexts:
- name: sim
  context: {cluster: sim, user: u}
current-context: sim
KC
}
kc "$TMP/files.kc" "    client-certificate: $P/admin.crt
    client-key: $P/admin.key"
expect 0 "$S7" status --kubeconfig "$TMP/files.kc"
kc "$TMP/token.kc" "    token: $(cat "$P/token")"
expect 0 "$S7" status --kubeconfig "$TMP/token.kc"
kc "$TMP/tokenfile.kc" "    tokenFile: $P/token"
expect 0 "$S7" status --kubeconfig "$TMP/tokenfile.kc"
cat >"$TMP/exec-plugin" <<SH
#!/bin/sh
# An exec credential plugin: prints an ExecCredential with the token.
[ -n "\$KUBERNETES_EXEC_INFO" ] || exit 3
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}\n' "\$(cat $P/token)"
SH
chmod +x "$TMP/exec-plugin"
kc "$TMP/exec.kc" "    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: $TMP/exec-plugin
      interactiveMode: Never"
expect 0 "$S7" status --kubeconfig "$TMP/exec.kc"
kc "$TMP/badtoken.kc" "    token: not-the-token"
expect 4 "$S7" status --kubeconfig "$TMP/badtoken.kc"
contains "$TMP/err" "Unauthorized"
# a CA that did not sign the server's certificate
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/other.key" -out "$TMP/other.crt" \
	-subj /CN=other-ca -days 1 >/dev/null 2>&1
kc "$TMP/wrongca.kc" "    token: $(cat "$P/token")" "    certificate-authority: $TMP/other.crt"
expect 4 "$S7" status --kubeconfig "$TMP/wrongca.kc"
contains "$TMP/err" "certificate"
kc "$TMP/insecure.kc" "    token: $(cat "$P/token")" "    insecure-skip-tls-verify: true"
expect 0 "$S7" status --kubeconfig "$TMP/insecure.kc"
contains "$TMP/err" "insecure-skip-tls-verify: the server's identity is not checked"
expect 4 "$S7" status --context nowhere
contains "$TMP/err" "context 'nowhere' is not in"
# KUBECONFIG lists are merged: the context in one file, the rest in another
sed -n '/^contexts:/,$p' "$TMP/token.kc" >"$TMP/ctx-only.kc"
sed '/^contexts:/,$d' "$TMP/token.kc" >"$TMP/rest.kc"
expect 0 env KUBECONFIG="$TMP/ctx-only.kc:$TMP/rest.kc" "$S7" status
kc "$TMP/nokey.kc" "    client-certificate: $P/admin.crt
    client-key: $TMP/missing.key"
expect 4 "$S7" status --kubeconfig "$TMP/nokey.kc"
contains "$TMP/err" "users[u].client-key: cannot open"

echo "  integration: readiness timeout names what is not ready (exit 5)"
# Another Service holds 192.168.2.205; the site asks for it for the ingress.
"$K" -n default apply --server-side -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata:
  name: squatter
  namespace: default
  annotations: {metallb.io/loadBalancerIPs: 192.168.2.205}
spec:
  type: LoadBalancer
  ports: [{port: 80}]
YAML
sed -e 's/ingress-ip: 192.168.2.200/ingress-ip: 192.168.2.205/' "$TMP/nogpu.yaml" >"$TMP/newip.yaml"
expect 5 "$S7" apply -f "$TMP/newip.yaml" --timeout 5
# MetalLB gives up .200 for the new request and cannot give .205.
contains "$TMP/err" "ingress: Service kube-system/traefik: no load balancer address yet, asked for 192.168.2.205"
contains "$TMP/err" "not ready after 5s"
"$K" -n default delete svc squatter >/dev/null
expect 0 "$S7" apply -f "$TMP/newip.yaml" --timeout 60

"$ROOT/tests/cluster/down.sh" "$CDIR" --purge >/dev/null 2>&1
"$ROOT/tests/cluster/up.sh" "$CDIR" --fresh --addons "$ADDONS" >/dev/null 2>&1 || fail "fresh cluster"
echo "  integration: every example and variant site renders to objects the API server accepts"
for site in examples/*.yaml tests/wiring/sites/*.yaml; do
	name=$(basename "$site" .yaml)
	"$S7" render -f "$site" -o "$TMP/dry-$name" >/dev/null || { fail "render $site"; continue; }
	# Namespaces and CRDs for real (a dry run cannot create what others
	# need), then everything as a server-side dry run, strictly validated.
	mkdir -p "$TMP/found-$name"
	grep -lE '^kind: (Namespace|CustomResourceDefinition)$' "$TMP/dry-$name"/manifests/*/*.yaml |
		xargs -r cp -t "$TMP/found-$name"
	"$K" apply --server-side --force-conflicts --field-manager=itest -f "$TMP/found-$name" \
		>/dev/null 2>"$TMP/err" || fail "$name: namespaces and CRDs: $(tail -3 "$TMP/err")"
	"$K" wait --for condition=established crd --all --timeout=60s >/dev/null
	runs=$((runs + 1))
	"$K" apply --server-side --force-conflicts --field-manager=itest --dry-run=server \
		--validate=strict -R -f "$TMP/dry-$name/manifests" >/dev/null 2>"$TMP/err" ||
		fail "$name: the API server refused: $(grep -v '^Warning' "$TMP/err" | head -5)"
done

echo "  integration: the API server stopped mid-apply"
"$S7" apply >"$TMP/out" 2>"$TMP/err" &
apply_pid=$!
for _ in $(seq 200); do
	"$K" -n cert-manager get deploy cert-manager >/dev/null 2>&1 && break
	sleep 0.05
done
kill "$(cat "$CDIR/run/apiserver.pid")"
wait "$apply_pid"
code=$?
runs=$((runs + 1))
[ "$code" = 4 ] || { fail "apply with its API server gone exited $code, want 4"; tail -5 "$TMP/err" >&2; }
grep -qiE "lost the API server|Couldn't connect|connection refused" "$TMP/err" ||
	fail "no clear error: $(tail -3 "$TMP/err")"
"$ROOT/tests/cluster/up.sh" "$CDIR" --addons "$ADDONS" >/dev/null 2>&1 || fail "restart"
expect 0 "$S7" apply --timeout 120
expect 0 "$S7" status
grep -qE " (progressing|failed|absent) " "$TMP/out" && fail "not all ready after the second apply: $(cat "$TMP/out")"


echo "  integration: the lab site (three nodes, Nextcloud, NFS backups) converges"
"$ROOT/tests/cluster/down.sh" "$CDIR" --purge >/dev/null 2>&1
"$ROOT/tests/cluster/up.sh" "$CDIR" --fresh --addons "$ADDONS" \
	--nodes node-a:cp:cpu=8:memory=32Gi,node-b:cpu=8:memory=32Gi,node-c:cpu=8:memory=32Gi >/dev/null 2>&1 ||
	fail "fresh cluster with the lab's nodes"
expect 0 "$S7" apply -f examples/lab-3node.yaml --timeout 180
contains "$TMP/out" "applied 320 of 320 objects"
expect 0 "$S7" status -f examples/lab-3node.yaml
for c in heimdall postgres n8n nocodb nextcloud appflowy monitoring backup; do
	grep -qE "^$c +[0-9] +ready" "$TMP/out" || fail "lab status: $c not ready: $(cat "$TMP/out")"
done
"$K" -n nextcloud get cronjob nextcloud-cron >/dev/null 2>&1 || fail "no Nextcloud cron job"
"$K" -n postgres get cronjob postgres-dump >/dev/null 2>&1 || fail "no dump job with an NFS target"
expect 0 "$S7" apply -f examples/lab-3node.yaml
contains "$TMP/out" "no changes"

echo "  integration: $runs runs, $fails failed"
[ "$fails" = 0 ]
