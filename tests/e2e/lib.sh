# Sourced by tests/e2e/up.sh and run.sh: the end-to-end cluster (one real
# node, tests/cluster/realnode) and how pods are placed on it.
#
# The caller sets ROOT, S7 (tests/lib.sh does), CDIR (the cluster's DIR)
# and TMP.  Nothing here ever talks to an address off the real node's
# bridge (10.77.0.0/16) or loopback.

E2E=$ROOT/tests/e2e
SITE=${E2E_SITE:-$E2E/site.yaml}
# The images that run on the real node: everything the site's pods need
# that can be built here (tests/cluster/images/README.md).
# curl .. traefik are built when missing; NocoDB's (npm, ~15 min) and
# Garage's (cargo, very long on 2 cores) only when E2E_BUILD_ALL=1, else
# used when cached: without them their pods stay on the kwok node and
# their checks say "skip".
E2E_IMAGES=(curl valkey postgresql cloudnative-pg n8n traefik)
E2E_OPTIONAL=(nocodb garage)
for _i in "${E2E_OPTIONAL[@]}"; do
	if [ "${E2E_BUILD_ALL:-0}" = 1 ] ||
		"$ROOT/tests/cluster/images/build.sh" --list "$_i" | grep -q "^$_i  *cached"; then
		E2E_IMAGES+=("$_i")
	fi
done
has_image() { case " ${E2E_IMAGES[*]} " in *" $1 "*) return 0 ;; esac; return 1; }
REAL=optiplex
TAINT=sector7.dev/real-node
# The add-ons: MetalLB's and cert-manager's real controllers out of
# cluster (their Deployments' pods stay on the kwok node), k3s's packaged
# Traefik (real, on the real node) with the simulated helm-controller,
# Longhorn's StorageClass (simulated) over the real local-path
# provisioner.  No `cnpg` simulator: the real operator runs in the cluster.
E2E_ADDONS=metallb,cert-manager,k3s,longhorn

e2e_log() { printf 'e2e: %s\n' "$*" >&2; }
secs_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }

# e2e_build_images OUT: build (or find cached) every image of E2E_IMAGES,
# linked into OUT as NAME.tar.
e2e_build_images() {
	mkdir -p "$1"
	"$ROOT/tests/cluster/images/build.sh" --out "$1" "${E2E_IMAGES[@]}" >&2
}

# e2e_local_refs OUT: every reference the archives in OUT carry, each in
# its normalized form and in the short form a manifest may use
# (docker.io/library/busybox:latest is also busybox:latest and busybox),
# plus the real node's own busybox and pause images.
e2e_local_refs() {
	local t
	{
		for t in "$1"/*.tar; do tar -xOf "$t" index.json; echo; done |
			python3 -c '
import json, sys
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    for m in json.loads(line).get("manifests", []):
        a = m.get("annotations", {})
        r = a.get("io.containerd.image.name") or a.get("org.opencontainers.image.ref.name")
        if r:
            print(r)'
		echo docker.io/library/busybox:latest
		echo sector7.invalid/pause:1
	} | python3 -c '
import sys
out = set()
for r in sys.stdin.read().split():
    out.add(r)
    if r.startswith("docker.io/"):
        s = r[len("docker.io/"):]
        out.add(s)
        if s.startswith("library/"):
            out.add(s[len("library/"):])
            if s.endswith(":latest"):
                out.add(s[len("library/"):-len(":latest")])
print("\n".join(sorted(out)))'
}

# e2e_placement REFS_FILE: the real node only takes pods that tolerate its
# taint; a MutatingAdmissionPolicy gives every new pod whose images are all
# in REFS_FILE (and that no one bound to another node) that toleration and
# a nodeSelector for the real node.  Every other pod goes to the kwok node.
e2e_placement() {
	local list
	list=$(python3 -c 'import json,sys; print(json.dumps(sys.stdin.read().split()))' <"$1")
	"${K[@]}" taint node "$REAL" "$TAINT=true:NoSchedule" --overwrite >/dev/null
	"${K[@]}" apply --server-side --force-conflicts --field-manager=sector7-e2e -f - >/dev/null <<-EOF
	apiVersion: admissionregistration.k8s.io/v1
	kind: MutatingAdmissionPolicy
	metadata:
	  name: sector7-e2e-real-node
	spec:
	  matchConstraints:
	    resourceRules:
	      - apiGroups: [""]
	        apiVersions: [v1]
	        operations: [CREATE]
	        resources: [pods]
	  matchConditions:
	    - name: every-image-built-here
	      expression: >-
	        object.spec.containers.all(c, c.image in $list) &&
	        (!has(object.spec.initContainers) || object.spec.initContainers.all(c, c.image in $list))
	    - name: not-bound-to-another-node
	      expression: "!has(object.spec.nodeName) || object.spec.nodeName == '$REAL'"
	  failurePolicy: Fail
	  reinvocationPolicy: Never
	  mutations:
	    - patchType: JSONPatch
	      jsonPatch:
	        expression: >-
	          (has(object.spec.tolerations) ?
	            [JSONPatch{op: "add", path: "/spec/tolerations/-", value: {"key": "$TAINT", "operator": "Exists", "effect": "NoSchedule"}}] :
	            [JSONPatch{op: "add", path: "/spec/tolerations", value: [{"key": "$TAINT", "operator": "Exists", "effect": "NoSchedule"}]}]) +
	          (has(object.spec.nodeSelector) ?
	            [JSONPatch{op: "add", path: "/spec/nodeSelector/sector7.dev~1real-node", value: "true"}] :
	            [JSONPatch{op: "add", path: "/spec/nodeSelector", value: {"$TAINT": "true"}}])
	---
	apiVersion: admissionregistration.k8s.io/v1
	kind: MutatingAdmissionPolicyBinding
	metadata:
	  name: sector7-e2e-real-node
	spec:
	  policyName: sector7-e2e-real-node
	EOF
	# the policy takes effect once the API server's informer has it: a
	# server-side dry run shows when
	local i sel
	for i in $(seq 120); do
		sel=$("${K[@]}" -n default create --dry-run=server -o jsonpath='{.spec.nodeSelector}' -f - 2>/dev/null <<-EOF
		apiVersion: v1
		kind: Pod
		metadata: {name: e2e-placement-probe}
		spec:
		  containers: [{name: c, image: busybox, command: ["true"]}]
		EOF
		)
		case $sel in *real-node*) break ;; esac
		sleep 1
	done
	case $sel in *real-node*) ;; *) e2e_log "the placement policy never took effect (dry run: '$sel')"; return 1 ;; esac
	sel=$("${K[@]}" -n default create --dry-run=server -o jsonpath='{.spec.nodeSelector}' -f - <<-EOF
	apiVersion: v1
	kind: Pod
	metadata: {name: e2e-placement-probe}
	spec:
	  containers: [{name: c, image: lscr.io/linuxserver/heimdall:v2.8.2-ls361}]
	EOF
	)
	case $sel in *real-node*) e2e_log "the placement policy also took a pod whose image is not built"; return 1 ;; esac
	return 0
}

# e2e_up: the cluster in CDIR with the images, the placement, and the
# packaged Traefik's pod made again under the policy.
e2e_up() {
	local t0
	t0=$(date +%s.%N)
	e2e_build_images "$CDIR.images" || return 1
	e2e_log "images ready in $(secs_since "$t0") s"
	t0=$(date +%s.%N)
	"$ROOT/tests/cluster/up.sh" "$CDIR" --real-node --images "$CDIR.images" --addons "$E2E_ADDONS" \
		>/dev/null 2>"$TMP/up.err" || { cat "$TMP/up.err" >&2; return 1; }
	e2e_log "cluster up in $(secs_since "$t0") s"
	export KUBECONFIG=$CDIR/kubeconfig
	e2e_local_refs "$CDIR.images" >"$CDIR.images/local-refs.txt"
	e2e_placement "$CDIR.images/local-refs.txt" || return 1
	# Traefik's pod was made before the policy existed
	"${K[@]}" -n kube-system delete pod -l app.kubernetes.io/name=traefik --wait=false >/dev/null
}

# e2e_apply [ARGS...]: sector7 apply of the test site.
e2e_apply() {
	"$S7" apply -f "$SITE" --timeout "${E2E_APPLY_TIMEOUT:-2400}" "$@"
}
