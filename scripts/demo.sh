#!/usr/bin/env bash
# Sets up everything, then runs the demo: the demo product (a small forum with Steward
# installed) on http://127.0.0.1:${DEMO_PORT:-8000}, its background workers (django-tasks'
# db_worker, and a Celery worker on a throwaway Redis), and the Steward desktop app pointed
# at it. Everything it starts stops when the app closes (or on Ctrl-C).
# Sign in as moderator / moderator-demo (also support / support-demo, admin / admin-demo);
# the forum's pages take member0000 ... / member-demo.
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

export STEWARD_SERVER_URL="http://127.0.0.1:$PORT"
# The demo product, its workers and Redis run while the app does (scripts/demo-server.sh),
# and stop when it closes.
if [ -n "${DISPLAY:-}" ]; then
  exec scripts/demo-server.sh bash -c '
    echo "=== demo: starting Steward; sign in as moderator / moderator-demo"
    ./target/debug/steward'
else
  echo "    no DISPLAY: running on a private Xvfb screen; screenshots go to $DEMO_DIR/screenshot.png"
  exec scripts/demo-server.sh scripts/with-desktop-session.sh bash -c '
    echo "=== demo: starting Steward; sign in as moderator / moderator-demo"
    ./target/debug/steward & app=$!
    while kill -0 $app 2>/dev/null; do sleep 5; import -window root "$0/screenshot.png" 2>/dev/null || true; done
  ' "$DEMO_DIR"
fi
