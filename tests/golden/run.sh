#!/usr/bin/env bash
# Golden files for everything rendered from the example sites.
#
# For each examples/NAME.yaml, tests/golden/NAME/ holds:
#   check.txt, dns.txt   the output of `check` and `dns`
#   SOURCES              render's list of every file with its sha256 and origin
#   files/...            the full text of every rendered file that sector7
#                        generated or patched (unpatched upstream objects are
#                        covered by their sha256 in SOURCES; their text stays
#                        out of the repository)
#
# Any difference fails with `diff -u`.  Regenerate on purpose only:
#   UPDATE=1 SECTOR7=build/sector7 tests/golden/run.sh
set -u
. "$(dirname "$0")/../lib.sh"
HERE=$ROOT/tests/golden
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
sites=0

cd "$ROOT"
for site in examples/*.yaml; do
	name=$(basename "$site" .yaml)
	want="$HERE/$name"
	got="$TMP/$name"
	mkdir -p "$got/files"
	sites=$((sites + 1))
	"$S7" check -f "$site" >"$got/check.txt" 2>&1
	"$S7" dns -f "$site" >"$got/dns.txt" 2>&1
	if ! "$S7" render -f "$site" -o "$TMP/render-$name" >/dev/null 2>"$TMP/err"; then
		echo "FAIL: render $site" >&2; cat "$TMP/err" >&2
		fails=$((fails + 1)); continue
	fi
	cp "$TMP/render-$name/SOURCES" "$got/SOURCES"
	# Everything not taken unchanged from upstream is kept in full.
	grep -v '^#' "$got/SOURCES" | awk '$3 != "upstream" {print $2}' |
	while read -r f; do
		mkdir -p "$got/files/$(dirname "$f")"
		cp "$TMP/render-$name/$f" "$got/files/$f"
	done
	if [ "${UPDATE:-}" = 1 ]; then
		rm -rf "$want" && cp -r "$got" "$want"
		echo "updated $want"
		continue
	fi
	if ! diff -ru "$want" "$got"; then
		echo "FAIL: $site differs from tests/golden/$name (UPDATE=1 to accept on purpose)" >&2
		fails=$((fails + 1))
	fi
done
echo "  golden: $sites sites, $fails failed"
[ "$fails" = 0 ]
