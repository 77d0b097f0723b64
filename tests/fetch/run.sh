#!/usr/bin/env bash
# sector7 fetch against a real HTTPS server on 127.0.0.1 (Python's
# http.server with TLS; a CA made for the test) serving the copy of the
# pinned files as a mirror: everything fetched and verified, a second
# fetch that downloads nothing, TLS verified (no CA: refused), a
# corrupted and a padded file refused by sha256, transfers cut mid-body
# continued (within one fetch, and by the next fetch from the partial
# file), a server that ignores ranges, redirects, the bound on parallel
# downloads, a mirror directory, and render's message on an incomplete
# cache.  After every failure the cache holds only verified files.
#
#   SECTOR7=build/sector7 tests/fetch/run.sh
set -u
S7_NO_CACHE=1
. "$(dirname "$0")/../lib.sh"
HERE=$ROOT/tests/fetch
TMP=$(mktemp -d)
SERVER_PID=""
cleanup() {
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
cd "$ROOT"
M=$(cd "$MIRROR" 2>/dev/null && pwd) || { echo "FAIL: no copy of the pinned files at $MIRROR (set SECTOR7_MIRROR)" >&2; exit 1; }

# --- a CA and a certificate for 127.0.0.1 ---
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=sector7-fetch-test-ca \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
	-keyout "$TMP/ca.key" -out "$TMP/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
	-keyout "$TMP/srv.key" -out "$TMP/srv.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$TMP/ext"
openssl x509 -req -in "$TMP/srv.csr" -CA "$TMP/ca.pem" -CAkey "$TMP/ca.key" -CAcreateserial \
	-days 1 -extfile "$TMP/ext" -out "$TMP/srv.pem" 2>/dev/null

: >"$TMP/log"
coproc SRV { exec python3 -u "$HERE/server.py" "$M" "$TMP/srv.pem" "$TMP/srv.key" "$TMP/log" 2>"$TMP/server.err"; }
SERVER_PID=$SRV_PID
read -r -t 10 PORT <&"${SRV[0]}" || { echo "FAIL: the test server did not start" >&2; exit 1; }
URL=https://127.0.0.1:$PORT
ctl() { curl -sS --cacert "$TMP/ca.pem" -X POST "$URL/$1" >/dev/null; }
gets() { grep -c '^GET ' "$TMP/log"; }

# The pinned files, from the catalog's point of view: "sha256  file".
"$S7" fetch --upstream "$TMP/listing" --check >"$TMP/listing.txt" 2>/dev/null
grep '^missing ' "$TMP/listing.txt" | awk '{print $2}' >"$TMP/files"
NFILES=$(wc -l <"$TMP/files")
[ "$NFILES" -ge 80 ] || fail "only $NFILES pinned files listed"
(cd "$M" && xargs sha256sum <"$TMP/files") >"$TMP/sums"

# cache_ok DIR: every file in DIR (outside .partial) is a pinned file with
# its pinned sha256: nothing half-written, nothing unverified.
cache_ok() {
	local d=$1 f
	while IFS= read -r f; do
		grep -qxF "$f" "$TMP/files" || { fail "unexpected file in the cache: $f"; continue; }
		(cd "$d" && grep "  $f\$" "$TMP/sums" | sha256sum -c --quiet --status) ||
			fail "$f in the cache differs from its pin"
	done < <(cd "$d" && find . -path ./.partial -prune -o -type f -printf '%P\n')
}

# --- everything, fetched and verified ---
C=$TMP/c1
expect 0 "$S7" fetch --upstream "$C" --mirror "$URL/" --cacert "$TMP/ca.pem"
contains "$TMP/out" "$NFILES pinned files: $NFILES fetched, 0 already present, 0 failed"
[ -s "$TMP/err" ] && fail "fetch wrote to a stderr that is not a terminal: $(head -c 300 "$TMP/err")"
(cd "$C" && sha256sum -c --quiet "$TMP/sums") || fail "fetched files differ from the mirror"
cache_ok "$C"
[ "$(find "$C/.partial" -type f ! -name lock | wc -l)" = 0 ] || fail "partial files left after a clean fetch"
[ "$(gets)" = "$NFILES" ] || fail "$(gets) requests for $NFILES files"
expect 0 "$S7" render --upstream "$C" -o "$TMP/render"

# --- progress only on a terminal ---
if command -v script >/dev/null; then
	runs=$((runs + 1))
	script -qec "'$S7' fetch --upstream '$TMP/tty' --mirror '$URL' --cacert '$TMP/ca.pem'" /dev/null >"$TMP/tty.out" 2>&1 ||
		fail "fetch on a terminal failed: $(tail -3 "$TMP/tty.out")"
	grep -q "fetch \[#" "$TMP/tty.out" || fail "no progress bar on a terminal"
	grep -q "$NFILES pinned files: $NFILES fetched" "$TMP/tty.out" || fail "no summary on a terminal"
	cache_ok "$TMP/tty"
fi

# --- a second fetch downloads nothing ---
before=$(gets)
expect 0 "$S7" fetch --upstream "$C" --mirror "$URL/" --cacert "$TMP/ca.pem"
contains "$TMP/out" "$NFILES pinned files: 0 fetched, $NFILES already present, 0 failed"
[ "$(gets)" = "$before" ] || fail "a fetch of a complete cache made $(( $(gets) - before )) requests"
expect 0 "$S7" fetch --upstream "$C" --check
contains "$TMP/out" "$NFILES present, 0 missing, 0 wrong"

# --- TLS is verified: without the test CA the server is refused ---
expect 1 "$S7" fetch --upstream "$TMP/c2" --mirror "$URL/" --jobs 2 --attempts 1
grep -qi 'certificate' "$TMP/err" || fail "no certificate error: $(head -3 "$TMP/err")"
cache_ok "$TMP/c2"
[ "$(find "$TMP/c2" -type f ! -name lock | wc -l)" = 0 ] || fail "files written without a verified server"

# --- a corrupted file (same size) and a padded one are refused ---
MET=metallb/v0.16.1/metallb-native.yaml
LH=longhorn/v1.12.1/longhorn.yaml
MET_SUM=$(awk -v f="$MET" '$2 == f {print $1}' "$TMP/sums")
ctl "_mode?path=$MET&mode=corrupt"
ctl "_mode?path=$LH&mode=pad"
C=$TMP/c3
expect 1 "$S7" fetch --upstream "$C" --mirror "$URL" --cacert "$TMP/ca.pem"
contains "$TMP/out" "$NFILES pinned files: $((NFILES - 2)) fetched, 0 already present, 2 failed"
contains "$TMP/err" "$MET: refused: $URL/$MET gave $(stat -c %s "$M/$MET") bytes with sha256"
contains "$TMP/err" "but the catalog pins sha256 $MET_SUM"
contains "$TMP/err" "$LH: refused: $URL/$LH gave $(( $(stat -c %s "$M/$LH") + 16 )) bytes"
[ ! -e "$C/$MET" ] && [ ! -e "$C/$LH" ] || fail "a refused file is in the cache"
cache_ok "$C"
[ "$(find "$C/.partial" -type f ! -name lock | wc -l)" = 0 ] || fail "a refused download left its partial file"
expect 1 "$S7" fetch --upstream "$C" --check
contains "$TMP/out" "missing  $MET"
contains "$TMP/err" "run 'sector7 fetch --upstream $C'"
# ... and render says what to run.
expect 1 "$S7" render --upstream "$C" -o "$TMP/r-incomplete"
contains "$TMP/err" "upstream cache $C lacks $LH; run 'sector7 fetch --upstream $C' (or 'sector7 fetch --upstream $C --mirror DIR')"
[ ! -e "$TMP/r-incomplete" ] || fail "render wrote a directory from an incomplete cache"
expect 1 env SECTOR7_UPSTREAM="$C" "$S7" render
contains "$TMP/err" "upstream cache $C lacks $LH; run 'sector7 fetch' (or 'sector7 fetch --mirror DIR')"
# Once the server is right again, the next fetch fetches just those two.
ctl "_mode?path=$MET&mode=normal"
ctl "_mode?path=$LH&mode=normal"
expect 0 "$S7" fetch --upstream "$C" --mirror "$URL" --cacert "$TMP/ca.pem"
contains "$TMP/out" "$NFILES pinned files: 2 fetched, $((NFILES - 2)) already present, 0 failed"
cache_ok "$C"

# --- a file changed in the cache is found and replaced ---
echo "# changed" >>"$C/$MET"
expect 1 "$S7" fetch --upstream "$C" --check
contains "$TMP/out" "wrong    $MET: sha256"
expect 0 "$S7" fetch --upstream "$C" --mirror "$URL" --cacert "$TMP/ca.pem"
contains "$TMP/out" "1 fetched, $((NFILES - 1)) already present"
cache_ok "$C"

# --- a transfer cut mid-body is continued by the next attempt ---
ctl "_mode?path=$LH&mode=cut-once"
: >"$TMP/log"
C=$TMP/c4
expect 0 "$S7" fetch --upstream "$C" --mirror "$URL" --cacert "$TMP/ca.pem"
half=$(( $(stat -c %s "$M/$LH") / 2 ))
contains "$TMP/out" "fetched  $LH (202.2 KiB, resumed at byte $half, 2 attempts)"
grep -qxF "GET /$LH bytes=$half-" "$TMP/log" || fail "no range request from byte $half: $(grep "$LH" "$TMP/log")"
cache_ok "$C"

# --- ... and by the next fetch, from the partial file ---
ctl "_mode?path=$LH&mode=cut"
C=$TMP/c5
expect 1 "$S7" fetch --upstream "$C" --mirror "$URL" --cacert "$TMP/ca.pem" --attempts 2
contains "$TMP/err" "$LH: "
contains "$TMP/err" "(after 2 attempts)"
[ ! -e "$C/$LH" ] || fail "a cut download is in the cache"
cache_ok "$C"
LH_SUM=$(awk -v f="$LH" '$2 == f {print $1}' "$TMP/sums")
part=$(stat -c %s "$C/.partial/$LH_SUM" 2>/dev/null || echo 0)
[ "$part" -gt 0 ] || fail "no partial file kept for the next fetch"
ctl "_mode?path=$LH&mode=normal"
: >"$TMP/log"
expect 0 "$S7" fetch --upstream "$C" --mirror "$URL" --cacert "$TMP/ca.pem"
contains "$TMP/out" "fetched  $LH (202.2 KiB, resumed at byte $part)"
grep -qxF "GET /$LH bytes=$part-" "$TMP/log" || fail "the next fetch did not continue from byte $part"
contains "$TMP/out" "1 fetched, $((NFILES - 1)) already present"
cache_ok "$C"
[ ! -e "$C/.partial/$LH_SUM" ] || fail "the partial file stayed after the file was installed"

# --- a partial file that is not a prefix of the file: checked, then fetched whole ---
C=$TMP/c6
"$S7" fetch --upstream "$C" --mirror "$M" >/dev/null
rm "$C/$LH"
head -c 5000 /dev/urandom >"$C/.partial/$LH_SUM"
: >"$TMP/log"
expect 0 "$S7" fetch --upstream "$C" --mirror "$URL" --cacert "$TMP/ca.pem"
contains "$TMP/out" "fetched  $LH (202.2 KiB, 2 attempts)"
grep -qxF "GET /$LH bytes=5000-" "$TMP/log" && grep -qxF "GET /$LH -" "$TMP/log" ||
	fail "a bad partial file was not continued then fetched whole: $(grep "$LH" "$TMP/log")"
cache_ok "$C"

# --- a server that ignores ranges: the partial file starts over ---
rm "$C/$LH"
head -c 5000 "$M/$LH" >"$C/.partial/$LH_SUM"
ctl "_mode?path=$LH&mode=norange"
expect 0 "$S7" fetch --upstream "$C" --mirror "$URL" --cacert "$TMP/ca.pem"
contains "$TMP/out" "fetched  $LH (202.2 KiB)"
cache_ok "$C"
ctl "_mode?path=$LH&mode=normal"

# --- a server that answers a range from the wrong byte: started over ---
rm "$C/$LH"
head -c 5000 "$M/$LH" >"$C/.partial/$LH_SUM"
ctl "_mode?path=$LH&mode=badrange"
expect 0 "$S7" fetch --upstream "$C" --mirror "$URL" --cacert "$TMP/ca.pem"
contains "$TMP/out" "fetched  $LH (202.2 KiB, 2 attempts)"
cache_ok "$C"
ctl "_mode?path=$LH&mode=normal"

# --- a file the server does not have ---
ctl "_mode?path=$MET&mode=missing"
C=$TMP/c7
expect 1 "$S7" fetch --upstream "$C" --mirror "$URL" --cacert "$TMP/ca.pem"
contains "$TMP/err" "$MET: HTTP 404 from $URL/$MET"
contains "$TMP/out" "1 failed"
cache_ok "$C"
ctl "_mode?path=$MET&mode=normal"

# --- redirects are followed ---
C=$TMP/c8
: >"$TMP/log"
expect 0 "$S7" fetch --upstream "$C" --mirror "$URL/redir/" --cacert "$TMP/ca.pem"
contains "$TMP/out" "$NFILES fetched"
[ "$(grep -c '^GET /redir/' "$TMP/log")" = "$NFILES" ] || fail "not every file went through the redirect"
cache_ok "$C"

# --- parallel downloads are bounded by --jobs ---
ctl "_delay?ms=40"
for j in 1 3; do
	ctl "_reset"
	expect 0 "$S7" fetch --upstream "$TMP/j$j" --mirror "$URL" --cacert "$TMP/ca.pem" --jobs $j
	contains "$TMP/out" "$NFILES fetched"
	max=$(curl -sS --cacert "$TMP/ca.pem" "$URL/_stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["max_active"])')
	[ "$max" -le $j ] || fail "$max downloads at once with --jobs $j"
	[ $j = 1 ] || [ "$max" -ge 2 ] || fail "downloads never ran in parallel with --jobs $j (max $max)"
done
ctl "_delay?ms=0"

# --- a mirror directory ---
C=$TMP/c9
expect 0 "$S7" fetch --upstream "$C" --mirror "$M"
contains "$TMP/out" "$NFILES pinned files: $NFILES fetched"
cache_ok "$C"
(cd "$C" && sha256sum -c --quiet "$TMP/sums") || fail "copies from the mirror directory differ"
# a mirror directory holding a changed file: that one is refused
mkdir -p "$TMP/badmirror" && cp -r "$M"/. "$TMP/badmirror/" && chmod -R u+w "$TMP/badmirror"
echo "# changed" >>"$TMP/badmirror/$MET"
expect 1 "$S7" fetch --upstream "$TMP/c10" --mirror "$TMP/badmirror"
contains "$TMP/err" "$MET: the mirror's copy $TMP/badmirror/$MET has sha256"
contains "$TMP/err" "but the catalog pins $MET_SUM"
cache_ok "$TMP/c10"
[ ! -e "$TMP/c10/$MET" ] || fail "a changed mirror copy entered the cache"

# --- usage errors ---
expect 2 "$S7" fetch --upstream "$TMP/c11" --mirror "$TMP/no-such-dir"
contains "$TMP/err" "is not a directory (nor an http(s):// URL)"
expect 2 "$S7" fetch --upstream "$TMP/c11" --mirror "ftp://example.invalid/x"
contains "$TMP/err" "only https://, http:// or a directory"
expect 2 "$S7" fetch --jobs 0
contains "$TMP/err" "--jobs"

echo "  fetch: $runs runs, $fails failed"
[ "$fails" = 0 ]
