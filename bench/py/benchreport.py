"""The report every side-by-side benchmark writes (scripts/bench.sh), in Python.

One JSON file per scenario run, bench/results/<scenario>[-quick]-<UTC time>.json:

    {
      "scenario": "server-feeds",          # the name scripts/bench.sh knows it by
      "mode": "quick" | "full",
      "commit": "abc1234", "dirty": false,
      "machine": {"cpu": ..., "cores": 2, "memory_gib": 23.5, "kernel": ..., "python": ...},
      "load_average": {"start": [1m, 5m, 15m], "end": [1m, 5m, 15m]},
      "started_at": "...Z", "seconds": 12.3,
      "rows": [ one per measurement beside its baseline, see `row` ],
      ...anything else the scenario wants to keep (sizes, settings, raw samples)
    }

Every ratio sits under a key containing "ratio"; a ratio above 1 always means Steward
did better than the baseline (faster, or more rows per second), whatever the unit, so
a reader never has to ask which way round it is. `goal_ratio` is the ratio the issue
asks for and `meets` says plainly whether it was reached; a missed goal is reported,
never tuned away.

The Rust (bench/src/report.rs) and Node (bench/ui-latency/report.mjs) versions write
the same shape; bench/summarize.py turns the newest file of each scenario into the
table in bench/README.md.
"""

import json
import os
import platform
import statistics
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"


def load_average():
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return list(os.getloadavg())


def machine():
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": memory,
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def commit():
    def git(*args):
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return out.stdout.strip()

    return git("rev-parse", "--short", "HEAD"), bool(
        git("status", "--porcelain", "--untracked-files=no")
    )


def spread(values):
    """[min, max] of a list of per-round figures, rounded."""
    return [round(min(values), 3), round(max(values), 3)] if values else None


def percentile(values, p):
    """The p-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def row(
    name,
    steward,
    baseline_name,
    baseline,
    unit,
    *,
    higher_is_better,
    goal_ratio=None,
    goal=None,
    round_ratios=None,
    **extra,
):
    """One measurement beside its baseline.

    `steward` and `baseline` are the medians (over rounds or samples) in `unit`; `ratio`
    is baseline/steward for times and steward/baseline for rates (so above 1 is better);
    `round_ratios` are the per-round ratios of an interleaved run, whose median and range
    are reported as `ratio_median_of_rounds` and `ratio_spread`. `goal_ratio` is the
    ratio the goal asks for (`meets` is ratio >= goal_ratio); `goal` says it in words,
    for goals that are not a ratio to this baseline (then pass `meets` in `extra`).
    """
    ratio = (steward / baseline) if higher_is_better else (baseline / steward)
    out = {
        "name": name,
        "steward": round(steward, 3),
        "baseline_name": baseline_name,
        "baseline": round(baseline, 3),
        "unit": unit,
        "ratio": round(ratio, 3),
    }
    if round_ratios:
        out["ratio_median_of_rounds"] = round(statistics.median(round_ratios), 3)
        out["ratio_spread"] = spread(round_ratios)
    if goal_ratio is not None:
        out["goal_ratio"] = goal_ratio
        out["meets"] = ratio >= goal_ratio
    if goal is not None:
        out["goal"] = goal
    out.update(extra)
    return out


class Report:
    """Collects rows and writes the scenario's file. Use as a context manager:

    with Report("server-feeds", quick=args.quick) as report:
        report.rows.append(row(...))
        report.extra["items"] = 100_000
    """

    def __init__(self, scenario, quick=False):
        self.scenario = scenario
        self.quick = quick
        self.rows = []
        self.extra = {}
        self.path = None

    def __enter__(self):
        self._started = time.monotonic()
        self._started_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._load_start = load_average()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.write()
        return False

    def write(self):
        sha, dirty = commit()
        body = {
            "scenario": self.scenario,
            "mode": "quick" if self.quick else "full",
            "commit": sha,
            "dirty": dirty,
            "machine": machine(),
            "load_average": {"start": self._load_start, "end": load_average()},
            "started_at": self._started_at,
            "seconds": round(time.monotonic() - self._started, 1),
            "rows": self.rows,
            **self.extra,
        }
        RESULTS.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        suffix = "-quick" if self.quick else ""
        self.path = RESULTS / f"{self.scenario}{suffix}-{stamp}.json"
        self.path.write_text(json.dumps(body, indent=2) + "\n")
        for r in self.rows:
            verdict = (
                "" if "meets" not in r else (" (meets)" if r["meets"] else " (MISSES the goal)")
            )
            print(
                f"{r['name']}: steward {r['steward']} {r['unit']} | "
                f'baseline "{r["baseline_name"]}" '
                f"{r['baseline']} {r['unit']} | ratio {r['ratio']}x{verdict}"
            )
        print(f"{self.scenario}: report written to {self.path.relative_to(ROOT)}")
        return self.path
