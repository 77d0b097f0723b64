# Valkey for every Valkey in the catalog (catalog/lib/valkey.yaml and
# Nextcloud's), which renders one reference,
# docker.io/valkey/valkey:9.1.1-alpine: AppFlowy's and n8n's queue run
# `sh -c '... exec valkey-server /run/valkey/valkey.conf --dir /data ...'`,
# Nextcloud's passes only args (`valkey-server --requirepass ...`).  All
# run as UID 999 on a read-only root with /data (and /run/valkey)
# mounted, and probe with `sh -c 'valkey-cli ping | grep -q PONG'`.
# Debian trixie serves valkey 8.1.1 only: the image holds 8.1.1 under the
# 9.1.1 reference.
USES=(deb)
VERSION=8.1.1
SOURCE="Debian trixie valkey-server/valkey-tools 8.1.1+dfsg1-3+deb13u3, busybox 1:1.37.0-6+b9"
REFS=(docker.io/valkey/valkey:9.1.1-alpine)

build() {
  deb_rootfs valkey-server=8.1.1+dfsg1-3+deb13u3 valkey-tools=8.1.1+dfsg1-3+deb13u3 \
    busybox=1:1.37.0-6+b9
  base_files valkey:999:valkey:999:/data
  busybox_shell
  # Debian's default configuration is for its system service (daemonize,
  # /var/log, /run/valkey pidfile): the image runs valkey-server without a
  # config file unless the Pod passes one, as the upstream image does.
  rm -rf "$ROOTFS/etc/valkey" "$ROOTFS/var/lib/valkey" "$ROOTFS/var/log/valkey"
  mkdir -p "$ROOTFS/data" "$ROOTFS/run/valkey"
  chown 999:999 "$ROOTFS/data" "$ROOTFS/run/valkey"
  # As the upstream image: arguments that start with "-" or name a .conf
  # file are valkey-server's, anything else is a command.
  cat > "$ROOTFS/usr/local/bin/docker-entrypoint.sh" <<'EOT'
#!/bin/sh
case ${1:-} in
  -*|*.conf) set -- valkey-server "$@" ;;
  "") set -- valkey-server ;;
esac
exec "$@"
EOT
  chmod 755 "$ROOTFS/usr/local/bin/docker-entrypoint.sh"
  chroot --userspec=999:999 "$ROOTFS" valkey-server --version >&2
}

IMG_USER=999:999
IMG_WORKDIR=/data
IMG_ENTRYPOINT='["docker-entrypoint.sh"]'
IMG_CMD='["valkey-server"]'
IMG_PORTS="6379/tcp"
