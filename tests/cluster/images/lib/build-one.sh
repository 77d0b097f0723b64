#!/usr/bin/env bash
# build-one.sh HERE NAME: runs one recipe (called by build.sh with WORK,
# ROOTFS, RECIPE_DIR and CACHE set); leaves $WORK/image.tar and digests.json.
set -euo pipefail
HERE=$1 NAME=$2
export SOURCE_DATE_EPOCH=0 LC_ALL=C.UTF-8
cd "$WORK"
for f in "$HERE"/lib/base.sh "$HERE"/lib/deb.sh "$HERE"/lib/go.sh "$HERE"/lib/node.sh "$HERE"/lib/cargo.sh; do source "$f"; done
source "$HERE/recipes/$NAME/recipe.sh"
build
write_config
refargs=()
for r in "${REFS[@]}"; do refargs+=(--ref "$r"); done
nice -n 10 python3 "$HERE/lib/oci.py" --rootfs "$ROOTFS" --config "$WORK/config.json" \
  "${refargs[@]}" \
  --annotation "org.opencontainers.image.version=$VERSION" \
  --annotation "org.opencontainers.image.source=$SOURCE" \
  --annotation "org.opencontainers.image.description=tests/cluster/images/recipes/$NAME" \
  "$WORK/image.tar" > "$WORK/digests.json"
