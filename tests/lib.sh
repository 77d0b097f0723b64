# Sourced by the test scripts: where things are, and the few helpers they
# share.  The script sets TMP before it calls expect; fails and runs count.
#
#   S7      sector7 under test, an absolute path ($SECTOR7, default build/sector7)
#   ROOT    the source tree
S7=${SECTOR7:-build/sector7}
S7=$(cd "$(dirname "$S7")" && pwd)/$(basename "$S7")
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The pinned upstream files come from a copy laid out like the cache:
# ../shared/upstream beside the repository, or $SECTOR7_MIRROR.  The tests
# render from their own cache ($SECTOR7_UPSTREAM, default build/upstream),
# filled from that copy by `sector7 fetch --mirror` as a user would.
MIRROR=${SECTOR7_MIRROR:-../shared/upstream}
export SECTOR7_UPSTREAM=${SECTOR7_UPSTREAM:-$ROOT/build/upstream}
fill_cache() {
	(cd "$ROOT" && "$S7" fetch --mirror "$MIRROR" >/dev/null) || {
		echo "FAIL: cannot fill the upstream cache $SECTOR7_UPSTREAM from $MIRROR (relative to $ROOT; set SECTOR7_MIRROR to the copy of the pinned files)" >&2
		exit 1
	}
}
[ "${S7_NO_CACHE:-}" = 1 ] || fill_cache
fails=0 runs=0

fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# expect CODE CMD...: runs CMD, its output in $TMP/out and $TMP/err
expect() {
	local want=$1; shift
	runs=$((runs + 1))
	"$@" >"$TMP/out" 2>"$TMP/err"
	local got=$?
	[ "$got" = "$want" ] || { fail "exit $got, want $want: $*"; sed 's/^/    /' "$TMP/err" | tail -20 >&2; }
}

# contains FILE TEXT
contains() { grep -qF -- "$2" "$1" || fail "'$2' not in $(basename "$1"): $(tail -c 600 "$1")"; }
