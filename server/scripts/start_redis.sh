#!/usr/bin/env bash
# Start a throwaway Redis (Debian's redis-server) on loopback, without systemd, and print
# its URL on stdout. Adapted from ../shared/recipes/postgres-redis.sh.
#
#   url=$(server/scripts/start_redis.sh)      # REDIS_DIR=/some/dir REDIS_PORT=56379 to choose
#   CELERY_BROKER_URL=$url/0 ...
#   server/scripts/start_redis.sh stop        # same REDIS_DIR: stops it and removes its files
#
# Installs the package with apt when it is missing. Everything else goes to stderr.
set -euo pipefail
REDIS_DIR=${REDIS_DIR:-${TMPDIR:-/tmp}/steward-redis}
REDIS_PORT=${REDIS_PORT:-56379}

if [ "${1:-}" = stop ]; then
    if [ -s "$REDIS_DIR/pid" ]; then
        kill "$(cat "$REDIS_DIR/pid")" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$(cat "$REDIS_DIR/pid")" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -rf "$REDIS_DIR"
    exit 0
fi

if ! command -v redis-server >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq >&2
    $SUDO apt-get install -y -qq --no-install-recommends redis-server >&2
fi

mkdir -p "$REDIS_DIR"
# Nothing is persisted: this Redis is thrown away after the run.
redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
    --dir "$REDIS_DIR" --logfile "$REDIS_DIR/log" --pidfile "$REDIS_DIR/pid" >&2
for _ in $(seq 50); do
    redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break
    sleep 0.1
done
redis-cli -p "$REDIS_PORT" ping | grep -q PONG
echo "redis://127.0.0.1:$REDIS_PORT"
