#!/usr/bin/env bash
# Every server check, in order, stopping at the first failure:
#   1. ruff check + ruff format --check
#   2. pytest on SQLite
#   3. api/openapi.yaml is not stale
#   4. pytest on a throwaway PostgreSQL (scripts/start_postgres.sh), stopped afterwards
#   5. schemathesis against the demo server on a throwaway SQLite database with seed data:
#      at least MIN_CASES cases and no server error
# A throwaway Redis (scripts/start_redis.sh) serves the whole run: the Celery tests start
# their workers on it, and the fuzzed server sends its Celery retries to it.
# Runs from any directory with the virtualenv at <repo>/.venv; needs no input.
# Knobs: SCHEMATHESIS_EXAMPLES (per operation, default 60), MIN_CASES (default 1000).
set -euo pipefail

server=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
root=$(cd "$server/.." && pwd)
venv=$root/.venv
python=$venv/bin/python
examples=${SCHEMATHESIS_EXAMPLES:-60}
min_cases=${MIN_CASES:-1000}

# The checks choose their own databases; an inherited one must not leak in.
unset DATABASE_URL DJANGO_SETTINGS_MODULE CELERY_BROKER_URL STEWARD_TEST_REDIS_URL

work=$(mktemp -d "${TMPDIR:-/tmp}/steward-test.XXXXXX")
chmod 755 "$work"
gunicorn_pid=""
cleanup() {
    if [ -n "$gunicorn_pid" ]; then kill "$gunicorn_pid" 2>/dev/null || true; fi
    PG_DIR=$work/pg "$server/scripts/start_postgres.sh" stop >/dev/null 2>&1 || true
    REDIS_DIR=$work/redis "$server/scripts/start_redis.sh" stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

step() {
    printf '\n== %s\n' "$*"
}

free_port() {
    "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

run_pytest() {
    local status=0
    (cd "$server" && "$python" -m pytest -q "$@") || status=$?
    if [ "$status" -eq 5 ]; then
        echo "pytest collected no tests (exit code 5): that is a failure, not a pass." >&2
        exit 1
    fi
    if [ "$status" -ne 0 ]; then
        exit "$status"
    fi
}

started=$SECONDS

step "Redis for the Celery tests"
redis_url=$(REDIS_DIR=$work/redis REDIS_PORT=$(free_port) "$server/scripts/start_redis.sh")
export STEWARD_TEST_REDIS_URL=$redis_url
echo "$redis_url"

step "ruff"
"$venv/bin/ruff" check "$server"
"$venv/bin/ruff" format --check "$server"

step "pytest on SQLite"
run_pytest

step "OpenAPI drift"
PYTHON=$python "$server/scripts/check_openapi.sh"

step "pytest on PostgreSQL"
pg_url=$(PG_DIR=$work/pg PGPORT=$(free_port) "$server/scripts/start_postgres.sh")
DATABASE_URL=$pg_url run_pytest
PG_DIR=$work/pg "$server/scripts/start_postgres.sh" stop

step "schemathesis (at least $min_cases cases, no server errors)"
export DATABASE_URL="sqlite:///$work/schemathesis.sqlite3"
export CELERY_BROKER_URL="$redis_url/15"
export STEWARD_ACCESS_TOKEN_TTL=3600
manage=("$python" "$server/manage.py")
"${manage[@]}" migrate --noinput -v 0
"${manage[@]}" seed_demo --items 300 --audit 5000 --jobs 60 --password fuzz-password >/dev/null
token=$("${manage[@]}" shell -c \
    "from steward import auth; print(auth.login('admin', 'fuzz-password').access_token)" |
    tail -n 1)
port=$(free_port)
"$python" -m gunicorn --chdir "$server" demo.wsgi:application --bind "127.0.0.1:$port" \
    --workers 2 --no-control-socket >"$work/gunicorn.log" 2>&1 &
gunicorn_pid=$!
for _ in $(seq 100); do
    if "$python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/api/v1/schema', timeout=1)" 2>/dev/null; then
        break
    fi
    sleep 0.2
done
# auth_logout is left out: fuzzing it with the admin token would revoke that token.
status=0
timeout 300 "$venv/bin/schemathesis" run "$root/api/openapi.yaml" \
    --url "http://127.0.0.1:$port" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,response_schema_conformance,content_type_conformance \
    --exclude-operation-id auth_logout \
    --max-examples "$examples" --workers 2 --seed 20261124 \
    --no-color --output-truncate true --generation-database none \
    >"$work/schemathesis.log" 2>&1 || status=$?
tail -n 25 "$work/schemathesis.log"
if [ "$status" -ne 0 ]; then
    echo "schemathesis failed (exit $status); the server log follows." >&2
    tail -n 50 "$work/gunicorn.log" >&2
    exit 1
fi
cases=$(grep -oE '[0-9]+ generated' "$work/schemathesis.log" | tail -n 1 | cut -d' ' -f1)
if [ -z "$cases" ] || [ "$cases" -lt "$min_cases" ]; then
    echo "schemathesis ran ${cases:-no} cases; at least $min_cases are required." >&2
    exit 1
fi
if grep -q "Internal Server Error\|Traceback" "$work/gunicorn.log"; then
    echo "the server logged an error during schemathesis:" >&2
    grep -B2 -A20 "Internal Server Error\|Traceback" "$work/gunicorn.log" | head -n 60 >&2
    exit 1
fi
# The jobs the fuzzer enqueued run on the real worker, which must drain them and exit.
timeout 120 "${manage[@]}" db_worker --batch --no-startup-delay --no-reload -v 0 >"$work/worker.log"

echo
echo "All server checks passed in $((SECONDS - started)) s ($cases schemathesis cases)."
