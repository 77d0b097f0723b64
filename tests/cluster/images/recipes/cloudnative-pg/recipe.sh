# The CloudNativePG operator, built from the Go module
# github.com/cloudnative-pg/cloudnative-pg@v1.30.0 (mod/: a wrapper module
# whose go.sum pins every dependency at the version CNPG's own go.mod
# names).  As upstream's image: the static binary at
# /operator/manager_amd64 and /manager a symlink to it (the operator
# finds the architectures its instances can run by globbing
# operator/manager_* from /; without it every Cluster fails with "invalid
# architecture: amd64"), ENTRYPOINT
# /manager, CA certificates and time zones, licenses in /licenses.  The
# rendered Deployment runs `/manager controller ...` as 10001:10001 on a
# read-only root with /controller and the webhook certificates mounted;
# every instance Pod's bootstrap-controller init container runs
# `/manager bootstrap /controller/manager` from this image, which copies the
# binary into the Pod's shared volume for the PostgreSQL container.
USES=(deb go)
VERSION=1.30.0
SOURCE="Go module github.com/cloudnative-pg/cloudnative-pg@v1.30.0 (go 1.26), Debian trixie ca-certificates, tzdata"
REFS=(ghcr.io/cloudnative-pg/cloudnative-pg:1.30.0)

build() {
  local v=github.com/cloudnative-pg/cloudnative-pg/pkg/versions
  GO_LDFLAGS="-s -w -X $v.buildVersion=$VERSION -X $v.buildCommit=v$VERSION -X $v.buildDate=1970-01-01" \
    go_build "$RECIPE_DIR/mod" "$WORK/bin" github.com/cloudnative-pg/cloudnative-pg/cmd/manager
  deb_files "$WORK/deb" ca-certificates=20250419+deb13u1 tzdata
  mkdir -p "$ROOTFS/etc/ssl/certs" "$ROOTFS/usr/share" "$ROOTFS/licenses" "$ROOTFS/controller"
  ROOTFS=$WORK/deb ca_bundle
  cp "$WORK/deb/etc/ssl/certs/ca-certificates.crt" "$ROOTFS/etc/ssl/certs/"
  cp -a "$WORK/deb/usr/share/zoneinfo" "$ROOTFS/usr/share/"
  base_files nonroot:65532:nonroot:65532:/home/nonroot
  install -D -m 0755 "$WORK/bin/manager" "$ROOTFS/operator/manager_amd64"
  ln -sf operator/manager_amd64 "$ROOTFS/manager"
  cp "$(cd "$RECIPE_DIR/mod" && GOFLAGS=-mod=readonly go list -m -f '{{.Dir}}' github.com/cloudnative-pg/cloudnative-pg)/LICENSE" \
    "$ROOTFS/licenses/LICENSE"
  chmod -R u+w "$ROOTFS/licenses"
  "$ROOTFS/manager" version >&2 || true
}

IMG_USER=65532:65532
IMG_WORKDIR=/
IMG_ENTRYPOINT='["/manager"]'
IMG_PORTS="8080/tcp 9443/tcp"
