# Sourced by up.sh (after lib.sh) for --addons: start real add-on controllers
# out of cluster with the admin kubeconfig, as components of the cluster
# (DIR/run/addon-NAME.pid, DIR/logs/addon-NAME.log, stopped by down.sh).
#
# Each controller runs under addons/supervise.sh (restarts it when it exits)
# via addons/launch.sh:
#   metallb, cert-manager  wait until the add-on is deployed (its controller
#                 Deployment's pod is Running under kwok), then run as that pod.
#   local-path    like k3s's bundled provisioner, runs at once: up.sh applies
#                 local-path-storage.yaml v0.0.37 without its Deployment
#                 (namespace, RBAC, StorageClass local-path, ConfigMap) first,
#                 server-side with field manager sector7-sim.

start_addons() { # start_addons DIR LIST
  local dir=$1 list=$2 a bin up kc="$1/pki/admin.kubeconfig"
  up=$(upstream_dir)
  local -a kubectl=("$BIN/kubectl" --kubeconfig="$kc")
  local apply=("${kubectl[@]}" apply --server-side --force-conflicts --field-manager=sector7-sim -f -)
  for a in ${list//,/ }; do
    bin=$("$HERE/addons/build.sh" "$a")
    # (DIR is passed as "$dir/" so that the supervisor's command line names it)
    case "$a" in
      metallb)
        pick_ports 2
        start addon-metallb "$dir" "$HERE/addons/supervise.sh" "$HERE/addons/launch.sh" metallb "$dir/" "$bin" "${PORTS[@]}"
        echo "ADDON_METALLB_METRICS_PORT=${PORTS[0]}" >>"$dir/ports.env"
        echo "ADDON_METALLB_HEALTH_PORT=${PORTS[1]}" >>"$dir/ports.env"
        ;;
      cert-manager)
        start addon-cert-manager "$dir" "$HERE/addons/supervise.sh" "$HERE/addons/launch.sh" cert-manager "$dir/" "$bin"
        ;;
      local-path)
        [ -f "$up/local-path-provisioner/v0.0.37/local-path-storage.yaml" ] || { echo "up.sh: no local-path-storage.yaml under $up" >&2; return 1; }
        yaml_docs Deployment --not "$up/local-path-provisioner/v0.0.37/local-path-storage.yaml" | "${apply[@]}" >/dev/null
        pick_ports 1
        start addon-local-path "$dir" "$HERE/addons/supervise.sh" "$HERE/addons/launch.sh" local-path "$dir/" "$bin" "${PORTS[@]}"
        echo "ADDON_LOCAL_PATH_HEALTH_PORT=${PORTS[0]}" >>"$dir/ports.env"
        wait_for "local-path-provisioner /health" 60 addon-local-path curl -fsS "http://127.0.0.1:${PORTS[0]}/health"
        ;;
      *) echo "up.sh: unknown add-on '$a' (metallb, cert-manager, local-path)" >&2; return 2 ;;
    esac
    echo "up.sh: add-on $a started ($bin)" >&2
  done
}
