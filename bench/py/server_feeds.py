"""Scenario "server-feeds" (issue 16, scenario 6): rows per second of Steward's delta
feeds against plain DRF list endpoints over the same rows, under the same server.

    .venv/bin/python bench/py/server_feeds.py           # full size (about half an hour)
    .venv/bin/python bench/py/server_feeds.py --quick   # small, about a minute (CI)

It starts a throwaway PostgreSQL, seeds it with `seed_demo` (items with their reports,
audit events, jobs), and starts the demo server under gunicorn as the Procfile's `web`
line does, with the benchmark's project (bench/py/benchsite), which mounts the baseline
endpoints beside Steward's API. The baseline (benchsite/baseline.py) is what a product
writes with DRF: a ModelSerializer per model, a ListAPIView and DRF's CursorPagination,
over the same rows, with the same authentication and 500 rows a page.

One pass pages through every row of one collection as a client does (Steward: the delta
feed from the start, following next_cursor; baseline: following `next`), over real HTTP.
A pass's time is the sum of its requests, from sending each to its last byte received:
what the server delivers. Parsing each page (to follow it) is left out on both sides: the
desktop parses with serde, many times faster than this Python client, whose parse would
otherwise weigh the same on both sides and hide the server's difference. After one
warm-up pass of each side, every round runs each collection
Steward then baseline (A B A B ...). Reported per collection and for all three together:
the median rows per second of each side over the rounds, their spread, and the ratio
(Steward / baseline; the goal is at least 2).
"""

import argparse
import json
import statistics
import sys

from benchreport import Report, row, spread
from benchstack import Stack, say

FULL = {"items": 100_000, "audit": 1_000_000, "jobs": 100_000, "rounds": 5}
QUICK = {"items": 2_000, "audit": 20_000, "jobs": 2_000, "rounds": 3}
GOAL = 2.0
PAGE = 500

# (collection, Steward's feed, its cursor parameter, the baseline endpoint)
FEEDS = [
    ("items", "/api/v1/items", "updated_after", "/bench-baseline/items"),
    ("audit", "/api/v1/audit", "cursor", "/bench-baseline/audit"),
    ("jobs", "/api/v1/jobs", "updated_after", "/bench-baseline/jobs"),
]


def steward_pass(web, token, path, cursor_param):
    """Every row of a Steward feed from the start: (rows, bytes, seconds in requests)."""
    rows = size = 0
    cursor = None
    seconds = 0.0
    while True:
        params = {"limit": PAGE, cursor_param: cursor}
        query = "&".join(f"{k}={v}" for k, v in params.items() if v is not None)
        _, raw, took = web.request("GET", f"{path}?{query}", token)
        seconds += took
        page = json.loads(raw)
        rows += len(page["results"])
        size += len(raw)
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    return rows, size, seconds


def baseline_pass(web, token, path):
    """Every row of a DRF cursor-paginated list: (rows, bytes, seconds in requests)."""
    rows = size = 0
    url = path
    seconds = 0.0
    while url:
        _, raw, took = web.request("GET", url, token)
        seconds += took
        page = json.loads(raw)
        rows += len(page["results"])
        size += len(raw)
        url = page["next"].removeprefix(web.base) if page["next"] else None
    return rows, size, seconds


def measure(web, token, rounds):
    """{collection: {"steward": [(rows, bytes, s)...], "baseline": [...]}}, warm-up first."""
    for name, path, param, baseline in FEEDS:
        say(f"warm-up: {name}")
        steward_pass(web, token, path, param)
        baseline_pass(web, token, baseline)
    samples = {name: {"steward": [], "baseline": []} for name, *_ in FEEDS}
    for number in range(1, rounds + 1):
        for name, path, param, baseline in FEEDS:
            a = steward_pass(web, token, path, param)
            b = baseline_pass(web, token, baseline)
            samples[name]["steward"].append(a)
            samples[name]["baseline"].append(b)
            say(
                f"round {number}/{rounds} {name}: steward {a[0] / a[2]:.0f} rows/s, "
                f"baseline {b[0] / b[2]:.0f} rows/s"
            )
    return samples


def rates(passes):
    return [rows / seconds for rows, _, seconds in passes]


def result_row(name, steward_passes, baseline_passes):
    a, b = rates(steward_passes), rates(baseline_passes)
    rows_a = {p[0] for p in steward_passes}
    rows_b = {p[0] for p in baseline_passes}
    if rows_a != rows_b or len(rows_a) != 1:
        raise RuntimeError(f"{name}: the two sides served different rows ({rows_a} / {rows_b})")
    return row(
        f"{name}: rows per second, paging through all {rows_a.pop():,}",
        statistics.median(a),
        "DRF ModelSerializer + ListAPIView + CursorPagination",
        statistics.median(b),
        "rows/s",
        higher_is_better=True,
        goal_ratio=GOAL,
        round_ratios=[x / y for x, y in zip(a, b, strict=True)],
        steward_spread=spread(a),
        baseline_spread=spread(b),
        steward_bytes_per_row=round(steward_passes[0][1] / steward_passes[0][0]),
        baseline_bytes_per_row=round(baseline_passes[0][1] / baseline_passes[0][0]),
    )


def combined(samples, side):
    """Rows per second over all three collections, per round."""
    out = []
    for index in range(len(next(iter(samples.values()))[side])):
        rows = sum(samples[name][side][index][0] for name in samples)
        seconds = sum(samples[name][side][index][2] for name in samples)
        out.append((rows, sum(samples[name][side][index][1] for name in samples), seconds))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (what CI runs)")
    parser.add_argument("--rounds", type=int, help="rounds of A B (default 5, quick 3)")
    for name in ("items", "audit", "jobs"):
        parser.add_argument(f"--{name}", type=int, help=f"rows of {name} to seed")
    args = parser.parse_args(argv)
    sizes = dict(QUICK if args.quick else FULL)
    for name in ("items", "audit", "jobs", "rounds"):
        if getattr(args, name):
            sizes[name] = getattr(args, name)

    with (
        Report("server-feeds", quick=args.quick) as report,
        Stack("server-feeds") as stack,
    ):
        report.extra["sizes"] = sizes
        report.extra["page_size"] = PAGE
        stack.manage(
            "seed_demo",
            "--items",
            str(sizes["items"]),
            "--audit",
            str(sizes["audit"]),
            "--jobs",
            str(sizes["jobs"]),
        )
        stack.psql("VACUUM ANALYZE")
        with stack.web(settings="benchsite.settings") as web:
            token = web.login("admin", "admin-demo")
            samples = measure(web, token, sizes["rounds"])
        for name, *_ in FEEDS:
            report.rows.append(
                result_row(name, samples[name]["steward"], samples[name]["baseline"])
            )
        report.rows.append(
            result_row(
                "all three feeds",
                combined(samples, "steward"),
                combined(samples, "baseline"),
            )
        )
        report.extra["samples"] = {
            name: {
                side: [{"rows": r, "bytes": n, "seconds": round(s, 3)} for r, n, s in passes]
                for side, passes in sides.items()
            }
            for name, sides in samples.items()
        }
    return 0


if __name__ == "__main__":
    sys.exit(main())
