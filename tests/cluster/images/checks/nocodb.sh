# NocoDB as the rendered Deployment runs it: the image's own command, UID
# 1000, read-only root with /usr/app/data and /tmp mounted, PostgreSQL via
# NC_DB; /api/v1/health (the probes) answers 200.
test_nocodb() {
  import nocodb >/dev/null
  pg_start
  local d="$T/nocodb" port t0
  port=$(free_port)
  mkdir -p "$d/data" "$d/tmp"; chown 1000:1000 "$d/data" "$d/tmp"
  t0=$SECONDS
  $CTR -n k8s.io run --rm --read-only --net-host \
    --mount "type=bind,src=$d/data,dst=/usr/app/data,options=rbind:rw" \
    --mount "type=bind,src=$d/tmp,dst=/tmp,options=rbind:rw" \
    --env "NC_DB=pg://127.0.0.1:$PG_PORT?u=app&p=app-test&d=nocodb" \
    --env NC_AUTH_JWT_SECRET=test-jwt-secret-0123456789 --env NC_ADMIN_EMAIL=admin@example.test \
    --env NC_ADMIN_PASSWORD=Admin-Passw0rd-test --env NC_PUBLIC_URL=https://nocodb.test \
    --env NC_SITE_URL=https://nocodb.test --env NC_DISABLE_TELE=true --env PORT="$port" \
    docker.io/nocodb/nocodb:2026.10.1 nocodb tini -- node /usr/src/app/server.js > "$d/log" 2>&1 &
  PIDS+=($!)
  check nocodb "/api/v1/health answers 200 (the probes)" http_wait "http://127.0.0.1:$port/api/v1/health" 300
  echo "    nocodb ready after $((SECONDS - t0)) s"
  check nocodb "its tables are in the PostgreSQL database" \
    $CTR -n k8s.io tasks exec --exec-id t apps-pg sh -c "psql -h /run -p $PG_PORT -U postgres -d nocodb -Atc \"SELECT count(*) FROM pg_tables WHERE tablename LIKE 'nc_%'\" | grep -qv '^0$'"
  check nocodb "runs as 1000" $CTR -n k8s.io tasks exec --exec-id u nocodb sh -c '[ $(id -u) = 1000 ]'
  $CTR -n k8s.io tasks kill nocodb >/dev/null 2>&1 || true
}
