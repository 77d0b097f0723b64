# PostgreSQL 17 with pgvector, laid out as a CloudNativePG 1.30 operand
# (CNPG's "Container Image Requirements"): initdb, postgres, pg_ctl,
# pg_controldata, pg_basebackup (and pg_rewind, psql, pg_dump...) on PATH,
# user postgres = UID/GID 26 (CNPG's default postgresUID/postgresGID), a
# UTF-8 locale (C.UTF-8 from libc, en_US.UTF-8 compiled in), no entrypoint
# (CNPG runs its instance manager, copied into /controller by the
# operator image's bootstrap-controller init container).  Barman Cloud is
# not included: CNPG 1.30 no longer needs it (backups go through the Barman
# Cloud plugin, which sector7 does not use).
# The catalog pins ghcr.io/cloudnative-pg/postgresql:17.11-...-standard-trixie
# by digest, which no local build can match: the image is named with local
# references (see overrides.yaml).  The "standard" images also carry
# pgaudit and pg_failover_slots; the catalog uses neither.
USES=(deb)
VERSION=17.12-pgvector0.8.0
SOURCE="Debian trixie postgresql-17 17.12-0+deb13u1, postgresql-17-pgvector 0.8.0-1, locales 2.41"
REFS=(localhost/sector7/postgresql:17-pgvector localhost/sector7/postgresql:17.12-pgvector0.8.0-trixie)

build() {
  deb_rootfs postgresql-17=17.12-0+deb13u1 postgresql-17-pgvector=0.8.0-1 \
    locales bash coreutils findutils gzip busybox=1:1.37.0-6+b9
  base_files postgres:26:postgres:26:/var/lib/postgresql
  busybox_shell
  # en_US.UTF-8 besides libc's C.UTF-8 (localedef of trixie's glibc, in the image)
  chroot "$ROOTFS" localedef -i en_US -c -f UTF-8 -A /usr/share/locale/locale.alias en_US.UTF-8
  rm -rf "$ROOTFS/usr/share/i18n/locales" "$ROOTFS/usr/share/i18n/charmaps"
  # Debian's cluster tooling (pg_createcluster, the system service) is for
  # a host install, not for an operand: its configuration directory goes.
  rm -rf "$ROOTFS/etc/postgresql" "$ROOTFS/etc/postgresql-common" "$ROOTFS/var/lib/postgresql/17"
  mkdir -p "$ROOTFS/var/lib/postgresql/data" "$ROOTFS/run/postgresql" "$ROOTFS/controller"
  chown -R 26:26 "$ROOTFS/var/lib/postgresql" "$ROOTFS/run/postgresql"
  chmod 2775 "$ROOTFS/run/postgresql"
  local pgbin=/usr/lib/postgresql/17/bin b
  for b in initdb postgres pg_ctl pg_controldata pg_basebackup pg_rewind; do
    [ -x "$ROOTFS$pgbin/$b" ] || fail "$b is missing"
  done
  chroot --userspec=26:26 "$ROOTFS" env PATH=$pgbin:/usr/bin postgres --version >&2
}

IMG_USER=26:26
IMG_WORKDIR=/var/lib/postgresql
IMG_ENV="PATH=/usr/lib/postgresql/17/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LANG=en_US.utf8
PGDATA=/var/lib/postgresql/data/pgdata"
IMG_CMD='["postgres"]'
IMG_PORTS="5432/tcp"
