#!/usr/bin/env bash
# Wiring checks on the rendered example sites (tests/wiring/check.py).
set -u
S7=${SECTOR7:-build/sector7}
export SECTOR7_UPSTREAM=${SECTOR7_UPSTREAM:-/work/shared/upstream}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fails=0
for site in examples/*.yaml; do
	out="$TMP/$(basename "$site" .yaml)"
	"$S7" render -f "$site" -o "$out" >/dev/null || { fails=$((fails + 1)); continue; }
	"$S7" check -f "$site" --output json >"$out.check"
	/usr/bin/python3 tests/wiring/check.py "$out" "$site" "$out.check" || fails=$((fails + 1))
done
echo "  wiring: $fails site(s) with problems"
[ "$fails" = 0 ]
