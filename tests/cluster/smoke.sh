#!/usr/bin/env bash
# Smoke test of a running simulated cluster (default node set):
#   workloads  a Deployment gets Ready replicas and Service endpoints, a Job
#              completes, a DaemonSet rolls out to every node, a pod asking for
#              nvidia.com/gpu lands on the GPU node only and a second one stays Pending
#   crds       every CustomResourceDefinition under the upstream reference data
#              is applied server-side and becomes Established
#   addons     (only with --addons) the real add-on controllers started by
#              up.sh --addons do their job: see addons/smoke.sh
#
#   smoke.sh DIR [workloads] [crds] [addons]     (default: workloads crds)
# Upstream data: $SECTOR7_MIRROR or <repo>/../shared/upstream (the copy of the pinned files).
# Prints one line per check and "N passed, N failed" last; exit 1 if any failed.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=${1:?usage: smoke.sh DIR [workloads] [crds] [addons]}; shift
DIR=$(cd "$DIR" && pwd)
WHAT=${*:-workloads crds}
. "$HERE/lib.sh"
UPSTREAM=$(upstream_dir)
BIN=$("$HERE/build.sh") || exit 1
export KUBECONFIG="$DIR/kubeconfig"
[ -f "$KUBECONFIG" ] || { echo "smoke.sh: no cluster in $DIR (run up.sh first)" >&2; exit 1; }
K() { "$BIN/kubectl" "$@"; }
PASS=0 FAIL=0
check() { # check NAME CMD...
  local name=$1; shift
  if out=$("$@" 2>&1); then PASS=$((PASS+1)); echo "ok   $name"
  else FAIL=$((FAIL+1)); echo "FAIL $name"; echo "$out" | tail -n 5 | sed 's/^/     /'; fi
}

NS=smoke-$$
workloads() {
  K create namespace "$NS" >/dev/null
  K -n "$NS" apply -f - >/dev/null <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: nginx, ports: [{containerPort: 80}], readinessProbe: {httpGet: {path: /, port: 80}}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox, command: ["true"]}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: everywhere}
spec:
  selector: {matchLabels: {app: everywhere}}
  template:
    metadata: {labels: {app: everywhere}}
    spec:
      tolerations: [{operator: Exists}]
      nodeSelector: {kubernetes.io/os: linux}
      containers: [{name: c, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: gpu-1}
spec:
  containers: [{name: c, image: cuda, resources: {limits: {nvidia.com/gpu: 1}}}]
EOF
  check "deployment web has 3 ready replicas" K -n "$NS" rollout status deploy/web --timeout=60s
  check "service web has 3 ready endpoints" wait_endpoints 3
  check "job once completes (pod Succeeded)" K -n "$NS" wait --for=condition=complete job/once --timeout=60s
  check "daemonset rolls out to every node" ds_everywhere
  check "gpu pod runs on aurora" gpu_on_aurora
  K -n "$NS" apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: gpu-2}
spec:
  containers: [{name: c, image: cuda, resources: {limits: {nvidia.com/gpu: 1}}}]
EOF
  check "second gpu pod stays Pending (Insufficient nvidia.com/gpu)" gpu_pending
  check "namespace deletion finishes" K delete namespace "$NS" --timeout=60s
}
wait_endpoints() {
  local n
  for _ in $(seq 120); do
    n=$(K -n "$NS" get endpointslices -l kubernetes.io/service-name=web \
        -o jsonpath='{range .items[*].endpoints[?(@.conditions.ready==true)]}x{end}' 2>/dev/null)
    [ "${#n}" = "$1" ] && return 0; sleep 0.5
  done
  K -n "$NS" get endpointslices -o wide; return 1
}
ds_everywhere() {
  K -n "$NS" rollout status ds/everywhere --timeout=60s || return 1
  local nodes pods
  nodes=$(K get nodes -o name | wc -l)
  pods=$(K -n "$NS" get pods -l app=everywhere -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | sort -u | wc -l)
  echo "nodes=$nodes distinct pod nodes=$pods"; [ "$nodes" = "$pods" ]
}
gpu_on_aurora() {
  K -n "$NS" wait --for=condition=Ready pod/gpu-1 --timeout=60s || return 1
  [ "$(K -n "$NS" get pod gpu-1 -o jsonpath='{.spec.nodeName}')" = aurora ]
}
gpu_pending() {
  for _ in $(seq 40); do
    K -n "$NS" get events --field-selector involvedObject.name=gpu-2,reason=FailedScheduling \
      -o jsonpath='{.items[*].message}' | grep -q 'Insufficient nvidia.com/gpu' && break
    sleep 0.5
  done
  K -n "$NS" get events --field-selector involvedObject.name=gpu-2,reason=FailedScheduling -o jsonpath='{.items[*].message}'
  [ "$(K -n "$NS" get pod gpu-2 -o jsonpath='{.status.phase}/{.spec.nodeName}')" = "Pending/" ]
}

crds() {
  [ -d "$UPSTREAM" ] || { echo "skip crds: no upstream data at $UPSTREAM"; return 0; }
  local files set f tmp=$(mktemp -d)
  for set in cert-manager metallb longhorn cloudnative-pg kube-prometheus-stack velero gateway-api traefik helm-controller; do
    files=$(find "$UPSTREAM/$set" -name '*.yaml' -o -name '*.yml' | sort)
    # keep only the CustomResourceDefinition documents of each file
    yaml_docs CustomResourceDefinition $files >"$tmp/$set.yaml"
    local n; n=$(grep -c '^kind: CustomResourceDefinition' "$tmp/$set.yaml" || true)
    if [ "$n" = 0 ]; then echo "skip $set: no CRDs"; continue; fi
    check "$set: $n CRDs apply --server-side" K apply --server-side --force-conflicts -f "$tmp/$set.yaml"
    check "$set: $n CRDs Established" K wait --for condition=established --timeout=60s -f "$tmp/$set.yaml"
  done
  rm -rf "$tmp"
}

for w in $WHAT; do
  case "$w" in
    workloads) workloads ;;
    crds) crds ;;
    addons) . "$HERE/addons/smoke.sh" ;;
    *) echo "smoke.sh: unknown part $w" >&2; exit 2 ;;
  esac
done
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
