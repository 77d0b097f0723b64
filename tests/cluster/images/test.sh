#!/usr/bin/env bash
# Runs each built image the way the rendered manifests run it, on a
# containerd of its own (temp dir, own socket, no CRI, nothing pulled):
# `ctr images import` of the archive, then `ctr run` with the image's own
# user, a read-only root filesystem where the manifest sets one, host
# networking limited to what the test serves on 127.0.0.1.
#
#   tests/cluster/images/test.sh [--out DIR] [NAME...]
#
# Builds what is missing first (build.sh).  Prints "ok NAME: ..." or
# "FAIL NAME: ..." per check and ends with "N passed, N failed".
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${SECTOR7_IMAGES_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/sector7/images}
OUT=${SECTOR7_IMAGES_OUT:-$CACHE/out}
NAMES=()
while [ $# -gt 0 ]; do
  case $1 in
    --out) OUT=$2; shift 2 ;;
    *) NAMES+=("$1"); shift ;;
  esac
done
if [ ${#NAMES[@]} -eq 0 ]; then
  mapfile -t NAMES < <(grep -v '^#' "$HERE/recipes/ORDER" | grep .)
fi
"$HERE/build.sh" --out "$OUT" "${NAMES[@]}" >&2

source "$HERE/lib/containerd.sh"
T=$(mktemp -d /tmp/sector7-images-test.XXXXXX)
PIDS=()
PASS=0 FAILN=0
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "${CTR:-}" ] && for c in $($CTR -n k8s.io containers ls -q 2>/dev/null); do
    $CTR -n k8s.io tasks kill -s KILL "$c" >/dev/null 2>&1 || true
    sleep 0.2
    $CTR -n k8s.io containers rm "$c" >/dev/null 2>&1 || true
  done
  ctrd_stop "$T"
  umount -R "$T/root" 2>/dev/null || true
  if [ "$FAILN" -gt 0 ]; then
    local l
    for l in "$T"/*/log; do [ -f "$l" ] && { echo "--- last lines of $l"; tail -25 "$l"; }; done
  fi
  rm -rf "$T"
}
trap cleanup EXIT
ctrd_start "$T"

ok() { echo "ok $*"; PASS=$((PASS + 1)); }
bad() { echo "FAIL $*"; FAILN=$((FAILN + 1)); }
check() { # NAME DESCRIPTION COMMAND...
  local n=$1 d=$2; shift 2
  local out
  if out=$("$@" 2>&1); then ok "$n: $d"; else bad "$n: $d"; echo "$out" | tail -20 | sed 's/^/    /'; fi
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
import() { # NAME -> prints the first reference
  $CTR -n k8s.io images import "$OUT/$1.tar" >&2
  python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["refs"][0])' \
    "$(ls -t "$CACHE/$1"-*.json | head -1)"
}
# run ID IMAGE [ctr run options...] -- ARGS...: a container on the host's
# network namespace (the test's listeners are on 127.0.0.1), read-only root.
run() {
  local id=$1 img=$2; shift 2
  local opts=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  $CTR -n k8s.io run --rm --read-only --net-host "${opts[@]}" "$img" "$id" "$@"
}

# pg_start: one PostgreSQL container (the postgresql image) on a free
# loopback port for the apps' checks, with role app (password app-test) and
# the databases n8n and nocodb.  Sets PG_PORT.
PG_PORT=
pg_start() {
  [ -n "$PG_PORT" ] && return 0
  $CTR -n k8s.io images ls -q | grep -qx localhost/sector7/postgresql:17-pgvector || \
    { "$HERE/build.sh" --out "$OUT" postgresql >&2 && import postgresql >/dev/null; }
  local d="$T/apps-pg" i
  PG_PORT=$(free_port)
  mkdir -p "$d/data" "$d/run"; chown 26:26 "$d/data" "$d/run"
  local m=(--mount "type=bind,src=$d/data,dst=/var/lib/postgresql/data,options=rbind:rw"
           --mount "type=bind,src=$d/run,dst=/run,options=rbind:rw")
  run apps-pg-init localhost/sector7/postgresql:17-pgvector "${m[@]}" -- \
    initdb -U postgres -D /var/lib/postgresql/data/pgdata --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  $CTR -n k8s.io run -d --read-only --net-host "${m[@]}" localhost/sector7/postgresql:17-pgvector apps-pg \
    postgres -D /var/lib/postgresql/data/pgdata -c listen_addresses=127.0.0.1 -p "$PG_PORT" -c unix_socket_directories=/run >/dev/null
  for i in $(seq 1 100); do
    $CTR -n k8s.io tasks exec --exec-id r$i apps-pg pg_isready -h /run -p "$PG_PORT" >/dev/null 2>&1 && break
    sleep 0.2
  done
  $CTR -n k8s.io tasks exec --exec-id roles apps-pg psql -h /run -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -q \
    -c "CREATE ROLE app LOGIN PASSWORD 'app-test'" -c "CREATE DATABASE n8n OWNER app" -c "CREATE DATABASE nocodb OWNER app" >/dev/null
}

# http_wait URL SECONDS: until URL answers 200 (curl on the host, loopback).
http_wait() {
  local url=$1 max=$2 i
  for i in $(seq 1 "$max"); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url" 2>/dev/null)" = 200 ] && return 0
    sleep 1
  done
  return 1
}

# run_spec ID NAME [--mount SRC:DST:MODE]... [--env K=V]... [-- ARGS...]:
# NAME's image as a kubelet would run it (image user, RLIMIT_NOFILE of the
# runtime rather than ctr's 1024), in the foreground; see checks/spec.py.
run_spec() {
  local id=$1 name=$2; shift 2
  mkdir -p "$T/rootfs-$name"
  ctr oci spec > "$T/default-spec.json"
  python3 "$HERE/checks/spec.py" "$T/default-spec.json" "$OUT/$name.tar" "$T/rootfs-$name" \
    "$(ulimit -Hn)" "$@" > "$T/spec-$id.json"
  $CTR -n k8s.io run --rm --config "$T/spec-$id.json" "$id"
}

for name in "${NAMES[@]}"; do
  source "$HERE/checks/$name.sh"
  "test_${name//-/_}"
done
echo "$PASS passed, $FAILN failed"
[ "$FAILN" -eq 0 ]
