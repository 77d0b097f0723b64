#!/usr/bin/env bash
# Wiring checks on the rendered example sites and the variants in
# tests/wiring/sites: the rules every object follows (check.py), then the
# applications' own wiring (apps.py: AppFlowy, n8n, NocoDB).
set -u
. "$(dirname "$0")/../lib.sh"
cd "$ROOT"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fails=0 n=0
for site in examples/*.yaml tests/wiring/sites/*.yaml; do
	n=$((n + 1))
	out="$TMP/$(basename "$site" .yaml)"
	"$S7" render -f "$site" -o "$out" >/dev/null || { fails=$((fails + 1)); continue; }
	"$S7" check -f "$site" --output json >"$out.check"
	ok=1
	/usr/bin/python3 tests/wiring/check.py "$out" "$site" "$out.check" || ok=0
	/usr/bin/python3 tests/wiring/apps.py "$out" "$site" || ok=0
	[ "$ok" = 1 ] || fails=$((fails + 1))
done
echo "  wiring: $n sites, $fails with problems"
[ "$fails" = 0 ]
