#!/usr/bin/env bash
# launch.sh NAME DIR BIN [PORT...]: start one real add-on controller out of
# cluster (run by supervise.sh, which starts it again whenever it exits).
#
# metallb and cert-manager run "as" their simulated pod: they start only once
# sector7 (or a test) has deployed the add-on and kwok has the controller
# Deployment's pod Running, and they take that pod's identity and settings
# (MetalLB needs its own pod for owner references; cert-manager's issuer
# options come from the pod's args). local-path runs at once, as k3s's bundled
# provisioner does.
set -uo pipefail
NAME=$1 DIR=$2 BIN=$3; shift 3
HERE=$(cd "$(dirname "$0")" && pwd)
KC="$DIR/pki/admin.kubeconfig"
KUBECTL=$("$HERE/../build.sh") || exit 1
K() { "$KUBECTL/kubectl" --kubeconfig="$KC" "$@"; }
WAITING="$DIR/run/addon-$NAME.waiting"

running_pod() { # running_pod NAMESPACE SELECTOR -> name of a Running pod
  K -n "$1" get pods -l "$2" --field-selector=status.phase=Running \
    -o jsonpath='{.items[0].metadata.name}' 2>/dev/null
}
wait_pod() { # prints the pod name or exits 3 (supervise.sh retries)
  local pod; pod=$(running_pod "$1" "$2")
  if [ -z "$pod" ]; then
    [ -f "$WAITING" ] || { echo "launch.sh: $NAME waits for a Running pod -n $1 -l $2" >&2; touch "$WAITING"; }
    sleep 1; exit 3
  fi
  rm -f "$WAITING"; echo "$pod"
}

case "$NAME" in
  metallb)
    POD=$(wait_pod metallb-system app=metallb,component=controller) || exit 3
    echo "launch.sh: metallb controller runs as pod metallb-system/$POD" >&2
    # Webhooks off (the apiserver does not call them), no cert rotation, no
    # memberlist secret (speakers never run); metrics/health on free ports.
    exec env METALLB_BGP_TYPE=native "$BIN" --kubeconfig="$KC" --namespace=metallb-system \
      --pod-name="$POD" --webhook-mode=disabled --disable-cert-rotation \
      --port="$1" --health-probe-port="$2" --log-level=info
    ;;
  cert-manager)
    NS=cert-manager
    POD=$(wait_pod "$NS" app.kubernetes.io/name=cert-manager,app.kubernetes.io/component=controller) || exit 3
    echo "launch.sh: cert-manager controller runs as pod $NS/$POD" >&2
    ARGS=()
    while IFS= read -r a; do
      a=${a//\$(POD_NAMESPACE)/$NS}
      case "$a" in
        --cluster-resource-namespace=*|--default-issuer-name=*|--default-issuer-kind=*|--default-issuer-group=*|--v=*) ARGS+=("$a") ;;
      esac
    done < <(K -n "$NS" get pod "$POD" -o jsonpath='{range .spec.containers[0].args[*]}{@}{"\n"}{end}')
    exec "$BIN" --kubeconfig="$KC" --cluster-resource-namespace="$NS" "${ARGS[@]}"
    ;;
  local-path)
    exec "$BIN" --debug start --kubeconfig="$KC" --namespace=local-path-storage \
      --configmap-name=local-path-config --service-account-name=local-path-provisioner-service-account \
      --health-port="$1"
    ;;
  longhorn-volumes)
    # The same provisioner under Longhorn's name: it provisions the
    # volumes of the StorageClass longhorn in the simulation.
    exec "$BIN" --debug start --kubeconfig="$KC" --namespace=local-path-storage \
      --configmap-name=local-path-config --service-account-name=local-path-provisioner-service-account \
      --provisioner-name=driver.longhorn.io --health-port="$1"
    ;;
  *) echo "launch.sh: unknown add-on $NAME" >&2; exit 2 ;;
esac
