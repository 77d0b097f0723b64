#!/usr/bin/env bash
# Build the stack's container images locally (Debian packages, the Go module
# proxy, npm, crates.io; nothing is pulled from a container registry) into
# OCI image-layout tar archives, one per image, and link them into DIR.
#
#   tests/cluster/images/build.sh [--out DIR] [--list] [NAME...]
#
#   NAME      recipes to build (default: all, in the order of recipes/ORDER)
#   --out DIR where the archives are linked, as NAME.tar
#             (default ${SECTOR7_IMAGES_OUT:-~/.cache/sector7/images/out})
#   --list    print name, references and cache state; build nothing
#
# Each archive is cached as ~/.cache/sector7/images/NAME-HASH.tar, HASH a
# sha256 over the recipe's files (recipes/NAME/*, its pinned versions
# included) and the build code it uses (lib/base.sh, build-one.sh, oci.py and
# the lib/*.sh its USES= line names).  An unchanged recipe builds
# nothing.  Builds run one at a time (a lock), under nice -n 10.
# Prints one line per image: name, reference(s), size, build time or "cached".
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${SECTOR7_IMAGES_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/sector7/images}
OUT=${SECTOR7_IMAGES_OUT:-$CACHE/out}
LIST=0
NAMES=()
while [ $# -gt 0 ]; do
  case $1 in
    --out) OUT=$2; shift 2 ;;
    --out=*) OUT=${1#--out=}; shift ;;
    --list) LIST=1; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "build.sh: unknown option $1" >&2; exit 2 ;;
    *) NAMES+=("$1"); shift ;;
  esac
done
if [ ${#NAMES[@]} -eq 0 ]; then
  mapfile -t NAMES < <(grep -v '^#' "$HERE/recipes/ORDER" | grep .)
fi
for n in "${NAMES[@]}"; do
  [ -f "$HERE/recipes/$n/recipe.sh" ] || { echo "build.sh: no recipe '$n' (see $HERE/recipes)" >&2; exit 2; }
done

# The hash: the recipe's files, the shared build code and the helper files
# the recipe names in its USES= line (so a change to the npm helpers does not
# rebuild the Go images).  containerd.sh and checks/ are for test.sh only.
recipe_hash() {
  local uses f
  uses=$(sed -n 's/^USES=//p' "$HERE/recipes/$1/recipe.sh" | tr -d '()"' | head -1)
  ( cd "$HERE" && { find "recipes/$1" -type f; echo lib/base.sh; echo lib/build-one.sh; echo lib/oci.py
                    for f in $uses; do echo "lib/$f.sh"; done; } | LC_ALL=C sort -u | while read -r f; do
      [ -f "$f" ] || { echo "build.sh: $1: no $f (USES=$uses)" >&2; exit 1; }
      echo "== $f"; cat "$f"; done ) | sha256sum | cut -c1-16
}

# Reads a recipe's declarations (REFS, VERSION, ...) in a subshell.
recipe_field() { # NAME FIELD
  ( set +u; source "$HERE/lib/base.sh"; source "$HERE/recipes/$1/recipe.sh"
    case $2 in REFS) printf '%s\n' "${REFS[@]}" ;; *) eval "printf '%s\n' \"\${$2}\"" ;; esac )
}

human() { numfmt --to=iec --suffix=B --format='%.1f' "$1"; }

mkdir -p "$CACHE"
[ $LIST = 1 ] || mkdir -p "$OUT"
status=0
for name in "${NAMES[@]}"; do
  hash=$(recipe_hash "$name")
  tar="$CACHE/$name-$hash.tar"
  meta="$CACHE/$name-$hash.json"
  mapfile -t refs < <(recipe_field "$name" REFS)
  if [ $LIST = 1 ]; then
    state=missing; [ -s "$tar" ] && [ -s "$meta" ] && state=cached
    printf '%-14s %-8s %s\n' "$name" "$state" "${refs[*]}"
    continue
  fi
  took=cached
  if ! { [ -s "$tar" ] && [ -s "$meta" ]; }; then
    exec 9>"$CACHE/.build.lock"
    flock 9
    if ! { [ -s "$tar" ] && [ -s "$meta" ]; }; then
      work="$CACHE/.work-$name-$hash"
      rm -rf "$work"; mkdir -p "$work"
      start=$(date +%s)
      echo "build.sh: building $name ($hash) in $work" >&2
      if ! WORK="$work" ROOTFS="$work/rootfs" RECIPE_DIR="$HERE/recipes/$name" CACHE="$CACHE" \
           bash "$HERE/lib/build-one.sh" "$HERE" "$name" 9>&-; then
        echo "build.sh: $name: build failed (work dir kept: $work)" >&2
        status=1; exec 9>&-; continue
      fi
      secs=$(( $(date +%s) - start ))
      python3 - "$work" "$name" "$hash" "$secs" "$(recipe_field "$name" VERSION)" \
        "$(recipe_field "$name" SOURCE)" "${refs[@]}" > "$work/meta.json" <<'EOF'
import json, os, sys
work, name, h, secs, version, source = sys.argv[1:7]
refs = sys.argv[7:]
d = json.load(open(os.path.join(work, "digests.json")))
pk = os.path.join(work, "packages.txt")
pkgs = open(pk).read().split("\n") if os.path.exists(pk) else []
print(json.dumps({"name": name, "hash": h, "refs": refs, "version": version,
                  "source": source, "build_seconds": int(secs),
                  "size": os.path.getsize(os.path.join(work, "image.tar")),
                  "manifest": d["manifest"], "debian_packages": [p for p in pkgs if p]},
                 indent=1))
EOF
      mv "$work/image.tar" "$tar"
      mv "$work/meta.json" "$meta"
      rm -rf "$work"
      took="${secs}s"
    fi
    exec 9>&-
  fi
  # Link (hard if possible) into OUT; remove links to older builds of NAME.
  ln -f "$tar" "$OUT/$name.tar" 2>/dev/null || ln -sf "$tar" "$OUT/$name.tar"
  size=$(stat -L -c %s "$tar")
  printf '%-14s %-9s %-8s %s\n' "$name" "$(human "$size")" "$took" "${refs[*]}"
done
exit $status
