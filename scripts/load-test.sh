#!/usr/bin/env bash
# The load test: many staff against several server processes on one PostgreSQL, started
# from the Procfile by scripts/scale-stack.sh (the deployment layout of docs/deploy.md),
# inside a private desktop session (each engine keeps its token in the real keychain).
# See bench/src/bin/load/main.rs for what it checks and measures.
#
#   scripts/load-test.sh          # the short version (CI): 20 engines, 200 light clients for 15 s
#   scripts/load-test.sh --full   # 40 engines on twice the items, 200 light clients for 2 minutes
#
# The report goes to bench/results/load-{short,full}-<time>.json. Exit status: non-zero
# when any check fails. Knobs: SCALE_WEB and SCALE_EVENTS (processes of each kind, 2),
# SCALE_ITEMS (seeded items: 300 short, 600 full), SCALE_PORT (honcho's base port).
set -euo pipefail
cd "$(dirname "$0")/.."
full=""
profile=(--profile dev)
bin=target/debug/load
if [ "${1:-}" = --full ]; then
  full=--full
  profile=(--release)
  bin=target/release/load
fi
cargo build -q --locked -p steward-bench --bin load "${profile[@]}"

# 200 light clients hold a stream and a request each, through the front door and back.
ulimit -n 16384 2>/dev/null || ulimit -n "$(ulimit -Hn)"
work=$(mktemp -d "${TMPDIR:-/tmp}/steward-load.XXXXXX")
trap '[ "${status:-1}" = 0 ] && rm -rf "$work" || echo "load test: logs kept in $work" >&2' EXIT
chmod 755 "$work"
export SCALE_DIR=$work/stack
export SCALE_PASSWORD=load-password LOAD_PASSWORD=load-password
export SCALE_ITEMS=${SCALE_ITEMS:-$([ -n "$full" ] && echo 600 || echo 300)}
export SCALE_AUDIT=${SCALE_AUDIT:-2000}
export SCALE_WEB=${SCALE_WEB:-2} SCALE_EVENTS=${SCALE_EVENTS:-2}
# The clock and job workers are part of the layout but not of this load.
export SCALE_PROCESSES=${SCALE_PROCESSES:-web,events}
status=0
scripts/with-desktop-session.sh scripts/scale-stack.sh "$bin" $full || status=$?
if [ "$status" -ne 0 ]; then
  echo "load test failed (exit $status); the server processes' last lines:" >&2
  tail -n 40 "$SCALE_DIR/honcho.log" >&2 || true
fi
exit "$status"
