# curl for the stack's Jobs and init containers (wait-for loops, S3 bucket
# creation with --aws-sigv4, the Ollama model pull).  They run `sh -c` /
# `/bin/sh -c` scripts as UID 100 (the Job sets it; curlimages/curl's own
# user is curl_user 100:101) with a read-only root filesystem.
# curl 8.21.0 is trixie-backports' curl: the one curl the catalog renders
# (docker.io/curlimages/curl:8.21.0, every Job and init container).
USES=(deb)
VERSION=8.21.0
SOURCE="Debian trixie-backports curl 8.21.0-2~bpo13+1, busybox 1:1.37.0-6+b9"
REFS=(docker.io/curlimages/curl:8.21.0)

build() {
  deb_rootfs curl=8.21.0-2~bpo13+1 libcurl4t64=8.21.0-2~bpo13+1 \
    libnghttp3-9=1.15.0-1~bpo13+1 libngtcp2-16=1.22.1-1~bpo13+1 libngtcp2-crypto-ossl0=1.22.1-1~bpo13+1 \
    busybox=1:1.37.0-6+b9 ca-certificates
  base_files curl_user:100:curl_group:101:/home/curl_user
  busybox_shell
  ca_bundle
  # As curlimages/curl: arguments that start with "-" are curl's, anything
  # else is a command (`sh -c ...`, `curl ...`).
  cat > "$ROOTFS/entrypoint.sh" <<'EOT'
#!/bin/sh
case ${1:-} in
  -*) set -- curl "$@" ;;
  "") set -- curl ;;
esac
exec "$@"
EOT
  chmod 755 "$ROOTFS/entrypoint.sh"
  # curl -V must work as the non-root user on a read-only root
  chroot --userspec=100:101 "$ROOTFS" curl -V | head -1 >&2
}

IMG_USER=100:101
IMG_WORKDIR=/home/curl_user
IMG_ENV="CURL_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt"
IMG_ENTRYPOINT='["/entrypoint.sh"]'
IMG_CMD='["curl"]'
