#!/usr/bin/env bash
# The deployment layout of docs/deploy.md, running on this machine: a throwaway PostgreSQL
# and Redis, a migrated (and by default seeded) database, and the Procfile's processes
# under honcho, with several web (WSGI) and events (ASGI) processes. The load test uses it.
#
#   scripts/scale-stack.sh                  # until Ctrl-C
#   scripts/scale-stack.sh COMMAND ARGS...  # runs COMMAND with the stack up, then stops it
#
# When every web and events process answers GET /api/v1/health/ready, it prints one line
# on stdout, and exports the same URLs to COMMAND:
#
#   STACK_READY web=http://127.0.0.1:5000,http://127.0.0.1:5001 events=http://127.0.0.1:5100,http://127.0.0.1:5101 database=postgres://... broker=redis://...
#
#   STEWARD_STACK_WEB_URLS, STEWARD_STACK_EVENTS_URLS (comma-separated), DATABASE_URL,
#   CELERY_BROKER_URL
#
# Everything else goes to stderr; the processes' output goes to $SCALE_DIR/honcho.log.
# Everything it starts stops when it ends (exit, INT or TERM). Exit status: COMMAND's.
# Several stacks can run side by side: each takes its own directory and free ports.
# Knobs: SCALE_WEB (2), SCALE_EVENTS (2), SCALE_PORT (honcho's base port; default the
# first of 5000, 7000, 8000, ... whose ports are free: web gets BASE, BASE+1..., events BASE+100,
# BASE+101...), SCALE_SEED (1; 0: migrate only), SCALE_PASSWORD (the staff users'
# password, default <role>-demo), SCALE_ITEMS (300), SCALE_AUDIT (2000), SCALE_JOBS (60),
# SCALE_DIR (data and logs; default a new ${TMPDIR:-/tmp}/steward-scale.XXXXXX, removed
# after a run that succeeded and kept, with its logs, after one that failed; a directory
# you name is emptied at start and kept), SCALE_PROCESSES (the Procfile types to run,
# default all), and the settings of docs/deploy.md, which pass through
# (DATABASE_POOL_MAX_SIZE, WEB_CONCURRENCY, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=$ROOT/.venv/bin/python
WEB=${SCALE_WEB:-2}
EVENTS=${SCALE_EVENTS:-2}
say() { echo "=== scale-stack: $*" >&2; }
free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

honcho_pid=""
own_dir=0
SCALE_DIR=${SCALE_DIR:-}
cleanup() {
  local status=$?
  if [ -n "$honcho_pid" ]; then
    # honcho sends SIGTERM to each process group, then SIGKILL after 5 s.
    kill -TERM "$honcho_pid" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$honcho_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$honcho_pid" 2>/dev/null || true
    wait "$honcho_pid" 2>/dev/null || true
  fi
  REDIS_DIR="$SCALE_DIR/redis" server/scripts/start_redis.sh stop >/dev/null 2>&1 || true
  PG_DIR="$SCALE_DIR/pg" server/scripts/start_postgres.sh stop >/dev/null 2>&1 || true
  if [ "$own_dir" = 1 ] && [ "$status" = 0 ]; then
    rm -rf "$SCALE_DIR"
  elif [ -d "$SCALE_DIR" ]; then
    echo "scale-stack: logs kept in $SCALE_DIR" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$PYTHON" ] || { echo "scale-stack: no $PYTHON; run scripts/setup.sh first" >&2; exit 1; }
if [ -n "$SCALE_DIR" ]; then
  # A directory of your choice: an earlier run there, killed with -9, may still be running.
  REDIS_DIR="$SCALE_DIR/redis" server/scripts/start_redis.sh stop >/dev/null 2>&1 || true
  PG_DIR="$SCALE_DIR/pg" server/scripts/start_postgres.sh stop >/dev/null 2>&1 || true
  rm -rf "$SCALE_DIR"
  mkdir -p "$SCALE_DIR"
else
  # A directory of its own, so that runs side by side never touch each other's services.
  SCALE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/steward-scale.XXXXXX")
  own_dir=1
fi
chmod 755 "$SCALE_DIR"   # PostgreSQL's data lives inside and runs as its own user

say "PostgreSQL and Redis"
database_url=$(PG_DIR="$SCALE_DIR/pg" PGPORT=${SCALE_PG_PORT:-$(free_port)} \
  server/scripts/start_postgres.sh 2>>"$SCALE_DIR/services.log")
redis_url=$(REDIS_DIR="$SCALE_DIR/redis" REDIS_PORT=${SCALE_REDIS_PORT:-$(free_port)} \
  server/scripts/start_redis.sh 2>>"$SCALE_DIR/services.log")
export DATABASE_URL=$database_url
export CELERY_BROKER_URL=$redis_url/0
export DJANGO_EMAIL_BACKEND=${DJANGO_EMAIL_BACKEND:-django.core.mail.backends.filebased.EmailBackend}
export DJANGO_EMAIL_FILE_PATH=${DJANGO_EMAIL_FILE_PATH:-$SCALE_DIR/mail}
export PATH="$ROOT/.venv/bin:$PATH"
export PYTHONUNBUFFERED=1   # each process's lines reach honcho.log as they are written
unset DJANGO_SETTINGS_MODULE

say "migrating $database_url"
"$PYTHON" server/manage.py migrate --noinput -v 0
if [ "${SCALE_SEED:-1}" != 0 ]; then
  say "seeding (seed_demo)"
  password_args=()
  [ -z "${SCALE_PASSWORD:-}" ] || password_args=(--password "$SCALE_PASSWORD")
  "$PYTHON" server/manage.py seed_demo --items "${SCALE_ITEMS:-300}" \
    --audit "${SCALE_AUDIT:-2000}" --jobs "${SCALE_JOBS:-60}" "${password_args[@]}" >&2
fi

# The URLs honcho gives the web and events processes: each process type in Procfile order
# gets the base port plus 100 times its position, each instance one more.
mapfile -t procfile_types < <(sed -nE 's/^([A-Za-z0-9_-]+):.*/\1/p' Procfile)
wanted=${SCALE_PROCESSES:-${procfile_types[*]}}
read -r -a started_types <<<"${wanted//,/ }"
ports_free() {   # ports_free BASE: are the web and events ports from BASE all free?
  "$PYTHON" - "$1" "$WEB" "$EVENTS" "${started_types[@]}" <<'PY'
import socket, sys
base, web, events, types = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
counts = {"web": web, "events": events}
for index, name in enumerate(types):
    for n in range(counts.get(name, 0)):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", base + 100 * index + n))
            except OSError:
                sys.exit(1)
PY
}
if [ -n "${SCALE_PORT:-}" ]; then
  BASE_PORT=$SCALE_PORT
else
  # Another stack (another engineer's, a test's) may hold 5000: take the first free range.
  # 6000-6063 are X11's, which browsers' fetch refuses as a "bad port": skip that range.
  for BASE_PORT in 5000 7000 8000 9000 10000 11000 12000 13000 14000 15000; do ports_free "$BASE_PORT" && break; done
fi
export STEWARD_PUBLIC_URL=${STEWARD_PUBLIC_URL:-http://127.0.0.1:$BASE_PORT}
urls_of() {   # urls_of TYPE COUNT
  local index=0 type
  for type in "${started_types[@]}"; do
    if [ "$type" = "$1" ]; then
      local port=$((BASE_PORT + 100 * index)) n separator=""
      for ((n = 0; n < $2; n++)); do
        printf '%shttp://127.0.0.1:%s' "$separator" $((port + n))
        separator=,
      done
      return
    fi
    index=$((index + 1))
  done
}
web_urls=$(urls_of web "$WEB")
events_urls=$(urls_of events "$EVENTS")

say "honcho start -c web=$WEB,events=$EVENTS ${started_types[*]} (output: $SCALE_DIR/honcho.log)"
# No .env file: the stack runs with exactly the environment above.
"$PYTHON" -m honcho start -f Procfile -e /dev/null -p "$BASE_PORT" \
  -c "web=$WEB,events=$EVENTS" "${started_types[@]}" >"$SCALE_DIR/honcho.log" 2>&1 &
honcho_pid=$!

ready() {
  "$PYTHON" - "$@" <<'PY'
import sys, urllib.request
for base in sys.argv[1:]:
    try:
        with urllib.request.urlopen(base + "/api/v1/health/ready", timeout=2) as response:
            if response.status != 200:
                sys.exit(1)
    except Exception:
        sys.exit(1)
PY
}
IFS=, read -r -a all_urls <<<"$web_urls${web_urls:+${events_urls:+,}}$events_urls"
for _ in $(seq 300); do
  kill -0 "$honcho_pid" 2>/dev/null || {
    echo "scale-stack: honcho stopped before the stack was ready:" >&2
    tail -n 40 "$SCALE_DIR/honcho.log" >&2
    exit 1
  }
  ready "${all_urls[@]}" && break
  sleep 0.2
done
ready "${all_urls[@]}" || { echo "scale-stack: not ready after 60 s" >&2; tail -n 40 "$SCALE_DIR/honcho.log" >&2; exit 1; }

export STEWARD_STACK_WEB_URLS=$web_urls STEWARD_STACK_EVENTS_URLS=$events_urls
echo "STACK_READY web=$web_urls events=$events_urls database=$DATABASE_URL broker=$CELERY_BROKER_URL"
if [ $# -gt 0 ]; then
  status=0
  "$@" || status=$?
  exit "$status"
fi
say "running; Ctrl-C stops everything"
wait "$honcho_pid"
