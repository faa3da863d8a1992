#!/usr/bin/env bash
# Sets up everything (scripts/setup.sh) and runs every test and check of Steward:
# formatting and lints (rustfmt, prettier, clippy, eslint, ruff), the reference server's
# suite (SQLite, PostgreSQL, OpenAPI drift, schemathesis), the UI's checks and unit
# tests, the desktop build, the Rust tests against the real server with a real keychain,
# the short load test (scripts/load-test.sh) and the end-to-end tests of the built app.
#
#   scripts/test.sh                  # what README and CI run
#   TEST_SKIP_SETUP=1 scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$ROOT/.tools/bin:$PATH" STEWARD_PYTHON="$ROOT/.venv/bin/python"
started=$(date +%s)
step() { echo; echo "=== test: $* ($(date +%T), +$(( $(date +%s) - started ))s)"; }

[ "${TEST_SKIP_SETUP:-0}" = 1 ] || scripts/setup.sh

step "rustfmt"
cargo fmt --all -- --check

step "ui: prettier and eslint (with their Svelte plugins)"
npm --prefix ui run --silent format:check
npm --prefix ui run --silent lint

step "reference server: ruff, pytest on SQLite and PostgreSQL, OpenAPI drift, schemathesis"
bash server/scripts/test.sh

step "bench: ruff on the benchmarks' Python (bench/ruff.toml, the server's rules)"
.venv/bin/ruff check bench
.venv/bin/ruff format --check bench

step "ui: svelte-check, vitest"
npm --prefix ui run --silent check
npm --prefix ui test

step "desktop app: vite build + cargo build through the Tauri CLI"
npm --prefix ui run tauri -- build --debug --no-bundle

step "clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "rust tests (real server, real keychain and notifications in a private D-Bus session)"
scripts/with-desktop-session.sh cargo test --workspace --locked

step "load test, short: 20 engines and 200 light clients, two web and two events processes on PostgreSQL"
# scripts/load-test.sh --full runs the long version (not in CI).
scripts/load-test.sh

step "benchmarks, quick: every scenario of scripts/bench.sh once at its smallest size"
# Not a measurement (debug builds, tiny sizes, a busy machine): it keeps the scripts from
# rotting. scripts/bench.sh without --quick is the real run (bench/README.md).
scripts/bench.sh --quick

step "end-to-end: the built app through tauri-driver under Xvfb"
# Bounded: a hung WebDriver session must fail this step, not eat the whole CI budget.
timeout --kill-after=30s 30m scripts/with-desktop-session.sh npm --prefix e2e test

step "all tests passed in $(( $(date +%s) - started ))s"
