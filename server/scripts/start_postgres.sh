#!/usr/bin/env bash
# Start a throwaway PostgreSQL 15 (Debian's package) as root without systemd, and print
# its DATABASE_URL on stdout. Adapted from ../shared/recipes/postgres-redis.sh.
#
#   url=$(server/scripts/start_postgres.sh)       # PG_DIR=/some/dir PGPORT=55432 to choose
#   DATABASE_URL=$url .venv/bin/python -m pytest ...
#   server/scripts/start_postgres.sh stop         # same PG_DIR: stops it and removes the data
#
# Installs the package with apt when it is missing. Everything else goes to stderr.
set -euo pipefail
PGBIN=/usr/lib/postgresql/15/bin
PG_DIR=${PG_DIR:-${TMPDIR:-/tmp}/steward-pg}
PGPORT=${PGPORT:-55432}

as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "${1:-}" = stop ]; then
    if [ -s "$PG_DIR/data/PG_VERSION" ]; then
        as_postgres "$PGBIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >&2 || true
    fi
    rm -rf "$PG_DIR"
    exit 0
fi

if [ ! -x "$PGBIN/initdb" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
fi

mkdir -p "$PG_DIR"
chmod 755 "$PG_DIR"                                   # postgres must reach its data dir
[ "$(id -u)" = 0 ] && chown postgres:postgres "$PG_DIR"   # initdb refuses to run as root
if [ ! -s "$PG_DIR/data/PG_VERSION" ]; then
    as_postgres "$PGBIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 \
        --locale=C.UTF-8 >/dev/null
fi
if ! as_postgres "$PGBIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
    # Durability off: this database is thrown away after the run.
    as_postgres "$PGBIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 60 -o \
        "-p $PGPORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >&2
fi
psql -h 127.0.0.1 -p "$PGPORT" -U postgres -v ON_ERROR_STOP=1 -q >&2 <<'SQL'
SELECT 'CREATE ROLE steward LOGIN PASSWORD ''steward'' CREATEDB' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname='steward')\gexec
SELECT 'CREATE DATABASE steward OWNER steward' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname='steward')\gexec
SQL
echo "postgres://steward:steward@127.0.0.1:$PGPORT/steward"
