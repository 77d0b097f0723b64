# Garage, the AppFlowy S3 store sector7 deploys by default
# (catalog/appflowy/s3-garage.yaml), from the crates.io crate garage 2.3.0:
# the version the catalog pins (dxflrs/garage:v2.3.0), built with the
# crate's published Cargo.lock and its default features (sqlite, lmdb,
# metrics, k2v, bundled-libs).  As upstream's image: the binary at
# /garage; the Deployment runs `/garage server --single-node
# --default-bucket` as 1000 on a read-only root with /var/lib/garage and
# /etc/garage (the ConfigMap) mounted, S3 on 3900, admin (/health) on 3903.
# Upstream's binary is static (musl); this one links Debian trixie's glibc.
USES=(deb cargo)
VERSION=2.3.0
SOURCE="crates.io garage 2.3.0 (cargo install --locked, rustc 1.95), Debian trixie libc6, libgcc-s1, ca-certificates"
REFS=(docker.io/dxflrs/garage:v2.3.0)

build() {
  local t0=$SECONDS
  cargo_install garage "$VERSION" "$WORK/cargo"
  log "garage: cargo install took $((SECONDS - t0)) s"
  deb_rootfs libc6 libgcc-s1 ca-certificates
  base_files garage:1000:garage:1000:/var/lib/garage
  ca_bundle
  install -m 0755 "$WORK/cargo/bin/garage" "$ROOTFS/garage"
  mkdir -p "$ROOTFS/etc/garage"
  chroot --userspec=1000:1000 "$ROOTFS" /garage --version >&2 || true
}

IMG_USER=1000:1000
IMG_ENTRYPOINT='["/garage"]'
IMG_CMD='["server"]'
IMG_PORTS="3900/tcp 3901/tcp 3902/tcp 3903/tcp"
