# A containerd of the test's own, under a temp dir: own root, state and
# socket, no CRI plugin, nothing pulled.  Sourced by test.sh.
#   ctrd_start DIR   starts it (PID in DIR/containerd.pid); sets CTR
#   ctrd_stop DIR    stops exactly that PID
ctrd_start() {
  local dir=$1
  mkdir -p "$dir/root" "$dir/state"
  cat > "$dir/config.toml" <<EOT
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$dir/containerd.sock"
[ttrpc]
  address = "$dir/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
EOT
  containerd --config "$dir/config.toml" > "$dir/containerd.log" 2>&1 &
  echo $! > "$dir/containerd.pid"
  CTR="ctr --address $dir/containerd.sock"
  local i
  for i in $(seq 1 100); do
    $CTR version >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "containerd did not start; see $dir/containerd.log" >&2
  return 1
}

ctrd_stop() {
  local dir=$1 pid
  pid=$(cat "$dir/containerd.pid" 2>/dev/null) || return 0
  if [ -n "$pid" ] && grep -qa -- "$dir/config.toml" "/proc/$pid/cmdline" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    local i; for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/containerd.pid"
}
