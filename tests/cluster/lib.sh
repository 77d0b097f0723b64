# Shared helpers for up.sh, down.sh and addons/start.sh (sourced, not run).
# Process bookkeeping: DIR/run/components lists started components in start
# order; DIR/run/NAME.pid holds each one's PID. A PID only counts as ours while
# /proc/PID/cmdline still mentions DIR (guards against PID reuse).

is_ours() { # is_ours DIR PID
  local dir=$1 pid=$2
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  { tr '\0' '\n' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "$dir/"
}

pid_of() { # pid_of DIR NAME -> prints PID if that component runs
  local f="$1/run/$2.pid" pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f" 2>/dev/null) || return 1
  is_ours "$1" "$pid" && echo "$pid"
}

# alive DIR NAME: the component runs, or this shell has just started it and
# it has not exec'd yet (until then its command line is this shell's, which
# is_ours does not recognise).
alive() {
  local pid
  pid_of "$1" "$2" >/dev/null && return 0
  pid=$(cat "$1/run/$2.pid" 2>/dev/null) || return 1
  [ "$(ps -o ppid= -p "$pid" 2>/dev/null | tr -d ' ')" = "$$" ]
}

components() { [ -f "$1/run/components" ] && cat "$1/run/components" || true; }

all_running() {
  local c n=0
  for c in $(components "$1"); do pid_of "$1" "$c" >/dev/null || return 1; n=$((n+1)); done
  [ "$n" -gt 0 ]
}

any_running() {
  local f c
  for f in "$1"/run/*.pid; do
    [ -f "$f" ] || continue
    c=$(basename "$f" .pid)
    pid_of "$1" "$c" >/dev/null && return 0
  done
  return 1
}

# stop_all DIR: SIGTERM every component (reverse start order), wait up to 30 s,
# then SIGKILL the rest and wait until they are gone. Only PIDs from DIR/run.
stop_all() {
  local dir=$1 c pid pids="" names i
  names=$(components "$dir" | tac)
  # pid files not (or no longer) listed in components too
  for f in "$dir"/run/*.pid; do
    [ -f "$f" ] || continue
    c=$(basename "$f" .pid)
    echo "$names" | grep -qx -- "$c" || names="$c"$'\n'"$names"
  done
  for c in $names; do
    alive "$dir" "$c" || continue
    pid=$(cat "$dir/run/$c.pid")
    kill -TERM "$pid" 2>/dev/null || true
    pids="$pids $pid"
    # let the clients go before the apiserver, the apiserver before etcd
    case "$c" in apiserver|etcd)
      for i in $(seq 100); do is_ours "$dir" "$pid" || break; sleep 0.1; done ;;
    esac
  done
  for i in $(seq 300); do
    local left=""
    for pid in $pids; do is_ours "$dir" "$pid" && left="$left $pid"; done
    pids=$left
    [ -z "$pids" ] && break
    sleep 0.1
  done
  for pid in $pids; do
    echo "stopping: PID $pid did not exit after SIGTERM; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  done
  for i in $(seq 100); do
    local left=""
    for pid in $pids; do is_ours "$dir" "$pid" && left="$left $pid"; done
    pids=$left
    [ -z "$pids" ] && break
    sleep 0.1
  done
  [ -z "$pids" ] || { echo "stopping: PIDs$pids still alive" >&2; return 1; }
  rm -f "$dir"/run/*.pid "$dir/run/components"
  teardown_realnode "$dir"
}

# teardown_realnode DIR: if DIR's cluster had a real node, kill what is left
# of its pods and shims, unmount everything under DIR, remove its bridge and
# iptables rules (realnode/node.sh). Nothing to do otherwise.
teardown_realnode() {
  [ -f "$1/realnode/active" ] || return 0
  # shellcheck source=realnode/node.sh
  . "$(dirname "${BASH_SOURCE[0]}")/realnode/node.sh"
  rn_teardown "$1"
}

# start NAME DIR CMD...: run CMD in the background, log to DIR/logs/NAME.log.
# stdin/stdout/stderr and the lock fd 9 are not passed on, so a caller that
# captures up.sh's output ($(...)) does not hang on the daemons.
start() {
  local name=$1 dir=$2; shift 2
  "$@" </dev/null >>"$dir/logs/$name.log" 2>&1 9>&- &
  echo $! >"$dir/run/$name.pid"
  echo "$name" >>"$dir/run/components"
}

# wait_for LABEL SECONDS COMPONENT CMD...: poll CMD every 0.25 s; fail at once
# if COMPONENT's process is gone.
wait_for() {
  local label=$1 t=$2 comp=$3 end; shift 3
  end=$(( $(date +%s) + t ))
  while :; do
    "$@" >/dev/null 2>&1 && return 0
    if ! alive "$DIR" "$comp"; then
      echo "up.sh: $comp exited while waiting for $label (see $DIR/logs/$comp.log)" >&2; return 1
    fi
    [ "$(date +%s)" -lt "$end" ] || { echo "up.sh: timed out after ${t}s waiting for $label" >&2; return 1; }
    sleep 0.25
  done
}

apiserver_ready() { # apiserver_ready DIR
  local p="$1/pki" port
  port=$(sed -n 's/^APISERVER_PORT=//p' "$1/ports.env" 2>/dev/null)
  [ -n "$port" ] || return 1
  curl -fsS --max-time 5 --cacert "$p/ca.crt" --cert "$p/admin.crt" --key "$p/admin.key" \
    "https://127.0.0.1:$port/readyz" >/dev/null 2>&1
}

# pick_ports N: N distinct free TCP ports in 20000-32000 (below Linux's
# ephemeral range) that nothing listens on or uses -> PORTS array.
pick_ports() {
  local want=$1 used p tries=0
  used=$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$1 ~ /^[0-9]+:$/ {split($2,a,":"); print a[2]}' | sort -u |
    while read -r h; do echo $((16#$h)); done)
  PORTS=()
  while [ "${#PORTS[@]}" -lt "$want" ]; do
    tries=$((tries+1)); [ "$tries" -lt 10000 ] || { echo "up.sh: no free ports" >&2; return 1; }
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 12000 ))
    echo "$used" | grep -qx "$p" && continue
    case " ${PORTS[*]} " in *" $p "*) continue ;; esac
    PORTS+=("$p")
  done
}

# gen_pki DIR: CA, apiserver serving cert, admin client cert (O=system:masters),
# service-account keypair. Kept across restarts while valid for another day.
gen_pki() {
  local p=$1 f ok=1
  for f in ca.crt ca.key apiserver.crt apiserver.key admin.crt admin.key sa.key sa.pub; do
    [ -s "$p/$f" ] || ok=0
  done
  if [ "$ok" = 1 ]; then
    for f in ca apiserver admin; do
      openssl x509 -checkend 86400 -noout -in "$p/$f.crt" >/dev/null 2>&1 || ok=0
    done
  fi
  [ "$ok" = 1 ] && return 0
  local n="$p/.new"; rm -rf "$n"; mkdir -p "$n"
  (
    set -e; cd "$n"; umask 077
    q() { "$@" >/dev/null 2>&1 || { echo "up.sh: failed: $*" >&2; return 1; }; }
    q openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -sha256 \
      -subj "/CN=sector7-simulated-cluster-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"
    leaf() { # leaf NAME SUBJECT EXTFILE-TEXT
      q openssl req -new -newkey rsa:2048 -nodes -keyout "$1.key" -subj "$2" -out "$1.csr"
      printf "$3" >"$1.ext"
      q openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 365 -sha256 \
        -out "$1.crt" -extfile "$1.ext"
    }
    leaf apiserver "/CN=kube-apiserver" \
      'subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.43.0.1\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n'
    leaf admin "/O=system:masters/CN=sector7-admin" \
      'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n'
    q openssl genrsa -out sa.key 2048
    q openssl rsa -in sa.key -pubout -out sa.pub
    q openssl verify -CAfile ca.crt apiserver.crt admin.crt
    rm -f ./*.csr ./*.ext ca.srl
  ) || { rm -rf "$n"; return 1; }
  for f in ca.crt ca.key apiserver.crt apiserver.key admin.crt admin.key sa.key sa.pub; do
    mv -f "$n/$f" "$p/$f"
  done
  rmdir "$n"
}

# write_kubeconfig FILE SERVER PKI: admin kubeconfig with embedded data, atomically.
write_kubeconfig() {
  local file=$1 server=$2 p=$3 tmp
  tmp=$(mktemp "$file.tmp.XXXXXX")
  cat >"$tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: sector7-sim
  cluster:
    server: $server
    certificate-authority-data: $(base64 -w0 <"$p/ca.crt")
users:
- name: sector7-sim-admin
  user:
    client-certificate-data: $(base64 -w0 <"$p/admin.crt")
    client-key-data: $(base64 -w0 <"$p/admin.key")
contexts:
- name: sector7-sim
  context:
    cluster: sector7-sim
    user: sector7-sim-admin
current-context: sector7-sim
EOF
  chmod 600 "$tmp"; mv -f "$tmp" "$file"
}

node_names() { echo "$1" | tr ',' '\n' | sed 's/:.*//' | grep -v '^$'; }

# Default InternalIP of the i-th node: NODE_IP_BASE.(10+i). The real node's
# set-up (realnode/node.sh) moves it onto its bridge.
NODE_IP_BASE=${NODE_IP_BASE:-172.30.0}

# node_manifests SPEC K8S_VERSION [--list]: Node objects for kwok (see up.sh
# --nodes); a node with the attribute `real` is left out (its kubelet registers
# it). With --list: one line per node, "NAME IP REAL(0/1) CP(0/1) PODS LABELS"
# (LABELS comma-separated K=V, or -).
node_manifests() {
  local spec=$1 ver=$2 list=${3:-} i=0 entry name attr cp gpu cpu mem pods ip labels real res
  local IFS_SAVE=$IFS
  IFS=','
  for entry in $spec; do
    IFS=$IFS_SAVE
    [ -n "$entry" ] || continue
    name=${entry%%:*}
    echo "$name" | grep -Eqx '[a-z0-9]([-a-z0-9]*[a-z0-9])?' || { echo "up.sh: bad node name '$name'" >&2; return 2; }
    cp=0 gpu=0 cpu=4 mem=16Gi pods=110 ip="$NODE_IP_BASE.$((10+i))" labels="" real=0 res=0
    local rest=${entry#"$name"}; rest=${rest#:}
    local oldifs=$IFS; IFS=':'
    for attr in $rest; do
      case "$attr" in
        cp|control-plane) cp=1 ;;
        real) real=1 ;;
        gpu=*) gpu=${attr#gpu=}; res=1 ;;
        cpu=*) cpu=${attr#cpu=}; res=1 ;;
        memory=*|mem=*) mem=${attr#*=}; res=1 ;;
        pods=*) pods=${attr#pods=} ;;
        ip=*) ip=${attr#ip=} ;;
        label=*=*) labels="$labels ${attr#label=}" ;;
        *) IFS=$oldifs; echo "up.sh: bad node attribute '$attr' in '$entry'" >&2; return 2 ;;
      esac
    done
    IFS=$oldifs
    echo "$gpu$cpu$pods" | grep -Eqx '[0-9]+' || { echo "up.sh: gpu/cpu/pods must be integers in '$entry'" >&2; return 2; }
    echo "$ip" | grep -Eqx '([0-9]{1,3}\.){3}[0-9]{1,3}' || { echo "up.sh: bad ip in '$entry'" >&2; return 2; }
    if [ "$real" = 1 ] && [ "$res" = 1 ]; then
      echo "up.sh: a real node reports its own cpu, memory and GPUs: drop them from '$entry'" >&2; return 2
    fi
    if [ "$list" = --list ]; then
      local l=${labels# }; l=${l// /,}
      echo "$name $ip $real $cp $pods ${l:--}"
      i=$((i+1)); IFS=','; continue
    fi
    if [ "$real" = 1 ]; then i=$((i+1)); IFS=','; continue; fi
    cat <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $name
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    beta.kubernetes.io/arch: amd64
    beta.kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: $name
    kubernetes.io/os: linux
EOF
    if [ "$cp" = 1 ]; then
      echo '    node-role.kubernetes.io/control-plane: "true"'
      echo '    node-role.kubernetes.io/master: "true"'
    fi
    local l
    for l in $labels; do echo "    ${l%%=*}: \"${l#*=}\""; done
    local res="    cpu: \"$cpu\"
    memory: $mem
    pods: \"$pods\"
    ephemeral-storage: 100Gi"
    [ "$gpu" != 0 ] && res="$res
    nvidia.com/gpu: \"$gpu\""
    cat <<EOF
spec: {}
status:
  capacity:
$res
  allocatable:
$res
  addresses:
  - type: InternalIP
    address: $ip
  - type: Hostname
    address: $name
  nodeInfo:
    architecture: amd64
    operatingSystem: linux
    kubeletVersion: $ver+k3s1
    kubeProxyVersion: $ver+k3s1
    osImage: simulated (kwok)
    containerRuntimeVersion: simulated://kwok
    kernelVersion: simulated
    bootID: ""
    machineID: ""
    systemUUID: ""
---
EOF
    i=$((i+1))
    IFS=','
  done
  IFS=$IFS_SAVE
}

node_ready() { # node_ready NAME (uses KUBECTL array): Ready and no taints left
  local out
  out=$("${KUBECTL[@]}" get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}/{.spec.taints}' 2>/dev/null) || return 1
  [ "$out" = "True/" ]
}

# yaml_docs KIND-REGEX [--not] FILE...: print the YAML documents of FILEs whose
# top-level kind matches (or, with --not, does not match) KIND-REGEX.
yaml_docs() {
  local kind=$1 neg=0; shift
  [ "${1:-}" = --not ] && { neg=1; shift; }
  python3 - "$kind" "$neg" "$@" <<'PY'
import re, sys
kind, neg, files = sys.argv[1], sys.argv[2] == "1", sys.argv[3:]
for f in files:
    for doc in re.split(r'(?m)^---\s*$', open(f).read()):
        m = re.search(r'(?m)^kind:\s*(\S+)\s*$', doc)
        if not m:
            continue
        if bool(re.fullmatch(kind, m.group(1))) != neg:
            print('---'); print(doc.strip('\n'))
PY
}

upstream_dir() { # where the upstream reference manifests are (the copy beside the repository)
  local m=${SECTOR7_MIRROR:-../shared/upstream}
  case $m in /*) ;; *) m="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/$m" ;; esac
  echo "$m"
}
