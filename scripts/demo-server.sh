#!/usr/bin/env bash
# The demo product with everything it runs, for scripts/demo.sh or on its own:
#   - a throwaway Redis (server/scripts/start_redis.sh) as Celery's broker,
#   - a fresh SQLite database in .demo/ with seed_demo's forum, staff, jobs and audit log,
#   - the web server on http://127.0.0.1:${DEMO_PORT:-8000} (uvicorn, ASGI: live updates),
#     serving the forum's pages, Django's sign-in and Steward's API under /api/v1/,
#   - django-tasks' db_worker and a Celery worker, running the forum's jobs and Steward's.
#
#   scripts/demo-server.sh                 # until Ctrl-C
#   scripts/demo-server.sh COMMAND ARGS... # runs COMMAND with them up, then stops them all
#
# Everything it starts stops when it ends. Needs scripts/setup.sh to have run once.
# Knobs: DEMO_PORT, DEMO_REDIS_PORT, DEMO_ITEMS (2000), DEMO_AUDIT (20000), DEMO_JOBS (200).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PORT=${DEMO_PORT:-8000}
DEMO_DIR=$ROOT/.demo
PYTHON=$ROOT/.venv/bin/python
mkdir -p "$DEMO_DIR"

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  REDIS_DIR="$DEMO_DIR/redis" server/scripts/start_redis.sh stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "=== demo: starting Redis for Celery"
redis_url=$(REDIS_DIR="$DEMO_DIR/redis" REDIS_PORT=${DEMO_REDIS_PORT:-56380} server/scripts/start_redis.sh)
export CELERY_BROKER_URL="$redis_url/0"
export STEWARD_PUBLIC_URL="http://127.0.0.1:$PORT"
export DJANGO_EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend
export DJANGO_EMAIL_FILE_PATH="$DEMO_DIR/mail"
export DATABASE_URL="sqlite:///$DEMO_DIR/db.sqlite3"
unset DJANGO_SETTINGS_MODULE

echo "=== demo: preparing a fresh demo database ($DEMO_DIR/db.sqlite3)"
rm -f "$DEMO_DIR/db.sqlite3"
"$PYTHON" server/manage.py migrate --noinput >/dev/null
"$PYTHON" server/manage.py seed_demo --items "${DEMO_ITEMS:-2000}" --audit "${DEMO_AUDIT:-20000}" \
  --jobs "${DEMO_JOBS:-200}"

echo "=== demo: starting the web server on http://127.0.0.1:$PORT (ASGI, with live updates)"
"$PYTHON" -m uvicorn --app-dir server demo.asgi:application --host 127.0.0.1 --port "$PORT" \
  --workers 2 >"$DEMO_DIR/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.2; done

echo "=== demo: starting the job workers (django-tasks db_worker, Celery)"
(cd server && exec "$PYTHON" manage.py db_worker --no-reload --queue-name '*') >"$DEMO_DIR/worker.log" 2>&1 &
pids+=($!)
(cd server && exec "$PYTHON" -m celery -A demo worker --concurrency 1 --without-mingle \
  --without-gossip --loglevel INFO) >"$DEMO_DIR/celery.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q "ready\." "$DEMO_DIR/celery.log" 2>/dev/null && break; sleep 0.2; done

# The product at work: a few of its Celery tasks, some of which fail for real.
"$PYTHON" server/manage.py shell -c "
import datetime
from forum.tasks import notify_followers, rebuild_search_index, send_email, send_reminder
notify_followers.delay('demo', 'Welcome')
send_email.delay('ops(at)example.com', 'Weekly digest', '...')
rebuild_search_index.delay('posts', timeout_seconds=0.5, work_seconds=2)
send_reminder.delay(1, datetime.datetime.now() + datetime.timedelta(days=1))
" >/dev/null 2>&1 || echo "    (could not send the demo's Celery tasks; see $DEMO_DIR/celery.log)"

echo "    the forum:    http://127.0.0.1:$PORT/  (members: member0000 ... / member-demo)"
echo "    the API:      http://127.0.0.1:$PORT/api/v1/  (moderator, support, admin / <role>-demo)"
echo "    sent mail:    $DEMO_DIR/mail/    logs: $DEMO_DIR/*.log"
if [ $# -gt 0 ]; then
  "$@"
else
  echo "=== demo: running; Ctrl-C stops everything"
  wait
fi
