#!/bin/sh
# The main job on the built-in site: validate it, render the whole stack,
# and print a readable summary.  Upstream manifests come from the local
# cache only ($SECTOR7_UPSTREAM; default: the pinned copies in
# /work/shared/upstream on this machine); nothing is downloaded.
set -eu
S7=${1:-build/sector7}
export SECTOR7_UPSTREAM=${SECTOR7_UPSTREAM:-/work/shared/upstream}
OUT=${DEMO_OUT:-build/demo}

echo "== sector7 check (the built-in site: the gameplan's Sector7 site)"
"$S7" check
echo
echo "== sector7 render -o $OUT"
"$S7" render -o "$OUT"
echo
echo "== sector7 dns"
"$S7" dns
echo
echo "== what was written"
for d in manifests host dns firewall; do
	printf '  %-10s %s files\n' "$d/" "$(find "$OUT/$d" -type f | wc -l)"
done
echo "  SOURCES    sha256 and origin of every file"
echo
echo "Next: read $OUT/host/k3s/*.yaml (k3s flags), $OUT/firewall/port-forwards.txt,"
echo "and review $OUT/manifests before applying."
