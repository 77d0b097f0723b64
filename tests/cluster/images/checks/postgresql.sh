# PostgreSQL as CNPG and the dump CronJob use it: UID 26, read-only root,
# PGDATA on a mounted volume, initdb as CNPG runs it (UTF8, C collation),
# postgres on 127.0.0.1, CREATE EXTENSION vector and a nearest-neighbour
# query; an en_US.UTF-8 database; the catalog's dump.sh (bash, pg_dumpall,
# psql, pg_dump, find) against that server.
test_postgresql() {
  import postgresql >/dev/null
  local img=localhost/sector7/postgresql:17-pgvector port d="$T/pg"
  port=$(free_port)
  mkdir -p "$d/data" "$d/run" "$d/dumps" "$d/tmp" "$d/scripts"
  chown 26:26 "$d/data" "$d/run" "$d/dumps" "$d/tmp"
  local mounts=(--mount "type=bind,src=$d/data,dst=/var/lib/postgresql/data,options=rbind:rw"
                --mount "type=bind,src=$d/run,dst=/run,options=rbind:rw"
                --mount "type=bind,src=$d/tmp,dst=/tmp,options=rbind:rw")
  check postgresql "initdb as UID 26 on a read-only root (CNPG's options: UTF8, C collation)" \
    run pginit "$img" "${mounts[@]}" -- sh -c '
      [ "$(id -u):$(id -g)" = 26:26 ] &&
      initdb --username=postgres -D /var/lib/postgresql/data/pgdata --encoding=UTF8 \
        --lc-collate=C --lc-ctype=C --auth-local=trust --auth-host=scram-sha-256 >/dev/null &&
      ! touch /usr/x 2>/dev/null'
  $CTR -n k8s.io run -d --read-only --net-host "${mounts[@]}" "$img" pg \
    postgres -D /var/lib/postgresql/data/pgdata -c listen_addresses=127.0.0.1 -p "$port" \
      -c unix_socket_directories=/run -c shared_buffers=64MB >/dev/null
  local i
  for i in $(seq 1 50); do
    $CTR -n k8s.io tasks exec --exec-id ready$i pg pg_isready -h /run -p "$port" >/dev/null 2>&1 && break
    sleep 0.2
  done
  check postgresql "postgres accepts connections; version 17.12" \
    $CTR -n k8s.io tasks exec --exec-id ver pg sh -c "psql -h /run -p $port -U postgres -Atc 'SHOW server_version' | grep -q '^17.12'"
  check postgresql "CREATE EXTENSION vector (0.8.0) and an ordered <-> query" \
    $CTR -n k8s.io tasks exec --exec-id vec pg sh -c "psql -h /run -p $port -U postgres -v ON_ERROR_STOP=1 -Atq <<'SQL' | tail -1 | grep -qx '3|0.8.0'
CREATE EXTENSION vector;
CREATE TABLE items (id int PRIMARY KEY, embedding vector(3));
INSERT INTO items VALUES (1, '[1,2,3]'), (2, '[4,5,6]'), (3, '[1,1,1]');
CREATE INDEX ON items USING hnsw (embedding vector_l2_ops);
SELECT id || '|' || (SELECT extversion FROM pg_extension WHERE extname = 'vector')
  FROM items ORDER BY embedding <-> '[1,1,0.9]' LIMIT 1;
SQL"
  check postgresql "a database with the en_US.UTF-8 locale" \
    $CTR -n k8s.io tasks exec --exec-id loc pg sh -c "psql -h /run -p $port -U postgres -v ON_ERROR_STOP=1 -Atc \"CREATE DATABASE app TEMPLATE template0 LOCALE 'en_US.UTF-8'\" &&
      psql -h /run -p $port -U postgres -d app -Atc \"SELECT 'a' < 'B'\" | grep -qx t"
  # dump.sh as the catalog renders it (ConfigMap postgres-dump), over TCP
  python3 - "$d/scripts/dump.sh" <<'PY'
import sys
open(sys.argv[1], "w").write("""#!/bin/bash
set -euo pipefail
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=/dumps/$stamp
rm -rf /dumps/*.partial
mkdir /dumps/$stamp.partial
pg_dumpall --globals-only --no-role-passwords --file=/dumps/$stamp.partial/globals.sql
psql -Atc "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1" |
while IFS= read -r db; do
\techo "dumping $db"
\tpg_dump --format=custom --dbname="$db" --file="/dumps/$stamp.partial/$db.dump"
done
mv /dumps/$stamp.partial "$out"
find /dumps -mindepth 1 -maxdepth 1 -type d -name '*Z' -mtime "+$KEEP_DAYS" -print -exec rm -rf {} +
echo "dump $out complete"
""")
PY
  check postgresql "the dump CronJob's script (bash, pg_dumpall, psql, pg_dump, find) as UID 26" \
    $CTR -n k8s.io run --rm --read-only --net-host \
      --mount "type=bind,src=$d/dumps,dst=/dumps,options=rbind:rw" \
      --mount "type=bind,src=$d/scripts,dst=/scripts,options=rbind:ro" \
      --mount "type=bind,src=$d/tmp,dst=/tmp,options=rbind:rw" \
      --env PGPORT="$port" --env PGDATABASE=postgres --env PGUSER=postgres \
      --env PGSSLMODE=disable --env PGHOST=/run --env KEEP_DAYS=14 \
      --mount "type=bind,src=$d/run,dst=/run,options=rbind:rw" \
      "$img" pgdump /bin/bash /scripts/dump.sh
  check postgresql "the dump holds the vector table (pg_restore --list)" \
    run pgrestore "$img" --mount "type=bind,src=$d/dumps,dst=/dumps,options=rbind:ro" -- \
      sh -c 'ls /dumps/*Z/globals.sql /dumps/*Z/app.dump >/dev/null &&
        pg_restore --list /dumps/*Z/postgres.dump | grep -q "TABLE public items"'
  $CTR -n k8s.io tasks kill pg >/dev/null 2>&1 || true
  for i in $(seq 1 50); do $CTR -n k8s.io tasks ls | grep -q '^pg ' || break; sleep 0.2; done
  $CTR -n k8s.io tasks rm -f pg >/dev/null 2>&1 || true
  $CTR -n k8s.io containers rm pg >/dev/null 2>&1 || true
}
