#!/usr/bin/env bash
# Command-line tests: golden error text and exit codes for bad sites, every
# exit code the commands can give, --help everywhere, JSON output, render's
# directory handling, no network access, and the README's commands.
#
#   SECTOR7=build/sector7 tests/cli/run.sh         (UPDATE=1 rewrites the .out files)
set -u
. "$(dirname "$0")/../lib.sh"
HERE=$ROOT/tests/cli
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

cd "$ROOT"

# --- bad sites: the error lines and the exit code are golden ---
nbad=0
for site in tests/cli/bad/*.yaml; do
	name=${site%.yaml}
	"$S7" check -f "$site" >"$TMP/out" 2>"$TMP/err"
	code=$?
	{ echo "exit $code"; grep ': error: ' "$TMP/out"; } >"$TMP/got"
	if [ "${UPDATE:-}" = 1 ]; then
		cp "$TMP/got" "$name.out"
	elif ! diff -u "$name.out" "$TMP/got"; then
		fail "$site"
	fi
	[ "$code" = 3 ] || fail "$site: exit $code, want 3"
	nbad=$((nbad + 1)); runs=$((runs + 1))
done
[ "$nbad" -ge 25 ] || fail "only $nbad bad sites"

# --- exit codes ---
expect 0 "$S7" check
contains "$TMP/out" "<built-in>: 0 errors"
expect 0 "$S7" version
contains "$TMP/out" "sector7 "
expect 2 "$S7" chek
contains "$TMP/err" "unknown command 'chek'; did you mean 'check'?"
expect 2 "$S7" check --bogus
contains "$TMP/err" "unknown option '--bogus'"
expect 2 "$S7" check extra-argument
contains "$TMP/err" "unexpected argument 'extra-argument'"
expect 2 "$S7" check --output yaml
expect 2 "$S7"
expect 2 "$S7" render -o
contains "$TMP/err" "option '--out' needs a value (DIR)"
expect 3 "$S7" check -f tests/cli/bad/pool-has-node.yaml
expect 3 "$S7" render -f tests/cli/bad/pool-has-node.yaml -o "$TMP/never"
contains "$TMP/err" "error: network.pool: pool"
[ ! -e "$TMP/never" ] || fail "render wrote a directory for an invalid site"
expect 3 "$S7" dns -f tests/cli/bad/bad-ipv4.yaml
expect 1 "$S7" check -f "$TMP/does-not-exist.yaml"
contains "$TMP/err" "cannot open"
if [ -w /dev/full ]; then
	expect 1 sh -c "'$S7' render >/dev/full"
	contains "$TMP/err" "cannot write to standard output"
fi
expect 1 "$S7" render --upstream "$TMP/empty-cache" -o "$TMP/r0"
contains "$TMP/err" "upstream cache $TMP/empty-cache lacks "
contains "$TMP/err" "; run 'sector7 fetch --upstream $TMP/empty-cache' (or 'sector7 fetch --upstream $TMP/empty-cache --mirror DIR')"
# fetch: 0 when the cache is complete, 1 when a file cannot be had, 2 on usage
expect 0 "$S7" fetch --check
expect 1 "$S7" fetch --check --upstream "$TMP/empty-cache"
contains "$TMP/out" "0 present"
mkdir -p "$TMP/empty-mirror"
expect 1 "$S7" fetch --upstream "$TMP/fetch-bad" --mirror "$TMP/empty-mirror"
contains "$TMP/err" "metallb/v0.16.1/metallb-native.yaml: cannot open '$TMP/empty-mirror/metallb/v0.16.1/metallb-native.yaml'"
expect 2 "$S7" fetch --mirror "$TMP/no-such-mirror"
expect 2 "$S7" fetch --jobs 99
# A cache holding a changed file fails the sha256 check.
mkdir -p "$TMP/bad-cache" && cp -r "$SECTOR7_UPSTREAM"/. "$TMP/bad-cache/"
chmod -R u+w "$TMP/bad-cache"
echo "# changed" >>"$TMP/bad-cache/metallb/v0.16.1/metallb-native.yaml"
expect 1 "$S7" render --upstream "$TMP/bad-cache" -o "$TMP/r0"
contains "$TMP/err" "but the catalog pins bf25feebb7582ca7df845efd52ffbc2960d6cbf4cfc972f47fded9f788b67f0b"
# Exit code 4 without a cluster: no kubeconfig, or one naming no context.
expect 4 env KUBECONFIG="$TMP/none" HOME="$TMP" "$S7" status
contains "$TMP/err" "no kubeconfig found"
printf 'apiVersion: v1\nkind: Config\n' >"$TMP/empty.kc"
expect 4 "$S7" status --kubeconfig "$TMP/empty.kc"
contains "$TMP/err" "no current-context in"
# 5 (readiness timeout) needs a cluster: tests/integration; 6 (a check
# failed) too: tests/verify.

# --- help on every command ---
expect 0 "$S7" help
for cmd in $("$S7" help | awk '/^commands:/{on=1; next} on && /^  [a-z]/{print $1} /^$/{on=0}'); do
	expect 0 "$S7" "$cmd" --help
	contains "$TMP/out" "usage: sector7 $cmd"
	expect 0 "$S7" help "$cmd"
	contains "$TMP/out" "usage: sector7 $cmd"
	# The README's command table carries each usage line as --help prints it.
	usage=$(sed -n '1s/^usage: //p' "$TMP/out")
	grep -qF -- "| \`${usage//|/\\|}\` |" README.md ||
		fail "README.md's command table lacks '| \`$usage\` |' (from sector7 $cmd --help)"
done
# ... and no row for a command that does not exist.
for row in $(sed -n 's/^| `sector7 \([a-z]*\).*/\1/p' README.md); do
	"$S7" help "$row" >/dev/null 2>&1 || fail "README.md's command table lists 'sector7 $row', which is not a command"
done
expect 0 "$S7" -h
contains "$TMP/out" "usage: sector7"

# --- JSON output is JSON ---
for args in "check" "check -f examples/lab-3node.yaml" "dns" "version" \
    "render -o $TMP/rj"; do
	expect 0 "$S7" $args --output json
	python3 -m json.tool "$TMP/out" >/dev/null || fail "not JSON: $args"
done
expect 3 "$S7" check -f tests/cli/bad/several-errors.yaml --output json
python3 - "$TMP/out" <<'PY' || fail "check JSON content"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["errors"] == 4, d["errors"]
f = [x for x in d["findings"] if x["severity"] == "error"]
assert f[0]["key"] == "network.gateway" and f[0]["line"] == 8 and f[0]["column"] == 12, f[0]
PY

# --- render directories ---
expect 0 "$S7" render -o "$TMP/r1"
expect 0 "$S7" render -o "$TMP/r2"
diff -r "$TMP/r1" "$TMP/r2" >/dev/null || fail "two renders differ"
# rendering again into the same place replaces it
touch "$TMP/r1/manifests/stale.yaml"
expect 0 "$S7" render -o "$TMP/r1"
[ ! -e "$TMP/r1/manifests/stale.yaml" ] || fail "stale file survived a re-render"
diff -r "$TMP/r1" "$TMP/r2" >/dev/null || fail "re-render differs"
ls "$TMP" | grep -q '\.new-\|\.old-' && fail "render left temporary directories"
# a directory that is not an earlier render is never replaced
mkdir -p "$TMP/mine" && echo keep >"$TMP/mine/notes.txt"
expect 1 "$S7" render -o "$TMP/mine"
contains "$TMP/err" "refusing to replace"
[ "$(cat "$TMP/mine/notes.txt")" = keep ] || fail "user file lost"
# an empty directory is fine
mkdir -p "$TMP/empty"
expect 0 "$S7" render -o "$TMP/empty"
# stdout form: one document per object, same objects
expect 0 "$S7" render
n_docs=$(grep -c '^---$' "$TMP/out")
n_files=$(find "$TMP/r1/manifests" -name '*.yaml' | wc -l)
[ "$n_docs" = "$n_files" ] || fail "stream has $n_docs documents, directory $n_files files"
# SOURCES lists every file with its sha256
(cd "$TMP/r1" && grep -v '^#' SOURCES | awk '{print $1 "  " $2}' | sha256sum -c --quiet) ||
	fail "SOURCES sums do not match the files"

# --- the parsed-upstream cache changes nothing but the time ---
pc="$TMP/parsed"
expect 0 env SECTOR7_PARSED_CACHE="$pc" "$S7" render -f examples/lab-3node.yaml
mv "$TMP/out" "$TMP/cold.yaml"
[ "$(ls "$pc" | wc -l)" -gt 10 ] || fail "the parsed cache was not filled: $(ls "$pc" | wc -l) entries"
expect 0 env SECTOR7_PARSED_CACHE="$pc" "$S7" render -f examples/lab-3node.yaml
cmp -s "$TMP/cold.yaml" "$TMP/out" || fail "a render from the parsed cache differs from one that parsed"
# A damaged entry (cut short, or another build's) is parsed again, not used.
for f in "$pc"/*; do head -c 3000 "$f" >"$f.cut" && mv -f "$f.cut" "$f"; break; done
for f in "$pc"/*-monitoring-*; do sed -i '1s/^sector7-parsed 1 [0-9a-f]*/sector7-parsed 1 0000000000000000/' "$f"; done
expect 0 env SECTOR7_PARSED_CACHE="$pc" "$S7" render -f examples/lab-3node.yaml
cmp -s "$TMP/cold.yaml" "$TMP/out" || fail "a render with damaged parsed-cache entries differs"
# No cache at all (no HOME): parsed each time, the same objects.
expect 0 env -u HOME -u XDG_CACHE_HOME -u SECTOR7_PARSED_CACHE "$S7" render -f examples/lab-3node.yaml
cmp -s "$TMP/cold.yaml" "$TMP/out" || fail "a render without a parsed cache differs"

# --- images.mirror and images.overrides reach every image field ---
expect 0 "$S7" render -f tests/wiring/sites/mirror.yaml
bad=$(grep -E '^ *(- )?(image|imageName): [^ ]' "$TMP/out" | sed -E 's/^ *(- )?(image|imageName): //' |
	grep -vE '^registry\.vault\.home\.arpa:5000/(mirror|local)/' | sort -u | head -5)
[ -z "$bad" ] || fail "images outside the mirror: $bad"
grep -q 'imageName: registry.vault.home.arpa:5000/local/postgresql:17-pgvector' "$TMP/out" ||
	fail "the override of the PostgreSQL image did not reach the Clusters"
grep -q 'ghcr.io/cloudnative-pg/postgresql:17.11' "$TMP/out" &&
	fail "the overridden PostgreSQL reference is still rendered somewhere"
grep -q 'imagePullPolicy: Always' "$TMP/out" &&
	fail "images.preloaded: a container still asks to pull every time"
expect 0 "$S7" render
grep -q 'imagePullPolicy: Always' "$TMP/out" ||
	fail "without images.preloaded the upstream pull policies (CloudNativePG's Always) should stay"

# --- no network: check, render and dns work without any interface ---
if unshare -n true 2>/dev/null; then
	expect 0 unshare -n "$S7" check
	expect 0 unshare -n "$S7" dns
	expect 0 unshare -n "$S7" render -o "$TMP/r3"
	diff -r "$TMP/r1" "$TMP/r3" >/dev/null || fail "render without network differs"
else
	echo "note: unshare -n is not permitted here; network isolation not tested" >&2
fi

# --- the README's example commands run (in a scratch copy) ---
cp -r examples "$TMP/examples"
grep -E '^    \$ sector7 ' README.md | sed 's/^    \$ sector7 //' | while read -r line; do
	# shellcheck disable=SC2086
	(cd "$TMP" && eval "\"$S7\" $line" >/dev/null 2>"$TMP/readme.err")
	code=$?
	case $code in
	0|3) ;;
	*) echo "FAIL: README example 'sector7 $line' exited $code" >&2
	   sed 's/^/    /' "$TMP/readme.err" >&2; echo x >>"$TMP/readme.fail" ;;
	esac
done
[ -e "$TMP/readme.fail" ] && fails=$((fails + $(wc -l <"$TMP/readme.fail")))

echo "  cli: $runs runs, $fails failed"
[ "$fails" = 0 ]
