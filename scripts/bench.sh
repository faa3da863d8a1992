#!/usr/bin/env bash
# Issue 16's benchmarks, each scenario beside its baseline measured in the same run, the
# two sides interleaved (A B A B), every result printed as a ratio and written to
# bench/results/ as JSON; a full run then writes the latest table into bench/README.md
# (bench/summarize.py).
#
#   scripts/bench.sh                  # full sizes (hours: seeds 10M audit events and 1M items)
#   scripts/bench.sh --quick          # the smallest sizes, once, so the scripts cannot rot (CI)
#   scripts/bench.sh [--quick] client flush     # some scenarios only
#
# Scenarios, in order:
#   client        on PostgreSQL seeded with 100k items and 1M audit events: bootstrap sync
#                 (against a bare client), audit search in the engine and in the app
#                 (against the Django admin's changelist search), triage in the app
#                 (against the admin's action round trip and an innerHTML floor), memory
#                 and cold start (against a minimal Tauri app)
#   client-large  the same at 1M items and 10M audit events (full mode only)
#   flush         the outbox flush against the decision endpoint (scripts/bench-flush.sh)
#   server-feeds  Steward's delta feeds against plain DRF list endpoints
#   jobs-scale    jobs counts, the failed list and retry-all over 5M jobs, on the server
#                 and in the desktop's cache
#
# Full mode uses release builds of the app, the minimal app and the bench; quick mode
# the debug builds the tests use. Run it on a quiet machine: the numbers are only as
# good as the machine is idle, which is why each report keeps the load average.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$ROOT/.tools/bin:$PATH" STEWARD_PYTHON="$ROOT/.venv/bin/python"
quick=""
scenarios=()
for arg in "$@"; do
  case "$arg" in
    --quick) quick=--quick ;;
    client | client-large | flush | server-feeds | jobs-scale) scenarios+=("$arg") ;;
    *) echo "bench.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done
[ ${#scenarios[@]} -gt 0 ] || scenarios=(client client-large flush server-feeds jobs-scale)
started=$(date +%s)
step() { echo; echo "=== bench: $* ($(date +%T), +$(( $(date +%s) - started ))s)"; }
wants() { local s; for s in "${scenarios[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }

if [ -n "$quick" ]; then
  profile=debug cargo_profile=dev tauri_flags=(--debug --no-bundle)
else
  profile=release cargo_profile=release tauri_flags=(--no-bundle)
fi
export BENCH_PROFILE=$profile

if wants client || wants client-large; then
  step "builds ($profile): the app, the minimal Tauri app, the bench binaries"
  npm --prefix ui run tauri -- build "${tauri_flags[@]}" >/dev/null
  cargo build -q --locked --profile "$cargo_profile" -p steward-minimal-app --features custom-protocol
  cargo build -q --locked --profile "$cargo_profile" -p steward-bench --bin bootstrap --bin search_vs_admin
fi

# One stack (scripts/scale-stack.sh: PostgreSQL seeded by seed_demo, the Procfile's web
# process) per size; inside it the engine scenarios, then the app's.
client_scenarios() {
  local items=$1 audit=$2 rounds=$3 only=$4 work
  work=$(mktemp -d "${TMPDIR:-/tmp}/steward-bench.XXXXXX")
  chmod 755 "$work"
  cat >"$work/run.sh" <<EOF
set -euo pipefail
target/$profile/bootstrap $quick --rounds $rounds --keep "$work/cache"
target/$profile/search_vs_admin $quick --cache "$work/cache"
APP_BIN=target/$profile/steward MINIMAL_APP_BIN=target/$profile/steward-minimal-app \
  node bench/ui-latency/scenarios.mjs $quick --only $only
EOF
  # The admin's slowest searches at 10M events take longer than gunicorn's default
  # 30 s worker timeout; the bench lets them finish and reports their time.
  SCALE_DIR="$work/stack" SCALE_ITEMS=$items SCALE_AUDIT=$audit SCALE_JOBS=200 \
    SCALE_WEB=1 SCALE_EVENTS=1 SCALE_PASSWORD=bench-password WEB_TIMEOUT=900 \
    scripts/with-desktop-session.sh scripts/scale-stack.sh bash "$work/run.sh"
  rm -rf "$work"
}

if wants client; then
  if [ -n "$quick" ]; then
    step "client scenarios, quick: 2,000 items and 20,000 audit events"
    client_scenarios 2000 20000 2 triage,audit,memory
  else
    step "client scenarios: 100,000 items and 1,000,000 audit events"
    client_scenarios 100000 1000000 3 triage,audit,memory
  fi
fi
if wants client-large && [ -z "$quick" ]; then
  step "client scenarios, large: 1,000,000 items and 10,000,000 audit events"
  client_scenarios 1000000 10000000 1 triage,audit
fi
if wants flush; then
  step "outbox flush"
  if [ -n "$quick" ]; then BENCH_FLUSH_PER_SIDE=200 scripts/bench-flush.sh --quick; else scripts/bench-flush.sh; fi
fi
if wants server-feeds; then
  step "server list endpoints"
  .venv/bin/python bench/py/server_feeds.py $quick
fi
if wants jobs-scale; then
  step "jobs at scale: the server (5M jobs), then the desktop's jobs screen over 5M cached jobs"
  .venv/bin/python bench/py/jobs_scale.py $quick
  cargo build -q --locked --profile "$cargo_profile" -p steward-bench --bin jobs_local
  "target/$profile/jobs_local" $quick
fi

if [ -z "$quick" ]; then
  step "the latest table into bench/README.md"
  .venv/bin/python bench/summarize.py
else
  .venv/bin/python bench/summarize.py --quick >/dev/null
fi
step "done in $(( $(date +%s) - started ))s"
