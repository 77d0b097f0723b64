#!/usr/bin/env bash
# The shared PostgreSQL's roles, checked on a real PostgreSQL server: the
# roles and databases the postgres component renders (CloudNativePG
# managed roles and Database objects) are created as CloudNativePG would
# create them, then each consumer's role is tried against the others'.
#
#   SECTOR7=build/sector7 tests/postgres/run.sh
set -u
. "$(dirname "$0")/../lib.sh"
cd "$ROOT"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
TMP=$(mktemp -d)
chmod 755 "$TMP"
pg_pid=""
# The server's programs as its user, from a directory that user may enter
# (the source tree may be in a private one).
as_postgres() { (cd / && runuser -u postgres -- "$@"); }
cleanup() {
	[ -n "$pg_pid" ] && as_postgres "$PGBIN/pg_ctl" -D "$TMP/data" stop -m fast >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
[ -x "$PGBIN/postgres" ] || { echo "no PostgreSQL server (apt-get install postgresql)" >&2; exit 1; }

# The roles and databases of the lab site (n8n, nocodb and nextcloud on).
"$S7" render -f examples/lab-3node.yaml -o "$TMP/r" >/dev/null || exit 1
/usr/bin/python3 - "$TMP/r" >"$TMP/plan" <<'PY'
import glob, sys, yaml
roles, dbs = [], []
for p in glob.glob(sys.argv[1] + "/manifests/*-postgres/*.yaml"):
    o = yaml.safe_load(open(p))
    if o["kind"] == "Cluster" and o["metadata"]["name"] == "postgres":
        roles = o["spec"]["managed"]["roles"]
    if o["kind"] == "Database":
        dbs.append((o["spec"]["name"], o["spec"]["owner"]))
for r in roles:
    flags = []
    for k, yes, no in (("login", "LOGIN", "NOLOGIN"), ("superuser", "SUPERUSER", "NOSUPERUSER"),
                       ("createdb", "CREATEDB", "NOCREATEDB"), ("createrole", "CREATEROLE", "NOCREATEROLE"),
                       ("replication", "REPLICATION", "NOREPLICATION"), ("bypassrls", "BYPASSRLS", "NOBYPASSRLS")):
        flags.append(yes if r.get(k) else no)
    print("role %s %s" % (r["name"], " ".join(flags)))
    for g in r.get("inRoles", []):
        print("grant %s %s" % (g, r["name"]))
for name, owner in dbs:
    print("db %s %s" % (name, owner))
PY
grep -q '^role ' "$TMP/plan" || { echo "no roles rendered" >&2; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$TMP/data" && chown postgres "$TMP/data"
as_postgres "$PGBIN/initdb" -D "$TMP/data" --auth-local=trust \
	--auth-host=scram-sha-256 >/dev/null || exit 1
as_postgres "$PGBIN/pg_ctl" -D "$TMP/data" -l "$TMP/data/log" \
	-o "-p $port -k $TMP/data -c listen_addresses=127.0.0.1" -w start >/dev/null || exit 1
pg_pid=$(head -1 "$TMP/data/postmaster.pid")
admin() { as_postgres "$PGBIN/psql" -h "$TMP/data" -p "$port" -X -q -v ON_ERROR_STOP=1 "$@"; }
as() {	# as ROLE DB SQL: run SQL as ROLE over TCP with its password
	PGPASSWORD="pw-$1" "$PGBIN/psql" -h 127.0.0.1 -p "$port" -U "$1" -d "$2" -X -q \
		-v ON_ERROR_STOP=1 -c "$3" >"$TMP/out" 2>&1
}
expect_ok() { runs=$((runs + 1)); as "$@" || fail "$1 on $2 refused: $3: $(cat "$TMP/out")"; }
expect_denied() {
	runs=$((runs + 1))
	if as "$@"; then fail "$1 on $2 allowed: $3"; fi
}

# As CloudNativePG does: the roles with their flags and a password, then
# each database owned by its role.
while read -r kind name rest; do
	case $kind in
	role) admin -c "CREATE ROLE \"$name\" $rest PASSWORD 'pw-$name'" >/dev/null ;;
	grant) admin -c "GRANT \"$name\" TO \"$rest\"" >/dev/null ;;
	db) admin -c "CREATE DATABASE \"$name\" OWNER \"$rest\"" >/dev/null ;;
	esac
done <"$TMP/plan"
consumers=$(awk '$1 == "db" {print $3}' "$TMP/plan")
grep -q '^role dump ' "$TMP/plan" || fail "no role dump for the nightly dumps"
echo "  postgres: roles $(echo $consumers) dump on PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}')"

for r in $consumers; do
	expect_ok "$r" "$r" "CREATE TABLE secrets_of_$r (v text); INSERT INTO secrets_of_$r VALUES ('mine')"
	expect_ok "$r" "$r" "SELECT v FROM secrets_of_$r"
	expect_denied "$r" "$r" "CREATE ROLE sneaky_$r"
	expect_denied "$r" "$r" "CREATE DATABASE sneaky_$r"
	expect_denied "$r" "$r" "ALTER ROLE $r SUPERUSER"
	expect_denied "$r" postgres "CREATE TABLE t (x int)"
	for o in $consumers; do
		[ "$o" = "$r" ] && continue
		expect_denied "$r" "$o" "SELECT v FROM secrets_of_$o"
		expect_denied "$r" "$o" "CREATE TABLE intruder (x int)"
		expect_denied "$r" "$o" "DROP TABLE secrets_of_$o"
	done
done
# The dump role: the backup component's dump.sh, as that role, reads
# everything and changes nothing.
admin -d "$(echo $consumers | cut -d' ' -f1)" -c "ALTER TABLE secrets_of_$(echo $consumers | cut -d' ' -f1) ENABLE ROW LEVEL SECURITY" >/dev/null
runs=$((runs + 1))
PGPASSWORD=pw-dump "$PGBIN/pg_dumpall" -h 127.0.0.1 -p "$port" -U dump --globals-only \
	--no-role-passwords --file="$TMP/globals.sql" 2>"$TMP/out" ||
	fail "dump: pg_dumpall --globals-only refused: $(cat "$TMP/out")"
grep -q 'CREATE ROLE' "$TMP/globals.sql" 2>/dev/null || fail "dump: no roles in globals.sql"
grep -q 'PASSWORD' "$TMP/globals.sql" 2>/dev/null && fail "dump: globals.sql holds passwords"
for d in $consumers; do
	runs=$((runs + 1))
	if PGPASSWORD=pw-dump "$PGBIN/pg_dump" -h 127.0.0.1 -p "$port" -U dump --format=custom \
		--dbname="$d" --file="$TMP/$d.dump" 2>"$TMP/out"; then
		"$PGBIN/pg_restore" --data-only --file=- "$TMP/$d.dump" 2>"$TMP/out" | grep -q "^mine$" ||
			fail "dump: the dump of $d lacks its rows"
	else
		fail "dump: pg_dump $d refused: $(cat "$TMP/out")"
	fi
	expect_denied dump "$d" "DELETE FROM secrets_of_$d"
	expect_denied dump "$d" "CREATE TABLE intruder (x int)"
	expect_denied dump "$d" "INSERT INTO secrets_of_$d VALUES ('theirs')"
done
expect_denied dump postgres "CREATE ROLE sneaky_dump"

runs=$((runs + 1))
PGPASSWORD=wrong "$PGBIN/psql" -h 127.0.0.1 -p "$port" -U "$(echo $consumers | cut -d' ' -f1)" \
	-d postgres -X -c 'select 1' >/dev/null 2>&1 && fail "a wrong password was accepted"

# bcrypt hashes of generated passwords (n8n's owner) checked by another
# implementation: pgcrypto's crypt().  The passwords stay in $TMP.
UNIT=${S7%/sector7}/tests/unit/test_secrets
if [ -x "$UNIT" ]; then
	admin -d postgres -c "CREATE EXTENSION pgcrypto" >/dev/null
	"$UNIT" --pairs 20 >"$TMP/pairs" || fail "bcrypt: no pairs"
	while read -r pw h; do
		runs=$((runs + 2))
		[ "$(admin -d postgres -tA -c "SELECT crypt('$pw', '$h') = '$h'")" = t ] ||
			fail "bcrypt: pgcrypto does not take a generated hash"
		[ "$(admin -d postgres -tA -c "SELECT crypt('${pw}x', '$h') = '$h'")" = f ] ||
			fail "bcrypt: pgcrypto takes a hash for another password"
	done <"$TMP/pairs"
	[ "$(wc -l <"$TMP/pairs")" = 20 ] || fail "bcrypt: $(wc -l <"$TMP/pairs") pairs, not 20"
else
	fail "bcrypt: no $UNIT (make unit)"
fi

echo "  postgres: $runs checks, $fails failed"
[ "$fails" = 0 ]
