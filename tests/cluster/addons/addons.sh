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

# With a real node, local-path volumes live under DIR/storage/local-path (the
# helper pods really run there); the upstream default /opt/local-path-provisioner
# is only ever "used" by kwok's simulated helper pods.
local_path_dir() {
  if [ -f "$1/realnode/active" ]; then
    sed "s|\"/opt/local-path-provisioner\"|\"$1/storage/local-path\"|"
  else
    cat
  fi
}

start_addons() { # start_addons DIR LIST
  local dir=$1 list=$2 a bin up kc="$1/pki/admin.kubeconfig"
  up=$(upstream_dir)
  local -a kubectl=("$BIN/kubectl" --kubeconfig="$kc")
  local apply=("${kubectl[@]}" apply --server-side --force-conflicts --field-manager=sector7-sim -f -)
  for a in ${list//,/ }; do
    bin=""
    case "$a" in
      k3s|cnpg) ;;
      longhorn) bin=$("$HERE/addons/build.sh" local-path) ;;
      *) bin=$("$HERE/addons/build.sh" "$a") ;;
    esac
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
        yaml_docs Deployment --not "$up/local-path-provisioner/v0.0.37/local-path-storage.yaml" | local_path_dir "$dir" | "${apply[@]}" >/dev/null
        pick_ports 1
        start addon-local-path "$dir" "$HERE/addons/supervise.sh" "$HERE/addons/launch.sh" local-path "$dir/" "$bin" "${PORTS[@]}"
        echo "ADDON_LOCAL_PATH_HEALTH_PORT=${PORTS[0]}" >>"$dir/ports.env"
        wait_for "local-path-provisioner /health" 60 addon-local-path curl -fsS "http://127.0.0.1:${PORTS[0]}/health"
        ;;
      k3s)
        # What k3s installs by itself (see sim/k3s-packaged.yaml), and a
        # simulated helm-controller for the HelmChartConfig sector7 writes.
        "${kubectl[@]}" apply --server-side --field-manager=sector7-sim \
          -f "$up/helm-controller/v0.17.7/generated/helm.cattle.io_helmcharts.yaml" \
          -f "$up/helm-controller/v0.17.7/generated/helm.cattle.io_helmchartconfigs.yaml" >/dev/null
        "${kubectl[@]}" wait --for condition=established --timeout=60s \
          crd/helmcharts.helm.cattle.io crd/helmchartconfigs.helm.cattle.io >/dev/null
        "${apply[@]}" <"$HERE/sim/k3s-packaged.yaml" >/dev/null
        # Traefik's own CRDs (Middleware and the rest of traefik.io; not
        # the hub.traefik.io ones), which k3s installs with its traefik-crd
        # chart, from the pinned chart's crds/.
        local crds=("$up"/traefik/v41.3.0/crds/traefik.io_*.yaml)
        [ -f "${crds[0]}" ] || { echo "up.sh: no Traefik CRDs under $up/traefik/v41.3.0/crds" >&2; return 1; }
        "${kubectl[@]}" apply --server-side --field-manager=sector7-sim "${crds[@]/#/-f}" >/dev/null
        "${kubectl[@]}" wait --for condition=established --timeout=60s crd/middlewares.traefik.io >/dev/null
        local port
        port=$(sed -n 's/^APISERVER_PORT=//p' "$dir/ports.env")
        start addon-k3s "$dir" /usr/bin/python3 "$HERE/sim/controllers-sim.py" \
          "https://127.0.0.1:$port" "$dir/pki/ca.crt" "$dir/pki/admin.crt" "$dir/pki/admin.key" helm
        bin="sim/controllers-sim.py helm"
        ;;
      longhorn)
        # Longhorn's volumes: the real local-path-provisioner, registered
        # under Longhorn's provisioner name, and the StorageClass
        # longhorn-manager would create (simulated).
        [ -f "$up/local-path-provisioner/v0.0.37/local-path-storage.yaml" ] || { echo "up.sh: no local-path-storage.yaml under $up" >&2; return 1; }
        yaml_docs Deployment --not "$up/local-path-provisioner/v0.0.37/local-path-storage.yaml" | local_path_dir "$dir" | "${apply[@]}" >/dev/null
        pick_ports 1
        start addon-longhorn-volumes "$dir" "$HERE/addons/supervise.sh" "$HERE/addons/launch.sh" longhorn-volumes "$dir/" "$bin" "${PORTS[0]}"
        wait_for "longhorn volumes /health" 60 addon-longhorn-volumes curl -fsS "http://127.0.0.1:${PORTS[0]}/health"
        local port
        port=$(sed -n 's/^APISERVER_PORT=//p' "$dir/ports.env")
        start addon-longhorn "$dir" /usr/bin/python3 "$HERE/sim/controllers-sim.py" \
          "https://127.0.0.1:$port" "$dir/pki/ca.crt" "$dir/pki/admin.crt" "$dir/pki/admin.key" longhorn
        ;;
      cnpg)
        local port
        port=$(sed -n 's/^APISERVER_PORT=//p' "$dir/ports.env")
        start addon-cnpg "$dir" /usr/bin/python3 "$HERE/sim/controllers-sim.py" \
          "https://127.0.0.1:$port" "$dir/pki/ca.crt" "$dir/pki/admin.crt" "$dir/pki/admin.key" cnpg
        bin="sim/controllers-sim.py cnpg"
        ;;
      *) echo "up.sh: unknown add-on '$a' (metallb, cert-manager, local-path, k3s, longhorn, cnpg)" >&2; return 2 ;;
    esac
    echo "up.sh: add-on $a started ($bin)" >&2
  done
}
