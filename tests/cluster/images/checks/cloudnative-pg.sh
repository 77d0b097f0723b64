# The operator image: `/manager controller --help` (the Deployment's
# command) as the image user and as UID 10001 (the Deployment's) on a
# read-only root; `/manager bootstrap /controller/manager` (every instance
# Pod's bootstrap-controller init container) copies the binary into a
# mounted /controller; that copy runs inside the PostgreSQL image as UID 26
# (`/controller/manager instance ...`, as CNPG runs its instance manager),
# and finds the PostgreSQL binaries on the image's PATH.
test_cloudnative_pg() {
  import cloudnative-pg >/dev/null
  local img=ghcr.io/cloudnative-pg/cloudnative-pg:1.30.0 d="$T/cnpg"
  mkdir -p "$d/controller" "$d/rootfs"; chmod 1777 "$d/controller"
  check cloudnative-pg "/manager controller --help (read-only root, image user)" \
    sh -c "$CTR -n k8s.io run --rm --read-only --net-host $img cnpg1 /manager controller --help | grep -q -- --webhook-port"
  check cloudnative-pg "/manager version says 1.30.0" \
    sh -c "$CTR -n k8s.io run --rm --read-only --net-host $img cnpg2 /manager version | grep -q 'Version:1.30.0'"
  # ctr run cannot pick a user: the archive's layer, unpacked, under chroot
  # --userspec for the Deployment's UID.
  python3 - "$OUT/cloudnative-pg.tar" "$d/rootfs" <<'PY'
import json, sys, tarfile, io
t = tarfile.open(sys.argv[1])
idx = json.load(t.extractfile("index.json"))
m = json.load(t.extractfile("blobs/sha256/" + idx["manifests"][0]["digest"].split(":")[1]))
for l in m["layers"]:
    tarfile.open(fileobj=io.BytesIO(t.extractfile("blobs/sha256/" + l["digest"].split(":")[1]).read())).extractall(sys.argv[2])
PY
  check cloudnative-pg "/manager controller --help as 10001:10001 (the Deployment's user)" \
    sh -c "chroot --userspec=10001:10001 '$d/rootfs' /manager controller --help | grep -q -- --leader-elect"
  check cloudnative-pg "/manager bootstrap /controller/manager copies the binary (read-only root)" \
    sh -c "$CTR -n k8s.io run --rm --read-only --net-host \
      --mount type=bind,src=$d/controller,dst=/controller,options=rbind:rw \
      $img cnpg3 /manager bootstrap /controller/manager && [ -x $d/controller/manager ]"
  # In an instance Pod both init containers and postgres run as the Pod's
  # user, 26: the copy that postgres runs is made by 26.
  mkdir -p "$d/rootfs/controller"; chown 26:26 "$d/rootfs/controller"
  check cloudnative-pg "the bootstrap copy as UID 26 (an instance Pod's user)" \
    chroot --userspec=26:26 "$d/rootfs" /manager bootstrap /controller/manager
  if $CTR -n k8s.io images ls -q | grep -qx localhost/sector7/postgresql:17-pgvector || \
     { [ -f "$OUT/postgresql.tar" ] && import postgresql >/dev/null; }; then
    check cloudnative-pg "the copied manager runs in the PostgreSQL image as 26 and finds postgres" \
      sh -c "$CTR -n k8s.io run --rm --read-only --net-host \
        --mount type=bind,src=$d/rootfs/controller,dst=/controller,options=rbind:ro \
        localhost/sector7/postgresql:17-pgvector cnpg4 sh -c '
          [ \$(id -u) = 26 ] && /controller/manager instance init --help | grep -q -- --initdb-flags &&
          for b in initdb postgres pg_ctl pg_controldata pg_basebackup pg_rewind pg_isready; do command -v \$b >/dev/null || exit 1; done'"
  else
    bad "cloudnative-pg: the PostgreSQL image is not built (build.sh postgresql)"
  fi
}
