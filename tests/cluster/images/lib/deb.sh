# Debian packages into the image (USES=deb).

DEBIAN_MIRROR=${SECTOR7_DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_SECURITY=${SECTOR7_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}

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

# deb_files DEST PKG...: unpack PKG (and its dependencies) into a scratch
# root and leave it at DEST, for images that take only a few files from
# Debian (CA certificates, time zones) next to a static binary.
deb_files() {
  local dest=$1; shift
  ( ROOTFS=$dest; WORK=$WORK/aux-work; mkdir -p "$WORK"; deb_rootfs "$@" )
}

