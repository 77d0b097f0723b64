# Sourced by the test scripts: where things are, and the few helpers they
# share.  The script sets TMP before it calls expect; fails and runs count.
#
#   S7      sector7 under test, an absolute path ($SECTOR7, default build/sector7)
#   ROOT    the source tree
S7=${SECTOR7:-build/sector7}
S7=$(cd "$(dirname "$S7")" && pwd)/$(basename "$S7")
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export SECTOR7_UPSTREAM=${SECTOR7_UPSTREAM:-/work/shared/upstream}
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
