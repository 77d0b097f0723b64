# Traefik, the ingress controller k3s v1.36 packages (its chart
# traefik-37.1.1+up37.1.0 runs rancher/mirrored-library-traefik:3.6.13;
# tests/cluster/sim/k3s-packaged.yaml stands in for it), built from the Go
# module github.com/traefik/traefik/v3@v3.6.13 (mod/: a wrapper module with
# Traefik's own replace/exclude directives; every dependency at the version
# Traefik's go.mod names).  As upstream's image: /usr/local/bin/traefik,
# /entrypoint.sh (arguments that start with "-" are traefik's, as k3s's
# chart passes them), port 8000/8443 as the chart's entry points, CA
# certificates and time zones.  The chart runs it as 65532 on a read-only
# root with /data and /tmp mounted.
# The web dashboard's assets are not in the Go module (they are built with
# yarn upstream): the dashboard serves no UI here; the API, ping, metrics
# and routing are unaffected.
USES=(deb go)
VERSION=3.6.13
SOURCE="Go module github.com/traefik/traefik/v3@v3.6.13 (go 1.26), Debian trixie ca-certificates, tzdata, busybox"
REFS=(docker.io/rancher/mirrored-library-traefik:3.6.13)

build() {
  # version stamp as `make binary` sets it (Codename: the Makefile's default)
  local v=github.com/traefik/traefik/v3/pkg/version t0=$SECONDS
  GO_LDFLAGS="-s -w -X $v.Version=v$VERSION -X $v.Codename=cheddar -X $v.BuildDate=1970-01-01T00:00:00Z" \
    go_build "$RECIPE_DIR/mod" "$WORK/bin" github.com/traefik/traefik/v3/cmd/traefik
  log "traefik: go build took $((SECONDS - t0)) s"
  deb_rootfs ca-certificates tzdata busybox=1:1.37.0-6+b9
  base_files traefik:65532:traefik:65532:/data
  busybox_shell
  ca_bundle
  install -D -m 0755 "$WORK/bin/traefik" "$ROOTFS/usr/local/bin/traefik"
  cat > "$ROOTFS/entrypoint.sh" <<'EOT'
#!/bin/sh
# As upstream's image: options, or a traefik subcommand, go to traefik.
case ${1:-} in
  -*|"") set -- traefik "$@" ;;
  *) if traefik "$1" --help >/dev/null 2>&1; then set -- traefik "$@"; fi ;;
esac
exec "$@"
EOT
  chmod 755 "$ROOTFS/entrypoint.sh"
  mkdir -p "$ROOTFS/data"; chown 65532:65532 "$ROOTFS/data"
  chroot --userspec=65532:65532 "$ROOTFS" traefik version >&2
}

IMG_USER=65532:65532
IMG_ENTRYPOINT='["/entrypoint.sh"]'
IMG_CMD='["traefik"]'
IMG_PORTS="80/tcp 8000/tcp 8443/tcp"
