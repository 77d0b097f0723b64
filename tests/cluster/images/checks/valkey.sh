# Both catalog Valkeys as rendered: AppFlowy's `sh -c` that writes
# /run/valkey/valkey.conf and execs valkey-server, and Nextcloud's args-only
# `valkey-server --requirepass ...` through the entrypoint; UID 999, read-only
# root, /data and /run/valkey as writable mounts; the probe command; AOF
# written to /data.
test_valkey() {
  import valkey >/dev/null
  local p1 p2 d1 d2 pw=s3cret-test
  p1=$(free_port); p2=$(free_port)
  d1="$T/valkey1"; d2="$T/valkey2"; mkdir -p "$d1/data" "$d1/run" "$d2/data"
  chown 999:999 "$d1/data" "$d1/run" "$d2/data"
  $CTR -n k8s.io run -d --read-only --net-host --env REDIS_PASSWORD=$pw --env REDISCLI_AUTH=$pw \
    --mount type=bind,src="$d1/data",dst=/data,options=rbind:rw \
    --mount type=bind,src="$d1/run",dst=/run/valkey,options=rbind:rw \
    docker.io/valkey/valkey:9.1.1-alpine vk1 sh -c "
      umask 077
      printf 'requirepass %s\n' \"\$REDIS_PASSWORD\" > /run/valkey/valkey.conf
      exec valkey-server /run/valkey/valkey.conf --dir /data --port $p1 --bind 127.0.0.1 \
        --appendonly yes --appendfsync everysec --maxmemory 768mb --maxmemory-policy noeviction" >/dev/null
  $CTR -n k8s.io run -d --read-only --net-host --env REDISCLI_AUTH=$pw \
    --mount type=bind,src="$d2/data",dst=/data,options=rbind:rw \
    docker.io/valkey/valkey:9.1.1-alpine vk2 docker-entrypoint.sh valkey-server --requirepass $pw \
      --port $p2 --bind 127.0.0.1 --appendonly yes --maxmemory 384mb --maxmemory-policy volatile-lru >/dev/null
  local i
  for i in $(seq 1 50); do
    $CTR -n k8s.io tasks exec --exec-id probe$i vk1 sh -c "valkey-cli -h 127.0.0.1 -p $p1 ping | grep -q PONG" 2>/dev/null && break
    sleep 0.2
  done
  check valkey "AppFlowy form: readiness probe (valkey-cli ping | grep -q PONG) as 999" \
    $CTR -n k8s.io tasks exec --exec-id probe vk1 sh -c "[ \$(id -u) = 999 ] && valkey-cli -h 127.0.0.1 -p $p1 ping | grep -q PONG"
  check valkey "AppFlowy form: SET/GET with the password, unauthenticated is refused" \
    $CTR -n k8s.io tasks exec --exec-id setget vk1 sh -c "
      valkey-cli -h 127.0.0.1 -p $p1 set k v | grep -q OK &&
      [ \"\$(valkey-cli -h 127.0.0.1 -p $p1 get k)\" = v ] &&
      REDISCLI_AUTH= valkey-cli -h 127.0.0.1 -p $p1 get k 2>&1 | grep -q NOAUTH"
  for i in $(seq 1 50); do
    $CTR -n k8s.io tasks exec --exec-id probe2$i vk2 sh -c "valkey-cli -p $p2 ping | grep -q PONG" 2>/dev/null && break
    sleep 0.2
  done
  check valkey "Nextcloud form: args-only valkey-server, probe answers" \
    $CTR -n k8s.io tasks exec --exec-id probe2 vk2 sh -c "valkey-cli -p $p2 ping | grep -q PONG && valkey-cli -p $p2 info server | grep -q valkey_version:8.1.1"
  sleep 1.2
  check valkey "append-only files written to /data by UID 999" \
    sh -c "ls -ln '$d1/data/appendonlydir' | grep -q ' 999 ' && ls '$d2/data/appendonlydir' | grep -q aof"
  for i in vk1 vk2; do $CTR -n k8s.io tasks kill "$i" >/dev/null 2>&1 || true; done
  sleep 1
  for i in vk1 vk2; do $CTR -n k8s.io tasks rm -f "$i" >/dev/null 2>&1 || true; $CTR -n k8s.io containers rm "$i" >/dev/null 2>&1 || true; done
}
