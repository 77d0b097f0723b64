#!/usr/bin/env bash
# sector7 export --flux on every example site, proved equal to render: each
# component directory built by the real kustomize (kubectl kustomize) and
# compared object by object with `sector7 render` (compare.py); the Flux
# objects, the component kustomization.yaml files and the README against
# golden files in tests/export/golden (UPDATE=1 rewrites them on purpose);
# replacing an earlier export, refusing any other directory, exit codes.
#
#   SECTOR7=build/sector7 tests/export/run.sh
set -u
. "$(dirname "$0")/../lib.sh"
HERE=$ROOT/tests/export
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$ROOT"
KUBECTL=${KUBECTL:-$(command -v kubectl || true)}
[ -x "$KUBECTL" ] || KUBECTL=$(tests/cluster/build.sh)/kubectl
[ -x "$KUBECTL" ] || { echo "FAIL: no kubectl (for kubectl kustomize)" >&2; exit 1; }

for site in examples/*.yaml; do
	name=$(basename "$site" .yaml)
	tree=$TMP/$name
	expect 0 "$S7" render -f "$site"
	cp "$TMP/out" "$TMP/$name.render.yaml"
	expect 0 "$S7" export -f "$site" --flux "$tree"
	contains "$TMP/out" "Flux Kustomizations"
	contains "$TMP/out" "sector7 secrets ensure -f $site"
	contains "$tree/README.md" "sector7 secrets ensure -f $site"
	mkdir -p "$TMP/$name.built"
	for d in "$tree"/components/*/; do
		c=$(basename "$d")
		"$KUBECTL" kustomize "$d" >"$TMP/$name.built/$c.yaml" 2>"$TMP/err" ||
			{ fail "kubectl kustomize components/$c: $(head -3 "$TMP/err")"; continue; }
	done
	"$KUBECTL" kustomize "$tree/flux" >/dev/null 2>"$TMP/err" || fail "kubectl kustomize flux: $(head -3 "$TMP/err")"
	runs=$((runs + 1))
	python3 "$HERE/compare.py" "$TMP/$name.render.yaml" "$tree" "$TMP/$name.built" || fail "$site: the tree is not render's objects"
	# SOURCES lists every file with its sha256
	(cd "$tree" && grep -v '^#' SOURCES | sha256sum -c --quiet) || fail "$site: SOURCES does not match the files"
	# golden: everything sector7 writes for Flux (the objects themselves are
	# render's, covered by tests/golden)
	got=$TMP/golden-$name
	mkdir -p "$got"
	(cd "$tree" && cp -r flux README.md "$got/" && for k in components/*/kustomization.yaml; do
		mkdir -p "$got/$(dirname "$k")" && cp "$k" "$got/$k"; done)
	if [ "${UPDATE:-}" = 1 ]; then
		rm -rf "$HERE/golden/$name" && mkdir -p "$HERE/golden" && cp -r "$got" "$HERE/golden/$name"
		echo "updated tests/export/golden/$name"
	elif ! diff -ru "$HERE/golden/$name" "$got"; then
		fail "$site: the Flux tree differs from tests/export/golden/$name (UPDATE=1 to accept on purpose)"
	fi
done

# --- the directory: an earlier export is replaced, anything else refused ---
expect 0 "$S7" export --flux "$TMP/again"
touch "$TMP/again/components/stale.yaml"
expect 0 "$S7" export --flux "$TMP/again"
[ ! -e "$TMP/again/components/stale.yaml" ] || fail "a stale file survived a new export"
mkdir -p "$TMP/mine" && echo keep >"$TMP/mine/notes.txt"
expect 1 "$S7" export --flux "$TMP/mine"
contains "$TMP/err" "refusing to replace '$TMP/mine'"
[ "$(cat "$TMP/mine/notes.txt")" = keep ] || fail "a file of the user's was lost"
expect 1 "$S7" export --flux "$TMP/r" --upstream "$TMP/empty-cache"
contains "$TMP/err" "lacks"
[ ! -e "$TMP/r" ] || fail "export wrote a tree from an incomplete cache"
ls "$TMP" | grep -q '\.new-\|\.old-' && fail "export left temporary directories"
# --path and --source reach the Kustomizations
expect 0 "$S7" export --flux "$TMP/p" --path clusters/home/ --source infra
grep -q '^  path: ./clusters/home/components/03-metallb$' "$TMP/p/flux/03-metallb.yaml" || fail "--path not in spec.path"
grep -q '^    name: infra$' "$TMP/p/flux/03-metallb.yaml" || fail "--source not in sourceRef"
# --- usage and site errors ---
expect 2 "$S7" export
contains "$TMP/err" "export needs --flux DIR"
expect 2 "$S7" export --flux "$TMP/x" --path ../up
expect 2 "$S7" export --flux "$TMP/x" --path /abs
expect 3 "$S7" export -f tests/cli/bad/pool-has-node.yaml --flux "$TMP/x"
[ ! -e "$TMP/x" ] || fail "export wrote a tree for an invalid site"

echo "  export: $runs runs, $fails failed"
[ "$fails" = 0 ]
