#!/usr/bin/env bash
# The outbox-flush benchmark (bench/src/bin/flush.rs): decisions made offline and sent in
# batches, against the single-decision endpoint's own throughput, on PostgreSQL with the
# Procfile's web processes (scripts/scale-stack.sh), in a private desktop session.
#
#   scripts/bench-flush.sh            # 10,000 decisions a side (and 1,000 at 50 ms); seeds 28,000 items
#   scripts/bench-flush.sh --quick    # 1,000 a side
#
# Report: bench/results/flush[-quick]-<time>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=""
[ "${1:-}" = --quick ] && quick=--quick
# BENCH_PROFILE=debug reuses the test build (scripts/bench.sh --quick, in CI).
profile=${BENCH_PROFILE:-release}
cargo build -q --locked --profile "$([ "$profile" = debug ] && echo dev || echo release)" -p steward-bench --bin flush
work=$(mktemp -d "${TMPDIR:-/tmp}/steward-flush.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
export SCALE_DIR=$work/stack SCALE_PASSWORD=load-password LOAD_PASSWORD=load-password
export SCALE_ITEMS=${SCALE_ITEMS:-$([ -n "$quick" ] && echo 3000 || echo 28000)}
export SCALE_AUDIT=${SCALE_AUDIT:-0} SCALE_JOBS=${SCALE_JOBS:-0}
export SCALE_WEB=${SCALE_WEB:-2} SCALE_EVENTS=0 SCALE_PROCESSES=web
scripts/with-desktop-session.sh scripts/scale-stack.sh "target/$profile/flush" $quick
