#!/usr/bin/env python3
"""Writes the latest side-by-side results into bench/README.md (between the markers
`<!-- bench:latest:start -->` and `<!-- bench:latest:end -->`): for each scenario, the
newest report in bench/results/ of the mode asked for (full by default), one table row
per measurement beside its baseline, with the ratio, its spread over the rounds, the
goal and whether it was met, and each report's commit, date and load average.

    .venv/bin/python bench/summarize.py            # full-size reports into the README
    .venv/bin/python bench/summarize.py --quick    # quick reports, printed only
"""

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
README = ROOT / "bench" / "README.md"
START, END = "<!-- bench:latest:start -->", "<!-- bench:latest:end -->"
# scripts/bench.sh's order; reports of other scenarios follow.
ORDER = [
    "audit-search",
    "audit-search-ui",
    "triage",
    "bootstrap",
    "flush",
    "memory-start",
    "server-feeds",
    "jobs-scale",
    "jobs-local",
]


def reports(mode):
    newest = {}
    for path in sorted(RESULTS.glob("*.json")):
        try:
            body = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(body, dict) or "rows" not in body or body.get("mode") != mode:
            continue
        key = (body["scenario"], size_of(body))
        if key not in newest or body.get("started_at", "") >= newest[key].get("started_at", ""):
            newest[key] = body
    rank = {name: n for n, name in enumerate(ORDER)}
    return sorted(newest.values(), key=lambda b: (rank.get(b["scenario"], 99), size_of(b)))


def size_of(body):
    """Scenarios run at two sizes (100k items / 1M events, then 1M / 10M) keep both."""
    for key in ("events", "items_cached"):
        if key in body:
            return int(body[key])
    totals = body.get("server_totals") or {}
    return int(totals.get("audit", 0))


def number(value):
    if value is None:
        return ""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(bodies):
    lines = [
        "| scenario | measurement | Steward | baseline | ratio (rounds) | goal | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for body in bodies:
        for r in body["rows"]:
            rounds = ""
            if r.get("ratio_spread"):
                low, high = r["ratio_spread"]
                rounds = f" ({number(low)}-{number(high)})"
            goal = r.get("goal") or (f"ratio >= {r['goal_ratio']}" if "goal_ratio" in r else "")
            met = {True: "yes", False: "**no**", None: ""}[r.get("meets")]
            unit = r["unit"]
            lines.append(
                f"| {body['scenario']} | {r['name']} | {number(r['steward'])} {unit} | "
                f"{r['baseline_name']}: {number(r['baseline'])} {unit} | "
                f"**{number(r['ratio'])}x**{rounds} | {goal} | {met} |"
            )
    lines.append("")
    lines.append(
        "Reports (bench/results/): "
        + "; ".join(
            f"{b['scenario']} at {b.get('commit', '?')}{' (dirty)' if b.get('dirty') else ''}, "
            f"{b.get('started_at', '?')}, "
            f"load {'/'.join(str(x) for x in b['load_average']['start'])}"
            f" -> {'/'.join(str(x) for x in b['load_average']['end'])}"
            for b in bodies
        )
        + "."
    )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the quick reports, printed only")
    args = parser.parse_args(argv)
    bodies = reports("quick" if args.quick else "full")
    if not bodies:
        print("no reports of that mode in bench/results/", file=sys.stderr)
        return 1
    text = table(bodies)
    print(text)
    if args.quick:
        return 0
    readme = README.read_text()
    if START not in readme or END not in readme:
        print(f"bench/README.md has no {START} ... {END} markers", file=sys.stderr)
        return 1
    before, rest = readme.split(START, 1)
    _, after = rest.split(END, 1)
    README.write_text(f"{before}{START}\n{text}\n{END}{after}")
    print("bench/README.md: the latest table is written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
