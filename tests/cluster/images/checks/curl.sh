# The AppFlowy init containers' wait loop (`sh -c`, curl -fsS) and the n8n
# Job's /bin/sh script against an HTTP server on 127.0.0.1, as UID 100 on a
# read-only root; curl knows --aws-sigv4 (the S3 bucket init container).
test_curl() {
  local port img
  port=$(free_port)
  mkdir -p "$T/www/api"; echo '{"version":"test"}' > "$T/www/api/version"
  python3 -m http.server "$port" --bind 127.0.0.1 --directory "$T/www" >/dev/null 2>&1 &
  PIDS+=($!)
  $CTR -n k8s.io images ls -q | grep -qx docker.io/curlimages/curl:8.21.0 || import curl >/dev/null
  sleep 0.5
  check curl "sh -c wait loop as 100:101, read-only root" \
    run curl1 docker.io/curlimages/curl:8.21.0 -- sh -c "
      set -e
      [ \"\$(id -u):\$(id -g)\" = 100:101 ]
      until curl -fsS -o /dev/null --max-time 5 http://127.0.0.1:$port/api/version; do sleep 1; done
      if touch /x 2>/dev/null; then echo 'root is writable'; exit 1; fi
      curl --help all | grep -q -- --aws-sigv4"
  check curl "/bin/sh script with \$(curl ...), case, grep" \
    run curl2 docker.io/curlimages/curl:8.21.0 -- /bin/sh -c "
      set -eu
      out=\$(curl -fsS http://127.0.0.1:$port/api/version)
      case \"\$out\" in *'\"version\"'*) ;; *) exit 1 ;; esac
      curl -V | head -1 | grep -q '^curl 8.21.0 '"
  # (ctr run replaces entrypoint and command alike; a Pod's args only the
  # command, so the entrypoint is named here.)
  check curl "entrypoint: arguments starting with - go to curl (as curlimages/curl)" \
    run curl3 docker.io/curlimages/curl:8.21.0 -- /entrypoint.sh -fsS -o /dev/null http://127.0.0.1:$port/api/version
}
