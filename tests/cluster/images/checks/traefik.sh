# Traefik as the k3s chart runs it: arguments only (through the image's
# entrypoint), UID 65532, read-only root with /data and /tmp mounted, entry
# points on free loopback ports, /ping; a file-provider router forwards a
# Host-matched request to an HTTP server on 127.0.0.1, unknown hosts get 404.
test_traefik() {
  import traefik >/dev/null
  local d="$T/traefik" web ping back
  web=$(free_port); ping=$(free_port); back=$(free_port)
  mkdir -p "$d/data" "$d/tmp" "$d/etc" "$d/www"; chown 65532:65532 "$d/data" "$d/tmp"
  echo "hello from the backend" > "$d/www/index.html"
  python3 -m http.server "$back" --bind 127.0.0.1 --directory "$d/www" >/dev/null 2>&1 &
  PIDS+=($!)
  cat > "$d/etc/dynamic.yaml" <<EOT
http:
  routers:
    app:
      rule: Host(\`app.test\`)
      entryPoints: [web]
      service: app
  services:
    app:
      loadBalancer:
        servers:
          - url: http://127.0.0.1:$back
EOT
  $CTR -n k8s.io run --rm --read-only --net-host \
    --mount "type=bind,src=$d/data,dst=/data,options=rbind:rw" \
    --mount "type=bind,src=$d/tmp,dst=/tmp,options=rbind:rw" \
    --mount "type=bind,src=$d/etc,dst=/etc/traefik,options=rbind:ro" \
    docker.io/rancher/mirrored-library-traefik:3.6.13 traefik /entrypoint.sh \
      --global.checknewversion=false --global.sendanonymoususage=false \
      --entryPoints.web.address=127.0.0.1:$web/tcp --entryPoints.traefik.address=127.0.0.1:$ping/tcp \
      --ping=true --api.dashboard=true --providers.file.filename=/etc/traefik/dynamic.yaml \
      --log.level=INFO > "$d/log" 2>&1 &
  PIDS+=($!)
  check traefik "/ping answers 200 on the traefik entry point" http_wait "http://127.0.0.1:$ping/ping" 60
  check traefik "a Host(app.test) request reaches the backend" \
    sh -c "for i in \$(seq 1 20); do curl -fsS -H 'Host: app.test' http://127.0.0.1:$web/ 2>/dev/null | grep -q 'hello from the backend' && exit 0; sleep 0.5; done; exit 1"
  check traefik "an unknown host gets 404" \
    sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: other.test' http://127.0.0.1:$web/) = 404 ]"
  check traefik "version 3.6.13, running as 65532" \
    $CTR -n k8s.io tasks exec --exec-id v traefik sh -c '[ $(id -u) = 65532 ] && traefik version | grep -q "3.6.13"'
  $CTR -n k8s.io tasks kill traefik >/dev/null 2>&1 || true
}
