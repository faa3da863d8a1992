#!/usr/bin/env bash
# Sets up everything, then runs the demo: the reference server with demo data on
# http://127.0.0.1:${DEMO_PORT:-8000} and the Steward desktop app pointed at it.
# Sign in as moderator / moderator-demo (also support / support-demo, admin / admin-demo).
#
# With no desktop (no DISPLAY), the app runs on a private Xvfb screen with its own
# keychain, and a screenshot is written to .demo/screenshot.png every few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PORT=${DEMO_PORT:-8000}
DEMO_DIR=$ROOT/.demo
mkdir -p "$DEMO_DIR"

scripts/setup.sh
echo "=== demo: building the desktop app"
npm --prefix ui run tauri -- build --debug --no-bundle

export DATABASE_URL="sqlite:///$DEMO_DIR/db.sqlite3"
echo "=== demo: preparing the demo database ($DEMO_DIR/db.sqlite3)"
.venv/bin/python server/manage.py migrate --noinput >/dev/null
.venv/bin/python server/manage.py seed_demo --items 2000 --audit 20000 --jobs 200

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
echo "=== demo: starting the reference server on http://127.0.0.1:$PORT (ASGI, with live updates)"
.venv/bin/python -m uvicorn --app-dir server demo.asgi:application --host 127.0.0.1 --port "$PORT" \
  --workers 2 >"$DEMO_DIR/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.2; done
echo "=== demo: starting the background job worker (django-tasks db_worker)"
(cd server && exec ../.venv/bin/python manage.py db_worker --no-reload) >"$DEMO_DIR/worker.log" 2>&1 &
pids+=($!)

export STEWARD_SERVER_URL="http://127.0.0.1:$PORT"
echo "=== demo: starting Steward (server log: $DEMO_DIR/server.log)"
echo "    sign in as moderator / moderator-demo"
if [ -n "${DISPLAY:-}" ]; then
  ./target/debug/steward
else
  echo "    no DISPLAY: running on a private Xvfb screen; screenshots go to $DEMO_DIR/screenshot.png"
  scripts/with-desktop-session.sh bash -c '
    ./target/debug/steward & app=$!
    while kill -0 $app 2>/dev/null; do sleep 5; import -window root "$0/screenshot.png" 2>/dev/null || true; done
  ' "$DEMO_DIR"
fi
