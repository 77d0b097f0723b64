#!/usr/bin/env bash
# backup, backup verify, teardown and restore on the simulated cluster
# (tests/cluster).  Its CloudNativePG is simulated (no PostgreSQL pods, and
# no exec: the API server's traffic to nodes goes nowhere), so backups here
# are made with --skip-databases; the dump code is tested on a real
# PostgreSQL server by pg.sh, and exec by run.sh.
#
#   SECTOR7=build/sector7 tests/backup/cluster.sh
set -u
. "$(dirname "$0")/../lib.sh"
export XDG_CACHE_HOME=${XDG_CACHE_HOME:-$HOME/.cache}
CDIR=${ITEST_DIR:-$ROOT/build/backup-cluster}
ADDONS=metallb,cert-manager,local-path,k3s,longhorn,cnpg
TMP=$(mktemp -d)
cleanup() { "$ROOT/tests/cluster/down.sh" "$CDIR" --purge >/dev/null 2>&1; rm -rf "$TMP"; }
trap cleanup EXIT
cd "$ROOT"
BIN=$("$ROOT/tests/cluster/build.sh") || { echo "cannot build the cluster binaries" >&2; exit 1; }
K="$BIN/kubectl"
up() {
	"$ROOT/tests/cluster/up.sh" "$CDIR" --fresh --addons "$ADDONS" >/dev/null 2>"$TMP/up.err" ||
		{ cat "$TMP/up.err" >&2; exit 1; }
}
up
export KUBECONFIG=$CDIR/kubeconfig
nslist() { "$K" get ns -o name | sort; }
# sha256 of every value of every credential Secret, as "ns/name key hash" lines
credhashes() {
	"$K" get secret -A -l sector7.io/credential=true -o json | python3 -c 'import base64, hashlib, json, sys
for s in json.load(sys.stdin)["items"]:
    for k, v in sorted((s.get("data") or {}).items()):
        print(s["metadata"]["namespace"] + "/" + s["metadata"]["name"], k, hashlib.sha256(base64.b64decode(v)).hexdigest())' | sort
}
# rewrite a manifest field and its sums consistently: fix DIR PYTHON-EXPR-ON-m
fix() {
	python3 - "$1" "$2" <<'PY'
import hashlib, json, os, sys
d, expr = sys.argv[1], sys.argv[2]
m = json.load(open(d + "/manifest.json"))
exec(expr)
text = json.dumps(m, indent=2) + "\n"
open(d + "/manifest.json", "w").write(text)
sums = "".join("%s  %s\n" % (f["sha256"], f["path"]) for f in m["files"])
sums += "%s  manifest.json\n" % hashlib.sha256(text.encode()).hexdigest()
open(d + "/SHA256SUMS", "w").write(sums)
PY
}

echo "  backup-cluster: apply the built-in site"
expect 0 "$S7" apply --timeout 300
# Objects nobody renders: made by hand, they must come back too.
"$K" -n n8n create configmap team-notes --from-literal=note=kept >/dev/null
"$K" create clusterrole sector7-test-reader --verb=get --resource=configmaps >/dev/null
"$K" -n nocodb create secret generic team-api --from-literal=token=hand-made-$$ >/dev/null
credhashes >"$TMP/creds.before"
[ "$(wc -l <"$TMP/creds.before")" -ge 12 ] || fail "only $(wc -l <"$TMP/creds.before") credential values"

echo "  backup-cluster: backup and verify"
openssl req -x509 -newkey rsa:3072 -noenc -keyout "$TMP/key.pem" -out "$TMP/cert.pem" \
	-days 30 -subj /CN=sector7-backup-test >/dev/null 2>&1
B=$TMP/b1
openssl req -x509 -newkey rsa:2048 -noenc -keyout "$TMP/other.key" -out "$TMP/other.pem" \
	-days 30 -subj /CN=not-the-recipient >/dev/null 2>&1
expect 2 "$S7" backup -o "$B" --skip-databases
contains "$TMP/err" "no recipient for the Secrets"
# without --skip-databases: the simulated PostgreSQL clusters have no pod
expect 4 "$S7" backup -o "$B" --recipient "$TMP/cert.pem"
contains "$TMP/err" "has no running primary pod"
[ -e "$B" ] && fail "a failed backup left $B"
ls "$TMP" | grep -q partial && fail "a failed backup left its partial directory"
t0=$(date +%s.%N)
expect 0 "$S7" backup -o "$B" --recipient "$TMP/cert.pem" --skip-databases --output json
t1=$(date +%s.%N)
python3 -c "import json; d=json.load(open('$TMP/out')); print('  backup-cluster: measured: backup of %d objects and %d Secrets, %d files, %.1f MB, %.1f s (command: %.1f s)' % (d['objects'], d['secrets'], d['files'], d['bytes']/1e6, d['seconds'], $t1-$t0))"
expect 0 "$S7" backup verify "$B"
contains "$TMP/out" "verified"
runs=$((runs + 1))
(cd "$B" && sha256sum -c --quiet SHA256SUMS) || fail "sha256sum -c SHA256SUMS"
grep -rqF "hand-made-$$" "$B" && fail "a Secret value is in the backup in clear"
grep -rqF "$(printf 'hand-made-%s' $$ | base64)" "$B" && fail "a Secret value is in the backup in base64"
[ -f "$B/objects/n8n/core/configmaps/team-notes.json" ] || fail "no file for ConfigMap n8n/team-notes"
# The envelope opens with openssl alone, and holds every Secret's values.
runs=$((runs + 1))
openssl cms -decrypt -inform DER -in "$B/secrets.cms" -inkey "$TMP/key.pem" -out "$TMP/secrets.json" ||
	fail "openssl cms -decrypt"
python3 - "$TMP/secrets.json" >"$TMP/creds.env" <<'PY'
import base64, hashlib, json, sys
for s in json.load(open(sys.argv[1]))["items"]:
    if (s["metadata"].get("labels") or {}).get("sector7.io/credential") == "true":
        for k, v in sorted((s.get("data") or {}).items()):
            print(s["metadata"]["namespace"] + "/" + s["metadata"]["name"], k, hashlib.sha256(base64.b64decode(v)).hexdigest())
PY
sort -o "$TMP/creds.env" "$TMP/creds.env"
diff -u "$TMP/creds.before" "$TMP/creds.env" >/dev/null || fail "the envelope's credentials differ from the cluster's"
expect 1 "$S7" restore "$B" --key "$TMP/other.key"
contains "$TMP/err" "cannot decrypt"

echo "  backup-cluster: a damaged or foreign backup is refused"
cp -a "$B" "$TMP/tampered"
f=objects/n8n/core/configmaps/team-notes.json
sed -i 's/kept/KEPT/' "$TMP/tampered/$f"
expect 6 "$S7" backup verify "$TMP/tampered"
contains "$TMP/err" "$TMP/tampered/$f: sha256"
expect 6 "$S7" restore "$TMP/tampered" --key "$TMP/key.pem"
contains "$TMP/err" "$TMP/tampered/$f: sha256"
cp -a "$B" "$TMP/noenv"
rm "$TMP/noenv/secrets.cms"
expect 6 "$S7" restore "$TMP/noenv" --key "$TMP/key.pem"
contains "$TMP/err" "secrets.cms: missing"
# ... also when the manifest was made to agree
fix "$TMP/noenv" 'm["files"] = [f for f in m["files"] if f["path"] != "secrets.cms"]'
expect 6 "$S7" restore "$TMP/noenv" --key "$TMP/key.pem"
contains "$TMP/err" "but not their envelope"
sed -e 's/^site: sector7$/site: othersite/' examples/sector7.yaml >"$TMP/other.yaml"
grep -q '^site: othersite' "$TMP/other.yaml" || fail "other.yaml: no site line"
expect 6 "$S7" restore -f "$TMP/other.yaml" "$B" --key "$TMP/key.pem"
contains "$TMP/err" "a backup of site sector7"
cp -a "$B" "$TMP/nocomplete"
fix "$TMP/nocomplete" 'm["complete"] = False'
expect 6 "$S7" backup verify "$TMP/nocomplete"
contains "$TMP/err" "not marked complete"

echo "  backup-cluster: teardown refuses without a fresh verified backup"
nslist >"$TMP/ns.before"
expect 2 "$S7" teardown --yes
contains "$TMP/err" "teardown needs --backup DIR"
cp -a "$B" "$TMP/old"
fix "$TMP/old" 'import time; m["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 25 * 3600))'
expect 6 "$S7" teardown --backup "$TMP/old" --yes --without-dumps
contains "$TMP/err" "more than 24 hours ago"
expect 6 "$S7" teardown --backup "$TMP/tampered" --yes --without-dumps
contains "$TMP/err" "team-notes.json: sha256"
cp -a "$B" "$TMP/othercluster"
fix "$TMP/othercluster" 'm["cluster"]["uid"] = "00000000-0000-0000-0000-000000000000"'
expect 6 "$S7" teardown --backup "$TMP/othercluster" --yes --without-dumps
contains "$TMP/err" "a backup of another cluster"
expect 6 "$S7" teardown --backup "$B" --yes
contains "$TMP/err" "made with --skip-databases"
expect 2 "$S7" teardown --backup "$B" --without-dumps </dev/null
contains "$TMP/err" "no terminal to ask on"
# on a terminal, anything but "yes" deletes nothing
runs=$((runs + 1))
echo no | script -qec "'$S7' teardown --backup '$B' --without-dumps" /dev/null >"$TMP/tty.out" 2>&1
grep -q "nothing deleted" "$TMP/tty.out" || fail "teardown on a terminal: $(tail -3 "$TMP/tty.out")"
nslist >"$TMP/ns.after"
runs=$((runs + 1))
diff -u "$TMP/ns.before" "$TMP/ns.after" || fail "a refused teardown changed the namespaces"

echo "  backup-cluster: teardown with a fresh verified backup"
"$K" get pv -o jsonpath='{range .items[*]}{.metadata.name} {.spec.claimRef.namespace}/{.spec.claimRef.name}{"\n"}{end}' |
	sort >"$TMP/pv.before"
[ "$(wc -l <"$TMP/pv.before")" -ge 6 ] || fail "only $(wc -l <"$TMP/pv.before") volumes before teardown"
t0=$(date +%s)
expect 0 "$S7" teardown --backup "$B" --yes --without-dumps --timeout 300
echo "  backup-cluster: measured: teardown $(( $(date +%s) - t0 )) s"
contains "$TMP/out" "volumes kept until"
for ns in n8n nocodb appflowy monitoring postgres heimdall cnpg-system metallb-system cert-manager; do
	"$K" get ns "$ns" >/dev/null 2>&1 && fail "namespace $ns survived teardown"
done
for ns in kube-system default sector7 longhorn-system; do
	"$K" get ns "$ns" >/dev/null 2>&1 || fail "teardown deleted namespace $ns"
done
runs=$((runs + 1))
"$K" get pv -o json | python3 -c '
import json, sys, time
pvs = json.load(sys.stdin)["items"]
bad = [p["metadata"]["name"] for p in pvs if p["spec"]["persistentVolumeReclaimPolicy"] != "Retain"
       or not 6 * 86400 < int(p["metadata"]["labels"]["sector7.io/keep-until"]) - time.time() <= 7 * 86400]
sys.exit("not kept: %s" % bad if bad else 0)' || fail "volumes not Retained and labelled"
[ "$("$K" get pv -o name | wc -l)" = "$(wc -l <"$TMP/pv.before")" ] || fail "teardown lost volumes"

echo "  backup-cluster: teardown --expired deletes only the volumes past their date"
victim=$(head -1 "$TMP/pv.before" | cut -d' ' -f1)
"$K" label pv "$victim" --overwrite sector7.io/keep-until=1000000000 >/dev/null
expect 0 "$S7" teardown --expired --timeout 30
contains "$TMP/out" "1 kept volume past their date deleted"
"$K" get pv "$victim" >/dev/null 2>&1 && fail "the expired volume $victim is still there"
[ "$("$K" get pv -o name | wc -l)" = "$(( $(wc -l <"$TMP/pv.before") - 1 ))" ] ||
	fail "teardown --expired deleted more than the expired volume"
grep -v "^$victim " "$TMP/pv.before" >"$TMP/pv.kept"

echo "  backup-cluster: restore onto the torn-down cluster rebinds the kept volumes"
t0=$(date +%s.%N)
expect 0 "$S7" restore "$B" --key "$TMP/key.pem" --output json
t1=$(date +%s.%N)
python3 -c "import json; d=json.load(open('$TMP/out')); print('  backup-cluster: measured: restore (same cluster) %.1f s: %d Secrets, %d volumes rebound, %d objects restored' % ($t1-$t0, d['secrets'], d['volumes_rebound'], d['objects_restored']))"
[ "$(python3 -c "import json; print(json.load(open('$TMP/out'))['volumes_rebound'])")" = "$(wc -l <"$TMP/pv.kept")" ] ||
	fail "rebound $(python3 -c "import json; print(json.load(open('$TMP/out'))['volumes_rebound'])") volumes, want $(wc -l <"$TMP/pv.kept")"
while read -r pv claim; do
	runs=$((runs + 1))
	got=$("$K" -n "${claim%/*}" get pvc "${claim#*/}" -o jsonpath='{.spec.volumeName}' 2>/dev/null)
	[ "$got" = "$pv" ] || fail "claim $claim is bound to '$got', not its kept volume $pv"
	[ "$("$K" get pv "$pv" -o jsonpath='{.metadata.labels.sector7\.io/keep-until}')" = "" ] ||
		fail "rebound volume $pv still labelled keep-until"
done <"$TMP/pv.kept"
credhashes >"$TMP/creds.after"
runs=$((runs + 1))
diff -u "$TMP/creds.before" "$TMP/creds.after" >/dev/null || fail "credential values changed across teardown and restore"
[ "$("$K" -n n8n get configmap team-notes -o jsonpath='{.data.note}')" = kept ] || fail "ConfigMap n8n/team-notes not restored"
"$K" get clusterrole sector7-test-reader >/dev/null 2>&1 || fail "ClusterRole sector7-test-reader lost"

echo "  backup-cluster: restore onto a fresh cluster"
# The volumes' claims, as the backup has them.
python3 - "$B" >"$TMP/pv.backup" <<'PY'
import json, sys
m = json.load(open(sys.argv[1] + "/manifest.json"))
for f in m["files"]:
    if f.get("kind") == "PersistentVolume":
        p = json.load(open(sys.argv[1] + "/" + f["path"]))
        r = p["spec"].get("claimRef") or {}
        print(p["metadata"]["name"], "%s/%s" % (r.get("namespace"), r.get("name")))
PY
"$ROOT/tests/cluster/down.sh" "$CDIR" --purge >/dev/null 2>&1
up
expect 0 "$S7" apply --only metallb   # a cluster with something else on it is fine
t0=$(date +%s.%N)
expect 0 "$S7" restore "$B" --key "$TMP/key.pem" --recreate-volumes --output json
t1=$(date +%s.%N)
cp "$TMP/out" "$TMP/restore-fresh.json"
python3 -c "import json; d=json.load(open('$TMP/out')); print('  backup-cluster: measured: restore (fresh cluster) %.1f s: %d Secrets, %d volumes created again, %d objects applied, %d restored from the backup' % ($t1-$t0, d['secrets'], d['volumes_recreated'], d['objects_applied'], d['objects_restored']))"
credhashes >"$TMP/creds.fresh"
runs=$((runs + 1))
diff -u "$TMP/creds.before" "$TMP/creds.fresh" || fail "credential values differ on the fresh cluster"
[ "$("$K" -n nocodb get secret team-api -o jsonpath='{.data.token}' | base64 -d)" = "hand-made-$$" ] ||
	fail "Secret nocodb/team-api not restored"
[ "$("$K" -n n8n get configmap team-notes -o jsonpath='{.data.note}')" = kept ] || fail "ConfigMap n8n/team-notes not restored"
"$K" get clusterrole sector7-test-reader >/dev/null 2>&1 || fail "ClusterRole sector7-test-reader not restored"
while read -r pv claim; do
	grep -q "^[^ ]* $claim$" "$TMP/pv.kept" || continue
	runs=$((runs + 1))
	got=$("$K" -n "${claim%/*}" get pvc "${claim#*/}" -o jsonpath='{.spec.volumeName}' 2>/dev/null)
	[ "$got" = "$pv" ] || fail "fresh cluster: claim $claim is bound to '$got', not its volume $pv"
done <"$TMP/pv.backup"
# Every object of the backup that no controller makes is there.
runs=$((runs + 1))
python3 - "$B" "$K" <<'PY' || fail "objects missing after the restore"
import json, subprocess, sys
d, k = sys.argv[1], sys.argv[2]
m = json.load(open(d + "/manifest.json"))
derived = {"Pod", "Event", "Endpoints", "EndpointSlice", "Lease", "ControllerRevision", "Node",
           "CertificateSigningRequest", "ReplicaSet", "PersistentVolume", "VolumeAttachment",
           "IPAddress", "ServiceCIDR", "CSINode", "APIService", "ComponentStatus"}
want = {}
for f in m["files"]:
    if "kind" not in f or f["kind"] in derived or f.get("namespace") in ("kube-system", "kube-public", "kube-node-lease"):
        continue
    if f["apiVersion"].startswith("longhorn.io/") or (f["kind"] == "ConfigMap" and f["name"] == "kube-root-ca.crt"):
        continue
    o = json.load(open(d + "/" + f["path"]))
    if o["metadata"].get("ownerReferences"):
        continue
    g = f["apiVersion"].split("/")[0] if "/" in f["apiVersion"] else ""
    want.setdefault("%s.%s" % (f["resource"], g) if g else f["resource"], set()).add(
        (f.get("namespace") or "", f["name"]))
missing = []
for res, names in sorted(want.items()):
    out = subprocess.run([k, "get", res, "-A", "-o", "json"], capture_output=True, text=True)
    have = {(i["metadata"].get("namespace") or "", i["metadata"]["name"]) for i in json.loads(out.stdout or '{"items": []}')["items"]}
    missing += ["%s %s/%s" % (res, n[0], n[1]) for n in sorted(names - have)]
print("  backup-cluster: %d objects of %d kinds checked after the restore" % (sum(len(v) for v in want.values()), len(want)))
if missing:
    print("missing: " + ", ".join(missing[:20]), file=sys.stderr)
    sys.exit(1)
PY
expect 0 "$S7" status
grep -qE " (progressing|failed|absent) " "$TMP/out" && fail "not all ready after the restore: $(cat "$TMP/out")"

echo "  backup-cluster: $runs runs, $fails failed"
[ "$fails" = 0 ]
