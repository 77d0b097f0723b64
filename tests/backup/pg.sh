#!/usr/bin/env bash
# The dump code on a real PostgreSQL server (Debian's, started here on a
# private port and socket): sector7's dump functions (pgtest, with the
# local runner that stands in for exec) dump two databases as a
# read-only role like the clusters' dump role, the custom dumps restore
# through sector7's pg_restore into new databases that hold what a
# bootstrap makes (extensions, a schema), and the row counts match.  Then
# the backup component's own scripts (catalog/lib/pg-dump.yaml, rendered
# for the lab site): dump.sh writes the dumps and their row counts,
# drill.sh restores them as a CREATEDB-only role and exits 0, and exits 1
# when a count is off.  pgvector where the server has it.
set -u
. "$(dirname "$0")/../lib.sh"
BT=${BTEST:-$ROOT/build/tests/backup}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
TMP=$(mktemp -d)
chmod 755 "$TMP"
pg_pid=""
as_postgres() { (cd / && runuser -u postgres -- "$@"); }
cleanup() {
	[ -n "$pg_pid" ] && as_postgres "$PGBIN/pg_ctl" -D "$TMP/data" stop -m fast >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
[ -x "$PGBIN/postgres" ] || { echo "no PostgreSQL server (apt-get install postgresql)" >&2; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$TMP/data" && chown postgres "$TMP/data"
as_postgres "$PGBIN/initdb" -D "$TMP/data" --auth-local=peer --auth-host=scram-sha-256 >/dev/null || exit 1
as_postgres "$PGBIN/pg_ctl" -D "$TMP/data" -l "$TMP/data/log" \
	-o "-p $port -k $TMP/data -c listen_addresses=127.0.0.1" -w start >/dev/null || exit 1
pg_pid=$(head -1 "$TMP/data/postmaster.pid")
admin() { as_postgres "$PGBIN/psql" -h "$TMP/data" -p "$port" -X -q -v ON_ERROR_STOP=1 "$@"; }
export PATH=$PGBIN:$PATH
vector=0
[ -f "$(dirname "$PGBIN")/../../../share/postgresql/$(basename "$(dirname "$PGBIN")")/extension/vector.control" ] && vector=1
echo "  backup: dumps on PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') (pgvector: $([ $vector = 1 ] && echo yes || echo 'not installed: skipped'))"

# Two app databases with data, owned by their roles; a read-only role
# like the clusters' dump (pg_read_all_data, BYPASSRLS).
admin -c "CREATE ROLE dump LOGIN BYPASSRLS PASSWORD 'pw-dump'" -c "GRANT pg_read_all_data TO dump" \
	-c "CREATE ROLE drill LOGIN CREATEDB PASSWORD 'pw-drill'" \
	-c "CREATE ROLE n8n LOGIN PASSWORD 'x'" -c "CREATE ROLE appflowy LOGIN PASSWORD 'y'" \
	-c "CREATE DATABASE n8n OWNER n8n" -c "CREATE DATABASE appflowy OWNER appflowy" >/dev/null
admin -d n8n -c "SET ROLE n8n" -c "CREATE TABLE workflow (id serial PRIMARY KEY, body jsonb, note text)" \
	-c "INSERT INTO workflow (body, note) SELECT jsonb_build_object('n', g), E'line\nbreak\\\\ \t' || g FROM generate_series(1, 5000) g" \
	-c "CREATE TABLE credentials (id int PRIMARY KEY, data bytea)" \
	-c "INSERT INTO credentials SELECT g, decode(md5(g::text), 'hex') FROM generate_series(1, 77) g" \
	-c "ALTER TABLE credentials ENABLE ROW LEVEL SECURITY" >/dev/null
admin -d appflowy -c 'CREATE EXTENSION IF NOT EXISTS "uuid-ossp"' -c "CREATE EXTENSION IF NOT EXISTS pg_trgm" \
	-c "CREATE SCHEMA auth AUTHORIZATION appflowy" >/dev/null
[ $vector = 1 ] && admin -d appflowy -c "CREATE EXTENSION vector" >/dev/null
admin -d appflowy -c "SET ROLE appflowy" -c "CREATE TABLE auth.users (id uuid PRIMARY KEY DEFAULT uuid_generate_v4(), email text)" \
	-c "INSERT INTO auth.users (email) SELECT 'u' || g || '@example.org' FROM generate_series(1, 321) g" \
	-c "CREATE TABLE af_collab (oid uuid REFERENCES auth.users, blob bytea)" \
	-c "INSERT INTO af_collab SELECT id, gen_random_bytes(64) FROM auth.users" >/dev/null 2>"$TMP/err" ||
	admin -d appflowy -c "SET ROLE appflowy" -c "CREATE TABLE IF NOT EXISTS af_collab (oid uuid REFERENCES auth.users, blob bytea)" \
	-c "INSERT INTO af_collab SELECT id, decode(md5(email), 'hex') FROM auth.users" >/dev/null 2>&1
[ $vector = 1 ] && admin -d appflowy -c "SET ROLE appflowy" \
	-c "CREATE TABLE af_embeddings (id serial, embedding vector(3))" \
	-c "INSERT INTO af_embeddings (embedding) SELECT ARRAY[g, g + 1, g + 2]::vector FROM generate_series(1, 50) g" >/dev/null

echo "  backup: sector7's dump code round trip"
expect 0 env PGTEST_PASSWORD=pw-dump "$BT/pgtest" dump "$TMP/set" 127.0.0.1 "$port" dump
contains "$TMP/out" "databases/ns/pg/globals.sql"
contains "$TMP/out" "databases/ns/pg/n8n.dump"
contains "$TMP/out" "databases/ns/pg/appflowy.dump"
grep -q "PASSWORD" "$TMP/set/databases/ns/pg/globals.sql" && fail "globals.sql holds a password"
while read -r path sha size; do
	runs=$((runs + 1))
	[ "$(sha256sum <"$TMP/set/$path" | cut -c1-64)" = "$sha" ] || fail "$path: recorded sha256 differs"
	[ "$(stat -c %s "$TMP/set/$path")" = "$size" ] || fail "$path: recorded size differs"
done <"$TMP/out"
expect 0 "$BT/pgtest" list "$PGBIN/pg_restore" "$TMP/set/databases/ns/pg/n8n.dump"
contains "$TMP/out" "entries "
head -c 1000 "$TMP/set/databases/ns/pg/n8n.dump" >"$TMP/cut.dump"
expect 1 "$BT/pgtest" list "$PGBIN/pg_restore" "$TMP/cut.dump"
contains "$TMP/out" "pg_restore --list failed"
# a wrong password is an error, not an empty dump
expect 1 env PGTEST_PASSWORD=wrong "$BT/pgtest" dump "$TMP/set2" 127.0.0.1 "$port" dump
contains "$TMP/out" "password authentication failed"
for db in n8n appflowy; do
	expect 0 env PGTEST_PASSWORD=pw-dump "$BT/pgtest" counts 127.0.0.1 "$port" dump "$db"
	cp "$TMP/out" "$TMP/$db.before"
done
contains "$TMP/n8n.before" "public.workflow 5000"
contains "$TMP/n8n.before" "public.credentials 77"
contains "$TMP/appflowy.before" "auth.users 321"
# New databases as a new cluster's bootstrap leaves them: owned by the
# app's role, the extensions and schema already there.
admin -c "CREATE DATABASE n8n_new OWNER n8n" -c "CREATE DATABASE appflowy_new OWNER appflowy" >/dev/null
admin -d appflowy_new -c 'CREATE EXTENSION "uuid-ossp"' -c "CREATE EXTENSION pg_trgm" \
	-c "CREATE SCHEMA auth AUTHORIZATION appflowy" >/dev/null
[ $vector = 1 ] && admin -d appflowy_new -c "CREATE EXTENSION vector" >/dev/null
for db in n8n appflowy; do
	expect 0 "$BT/pgtest" restore "$TMP/set/databases/ns/pg/$db.dump" "$TMP/data" "$port" postgres "${db}_new"
	expect 0 env PGTEST_PASSWORD=pw-dump "$BT/pgtest" counts 127.0.0.1 "$port" dump "${db}_new"
	runs=$((runs + 1))
	diff -u "$TMP/$db.before" "$TMP/out" || fail "$db: row counts differ after the restore"
done
[ "$(admin -d appflowy_new -tA -c "SELECT tableowner FROM pg_tables WHERE tablename = 'users'")" = appflowy ] ||
	fail "the restored tables lost their owner"
[ "$(admin -d n8n_new -tA -c "SELECT note FROM workflow WHERE id = 7")" = "$(admin -d n8n -tA -c "SELECT note FROM workflow WHERE id = 7")" ] ||
	fail "a restored row differs"
if [ $vector = 1 ]; then
	[ "$(admin -d appflowy_new -tA -c "SELECT embedding <-> '[1,2,3]' FROM af_embeddings WHERE id = 2")" = 1.7320508075688772 ] ||
		fail "pgvector after the restore"
fi
# restoring into a database that is not empty of the dump's tables stops
# at the first error and leaves it as it was (one transaction)
admin -d n8n_new -c "ALTER TABLE workflow ADD COLUMN extra int" >/dev/null
expect 0 "$BT/pgtest" restore "$TMP/set/databases/ns/pg/n8n.dump" "$TMP/data" "$port" postgres n8n_new
expect 1 "$BT/pgtest" restore "$TMP/cut.dump" "$TMP/data" "$port" postgres n8n_new
contains "$TMP/out" "pg_restore into database 'n8n_new' failed"
[ "$(admin -d n8n_new -tA -c "SELECT count(*) FROM workflow")" = 5000 ] || fail "a failed restore changed the database"

echo "  backup: the backup component's dump.sh and drill.sh"
"$S7" render -f "$ROOT/examples/lab-3node.yaml" -o "$TMP/r" >/dev/null || fail "render lab-3node"
python3 - "$TMP/r/manifests"/*-backup/*-configmap-postgres-postgres-dump.yaml "$TMP" <<'PY'
import sys, yaml
cm = yaml.safe_load(open(sys.argv[1]))
for name in ("dump.sh", "drill.sh"):
    open(sys.argv[2] + "/" + name, "w").write(cm["data"][name])
PY
mkdir -p "$TMP/dumps" && chown postgres "$TMP/dumps"
runs=$((runs + 1))
PGHOST=127.0.0.1 PGPORT=$port PGUSER=dump PGPASSWORD=pw-dump PGDATABASE=postgres DUMPS=$TMP/dumps KEEP_DAYS=30 \
	bash "$TMP/dump.sh" >"$TMP/dump.out" 2>&1 || fail "dump.sh: $(tail -5 "$TMP/dump.out")"
d=$(ls -d "$TMP"/dumps/*Z | tail -1)
[ -s "$d/n8n.dump" ] && [ -s "$d/appflowy.dump" ] && [ -s "$d/globals.sql" ] || fail "dump.sh wrote $(ls "$d")"
runs=$((runs + 1))
diff -u "$TMP/n8n.before" "$d/n8n.rows" || fail "dump.sh's n8n.rows differ from the counts"
contains "$d/appflowy.rows" "auth.users 321"
runs=$((runs + 1))
PGHOST=127.0.0.1 PGPORT=$port PGUSER=drill PGPASSWORD=pw-drill PGDATABASE=postgres DUMPS=$TMP/dumps \
	bash "$TMP/drill.sh" >"$TMP/drill.out" 2>&1 || fail "drill.sh failed: $(tail -8 "$TMP/drill.out")"
contains "$TMP/drill.out" "drill: n8n: 2 tables, row counts as dumped"
[ $vector = 1 ] && contains "$TMP/drill.out" "drill: appflowy: pgvector works"
[ "$(admin -tA -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'sector7_drill_%'")" = 0 ] ||
	fail "the drill left its scratch database"
# a count that differs from the dump's fails the drill
sed -i 's/^public.workflow 5000$/public.workflow 4999/' "$d/n8n.rows"
runs=$((runs + 1))
PGHOST=127.0.0.1 PGPORT=$port PGUSER=drill PGPASSWORD=pw-drill PGDATABASE=postgres DUMPS=$TMP/dumps \
	bash "$TMP/drill.sh" >"$TMP/drill.out" 2>&1 && fail "drill.sh passed with a wrong row count"
contains "$TMP/drill.out" "drill: n8n: row counts differ from the dump's"
[ "$(admin -tA -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'sector7_drill_%'")" = 0 ] ||
	fail "a failed drill left its scratch database"

echo "  backup: postgres: $runs runs, $fails failed"
[ "$fails" = 0 ]
