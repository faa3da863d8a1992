#!/usr/bin/env bash
# The long versions of the suites CI runs short (STEWARD_LONG_TESTS=1), for before a
# release or after touching the sync: the outbox model at 10,000 schedules, the fuzzers at
# 50,000-100,000 cases each, the fault matrix at 1,000 runs, and the full load test. Reports go to tests/results/ and
# bench/results/. Takes about an hour and a half on 2 cores.
#
#   scripts/test-long.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export STEWARD_LONG_TESTS=1 STEWARD_PYTHON="$PWD/.venv/bin/python"
echo "=== long: fuzzing the SSE parser and the push rules (100,000 cases each)"
cargo test --locked -p steward-core --test fuzz
echo "=== long: fuzzing the engine's decoding of server answers (50,000 cases a type)"
cargo test --locked -p steward-engine --lib records_fuzz
echo "=== long: the outbox model, 10,000 schedules"
scripts/with-desktop-session.sh cargo test --locked -p steward-engine --test engine model -- --nocapture
echo "=== long: the fault matrix, 1,000 runs"
scripts/with-desktop-session.sh cargo test --locked -p steward-engine --test engine fault -- --nocapture
echo "=== long: the full load test"
scripts/load-test.sh --full
