# n8n as the rendered Deployment runs it: the image's own entrypoint (no
# command), UID 1000, read-only root, /home/node/.n8n, /tmp, .cache and
# .npm mounted, PostgreSQL as its database; /healthz and
# /healthz/readiness (the probes) answer 200; the version is what the
# recipe says.
test_n8n() {
  import n8n >/dev/null
  pg_start
  local d="$T/n8n" port t0
  port=$(free_port)
  mkdir -p "$d/data" "$d/tmp" "$d/cache" "$d/npm"; chown 1000:1000 "$d"/*
  t0=$SECONDS
  # n8n opens more than ctr's default 1024 files at start (EMFILE): run
  # with the runtime's limit, as under the kubelet.
  run_spec n8n n8n \
    --mount "$d/data:/home/node/.n8n:rw" --mount "$d/tmp:/tmp:rw" \
    --mount "$d/cache:/home/node/.cache:rw" --mount "$d/npm:/home/node/.npm:rw" \
    --env DB_TYPE=postgresdb --env DB_POSTGRESDB_HOST=127.0.0.1 --env DB_POSTGRESDB_PORT="$PG_PORT" \
    --env DB_POSTGRESDB_DATABASE=n8n --env DB_POSTGRESDB_USER=app --env DB_POSTGRESDB_PASSWORD=app-test \
    --env N8N_ENCRYPTION_KEY=test-encryption-key-0123456789 --env N8N_HOST=n8n.test --env N8N_PORT="$port" \
    --env N8N_LISTEN_ADDRESS=127.0.0.1 --env N8N_PROTOCOL=https --env N8N_PROXY_HOPS=1 \
    --env N8N_DIAGNOSTICS_ENABLED=false --env N8N_METRICS=true > "$d/log" 2>&1 &
  PIDS+=($!)
  check n8n "/healthz answers 200 (startup probe)" http_wait "http://127.0.0.1:$port/healthz" 300
  check n8n "/healthz/readiness answers 200 (database connected, migrated)" http_wait "http://127.0.0.1:$port/healthz/readiness" 60
  echo "    n8n ready after $((SECONDS - t0)) s"
  check n8n "/metrics (N8N_METRICS) answers" sh -c "curl -fsS http://127.0.0.1:$port/metrics | grep -q n8n_version_info"
  check n8n "runs as 1000 with the version of the recipe" \
    $CTR -n k8s.io tasks exec --exec-id v n8n sh -c '[ $(id -u) = 1000 ] && n8n --version | grep -qx 2.39.7'
  check n8n "wrote its settings to the mounted /home/node/.n8n" test -s "$d/data/config"
  $CTR -n k8s.io tasks kill n8n >/dev/null 2>&1 || true
}
