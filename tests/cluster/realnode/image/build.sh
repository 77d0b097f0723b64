#!/usr/bin/env bash
# Build the real node's own images as OCI image-layout tarballs (nothing is pulled):
#   pause.tar    sector7.invalid/pause:1 -- pause.c, gcc -static (containerd's sandbox image)
#   busybox.tar  docker.io/library/busybox:latest -- Debian's busybox-static with
#                its applet links (local-path-provisioner's helper pods; tests)
# into ${SECTOR7_REALNODE_BIN:-~/.cache/sector7/realnode-bin}/images-<hash>/ and
# prints that directory. The hash covers this script, pause.c, oci-image.py and
# the busybox binary, so a changed busybox-static package gives a new image.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=${SECTOR7_REALNODE_BIN:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/sector7/realnode-bin}
BB=/bin/busybox
[ -x "$BB" ] && "$BB" --list >/dev/null 2>&1 || { echo "image/build.sh: no $BB (apt-get install busybox-static)" >&2; exit 1; }
H=$(cat "$0" "$HERE/pause.c" "$HERE/oci-image.py" "$BB" | sha256sum | cut -c1-16)
OUT="$ROOT/images-$H"
if [ -f "$OUT/.complete" ]; then echo "$OUT"; exit 0; fi
mkdir -p "$OUT"
exec 9>"$OUT/.lock"; flock 9
if [ -f "$OUT/.complete" ]; then echo "$OUT"; exit 0; fi
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

mkdir -p "$T/pause"
gcc -static -O2 -s -Wall -Wextra -Werror -o "$T/pause/pause" "$HERE/pause.c"
python3 "$HERE/oci-image.py" "$T/pause" sector7.invalid/pause:1 "$OUT/pause.tar" --entrypoint '["/pause"]'

R="$T/busybox"
mkdir -p "$R/bin" "$R/etc" "$R/tmp" "$R/root" "$R/var/www"
chmod 1777 "$R/tmp"
cp "$BB" "$R/bin/busybox"
for a in $("$BB" --list); do [ "$a" = busybox ] || ln -s busybox "$R/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$R/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$R/etc/group"
python3 "$HERE/oci-image.py" "$R" docker.io/library/busybox:latest "$OUT/busybox.tar" --cmd '["sh"]'

echo "$H" >"$OUT/.complete"
echo "$OUT"
