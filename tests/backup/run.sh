#!/usr/bin/env bash
# Backups without a cluster:
#   1. the WebSocket client (src/http/ws.c) against a loopback TLS server
#      (wsserver.py): echo of every length form, fragments and pings, the
#      close handshake, and every way a server can break the protocol;
#   2. the exec protocol (src/kube/exec.c) against the same server playing
#      the API server's exec endpoint (a simulator: the commands run here);
#   3. the dump code on a real PostgreSQL server (pg.sh).
#
#   SECTOR7=build/sector7 BTEST=build/tests/backup tests/backup/run.sh
set -u
. "$(dirname "$0")/../lib.sh"
BT=${BTEST:-$ROOT/build/tests/backup}
TMP=$(mktemp -d)
srv=""
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

# A CA and a server certificate for 127.0.0.1.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/ca.key" -out "$TMP/ca.crt" \
	-subj /CN=ws-test-ca -days 2 >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -keyout "$TMP/srv.key" -out "$TMP/srv.csr" \
	-subj /CN=127.0.0.1 >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\n' >"$TMP/ext"
openssl x509 -req -in "$TMP/srv.csr" -CA "$TMP/ca.crt" -CAkey "$TMP/ca.key" -CAcreateserial \
	-out "$TMP/srv.crt" -days 2 -extfile "$TMP/ext" >/dev/null 2>&1
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/other.key" -out "$TMP/other.crt" \
	-subj /CN=other -days 2 >/dev/null 2>&1
token=$(openssl rand -hex 16)
python3 "$ROOT/tests/backup/wsserver.py" "$TMP/srv.crt" "$TMP/srv.key" "$token" "$TMP/port" &
srv=$!
for _ in $(seq 100); do [ -s "$TMP/port" ] && break; sleep 0.05; done
U=https://127.0.0.1:$(cat "$TMP/port")

echo "  backup: websocket client"
expect 0 "$BT/wstest" echo "$U/echo" "$TMP/ca.crt"
contains "$TMP/out" "echo 2097159 ok"
contains "$TMP/out" "closed 1000"
[ "$(grep -c ' ok$' "$TMP/out")" = 11 ] || fail "echo: $(cat "$TMP/out")"
expect 0 "$BT/wstest" get "$U/big?n=70000" "$TMP/ca.crt" 70000
contains "$TMP/out" "got 1 70000"
# failures: each names what went wrong
wsfail() {	# wsfail PATH MAX TEXT
	expect 1 "$BT/wstest" get "$U$1" "$TMP/ca.crt" "$2"
	contains "$TMP/out" "$3"
}
wsfail "/big?n=70000" 65536 "a message of more than 65536 bytes"
wsfail /cut 4096 "cut in the middle of a frame"
wsfail /masked 4096 "the server masked a frame"
wsfail /rsv 4096 "reserved bits set"
wsfail /noaccept 4096 "wrong or missing Sec-WebSocket-Accept"
wsfail /noproto 4096 "accepted none of the subprotocols"
wsfail /refuse 4096 "upgrade refused (HTTP 403)"
contains "$TMP/out" "no exec for you"
contains "$TMP/out" "status 403"
# TLS is verified: a server the CA did not sign is refused
expect 1 "$BT/wstest" get "$U/big?n=1" "$TMP/other.crt" 4096
contains "$TMP/out" "cannot connect"

echo "  backup: exec over the channel protocol (simulated API server)"
ex="$U/api/v1/namespaces/ns/pods/p/exec"
expect 0 "$BT/wstest" exec "$ex?command=sh&command=-c&command=read%20-r%20l%3B%20echo%20%22%24l%22%3B%20echo%20oops%20%3E%262" "$TMP/ca.crt" "$token"
contains "$TMP/out" "first line"
contains "$TMP/out" "exit 0"
contains "$TMP/err" "oops"
expect 0 "$BT/wstest" exec "$ex?command=sh&command=-c&command=exit%203" "$TMP/ca.crt" "$token"
contains "$TMP/out" "exit 3"
# stdin of 5 MB in, the same out, checked by sha256 (the first line is the
# client's own prefix, dropped by the command)
head -c 5000000 /dev/urandom >"$TMP/in.bin"
runs=$((runs + 1))
"$BT/wstest" exec "$ex?command=sh&command=-c&command=read%20-r%20l%3B%20cat" "$TMP/ca.crt" "$token" "$TMP/in.bin" \
	>"$TMP/out.bin" 2>"$TMP/err" || fail "exec cat: $(cat "$TMP/out.bin" | tail -c 300)"
[ "$(tail -c 7 "$TMP/out.bin")" = "exit 0" ] || fail "exec cat did not exit 0"
head -c 5000000 "$TMP/out.bin" | cmp -s - "$TMP/in.bin" || fail "exec cat: stdout differs from stdin"
expect 1 "$BT/wstest" exec "$ex?command=true" "$TMP/ca.crt" "wrong-token"
contains "$TMP/out" "forbidden"

if [ -z "${BACKUP_SKIP_PG:-}" ]; then
	"$ROOT/tests/backup/pg.sh" || fails=$((fails + 1))
fi

echo "  backup: $runs runs, $fails failed"
[ "$fails" = 0 ]
