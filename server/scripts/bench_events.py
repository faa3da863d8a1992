# ruff: noqa: S310, S603, S607 - a benchmark that runs git and a local server it started
"""What live updates cost: streams one process holds, database load of idle streams, and
what NOTIFY adds to a write. Before/after in one run, on PostgreSQL.

    DATABASE_URL=<a THROWAWAY PostgreSQL database> .venv/bin/python server/scripts/bench_events.py

It exports two copies of the server from git into a temporary directory: "after", the
server at BENCH_REV (default HEAD), and "before", the same copy with the event stream
of BENCH_BEFORE_REV (default: the commit before the per-process hub) in place of
steward/events/ (the stream that polled six queries a second per connection). It then:

  writes   migrates and seeds the database with "after", and times single-row UPDATEs of
           items (autocommit) and decisions (services.decide_item, one transaction each)
           with the NOTIFY trigger enabled and disabled, interleaved round by round,
           while a LISTEN connection drains the notifications (as the hub's does);
  streams  starts one uvicorn process of each copy in turn on that database, for each of
           BENCH_CONFIGS (nopool: DATABASE_POOL=0, the demo's settings before it had a pool;
           pool: the demo's psycopg pool of at most 4 connections per process), opens
           BENCH_IDLE (500) SSE streams, each of its own session, and counts, over
           BENCH_WINDOW (30) seconds of idleness after BENCH_SETTLE (15), the database's
           committed transactions (pg_stat_database.xact_commit: each query of either
           version runs in autocommit, so it is one transaction per query), its
           connections, the server's threads and memory; then makes one decision through
           the API and times its poke to every stream (from the request's start). "after"
           then grows to BENCH_HOLD (2000) streams and pokes them again.

Results go to bench/results/events-<date>.json and are printed. Knobs: BENCH_ITEMS (3000),
BENCH_ROUNDS (5), BENCH_WRITES (300 per round and side), BENCH_IDLE, BENCH_HOLD,
BENCH_WINDOW, BENCH_SETTLE, BENCH_CONFIGS, BENCH_REV, BENCH_BEFORE_REV.
"""

import asyncio
import datetime
import io
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ITEMS = int(os.environ.get("BENCH_ITEMS", 3000))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 5))
WRITES = int(os.environ.get("BENCH_WRITES", 300))
IDLE = int(os.environ.get("BENCH_IDLE", 500))
HOLD = int(os.environ.get("BENCH_HOLD", 2000))
WINDOW = float(os.environ.get("BENCH_WINDOW", 30))
SETTLE = float(os.environ.get("BENCH_SETTLE", 15))
CONFIGS = os.environ.get("BENCH_CONFIGS", "nopool,pool").split(",")
REV = os.environ.get("BENCH_REV", "HEAD")
CHANGED = re.compile(rb"event: changed\ndata: (\{[^\n]*\})\n")


def git(*args) -> bytes:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True).stdout


def before_rev() -> str:
    if os.environ.get("BENCH_BEFORE_REV"):
        return os.environ["BENCH_BEFORE_REV"]
    added = git(
        "log", "--diff-filter=A", "--format=%H", "-1", REV, "--", "server/steward/events/hub.py"
    )
    return added.decode().strip() + "^"


def export(rev: str, directory: Path) -> Path:
    with tarfile.open(fileobj=io.BytesIO(git("archive", rev, "server"))) as archive:
        archive.extractall(directory, filter="data")
    return directory / "server"


def make_copies(work: Path) -> dict:
    after = export(REV, work / "after")
    before = export(REV, work / "before")
    shutil.rmtree(before / "steward" / "events")
    (before / "steward" / "events.py").write_bytes(
        git("show", f"{before_rev()}:server/steward/events.py")
    )
    # Its migration imports the new package; "before" only serves, it never migrates.
    (before / "steward" / "migrations" / "0009_notify_changed.py").unlink()
    return {"before": before, "after": after}


work = Path(tempfile.mkdtemp(prefix="bench-events-"))
COPIES = make_copies(work)
sys.path.insert(0, str(COPIES["after"]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from steward import auth, feed_stamps  # noqa: E402
from steward.events import notify  # noqa: E402
from steward.events.listener import connection_params  # noqa: E402
from steward.models import Item, TokenFamily  # noqa: E402
from steward.operations import serialize_item  # noqa: E402
from steward.services import items as item_services  # noqa: E402


def set_notifying(enabled: bool):
    verb = "ENABLE" if enabled else "DISABLE"
    with connection.cursor() as cursor:
        for table in feed_stamps.FEED_TABLES:
            cursor.execute(f"ALTER TABLE {table} {verb} TRIGGER {notify.PG_TRIGGER}")


def drain_notifications(stop: threading.Event, counted: list):
    with psycopg.connect(autocommit=True, **connection_params()) as conn:
        conn.execute(f"LISTEN {notify.CHANNEL}")
        while not stop.is_set():
            counted[0] += sum(1 for _ in conn.notifies(timeout=0.2))


def bench_writes() -> dict:
    admin = get_user_model().objects.get(username="admin")
    open_ids = list(Item.objects.filter(state="open", version=1).values_list("id", flat=True))
    all_ids = list(Item.objects.values_list("id", flat=True))
    stop, heard = threading.Event(), [0]
    drainer = threading.Thread(target=drain_notifications, args=(stop, heard), daemon=True)
    drainer.start()
    times = {}
    try:
        for round_number in range(ROUNDS):
            order = (False, True) if round_number % 2 else (True, False)
            for enabled in order:
                set_notifying(enabled)
                side = "notify" if enabled else "no_notify"
                start = (round_number * 2 + enabled) * WRITES
                ids = [all_ids[n % len(all_ids)] for n in range(start, start + WRITES)]
                began = time.perf_counter()
                for item_id in ids:
                    Item.objects.filter(pk=item_id).update(title="bench", updated_at=timezone.now())
                times.setdefault(f"update_{side}", []).append(
                    (time.perf_counter() - began) / len(ids)
                )
                decided, open_ids = open_ids[: WRITES // 4], open_ids[WRITES // 4 :]
                began = time.perf_counter()
                for item_id in decided:
                    with transaction.atomic():
                        item_services.decide_item(
                            admin, item_id, "approve", "", "", 1, serialize_item
                        )
                times.setdefault(f"decision_{side}", []).append(
                    (time.perf_counter() - began) / max(len(decided), 1)
                )
    finally:
        set_notifying(True)
        stop.set()
        drainer.join(5)
    result = {f"{name}_ms": statistics.median(v) * 1000 for name, v in times.items()}
    for kind in ("update", "decision"):
        result[f"{kind}_notify_ratio"] = (
            result[f"{kind}_notify_ms"] / result[f"{kind}_no_notify_ms"]
        )
    result["notifications_heard"] = heard[0]
    return result


def issue_tokens(username: str, count: int) -> list[str]:
    user = get_user_model().objects.get(username=username)
    tokens = []
    for _ in range(count):
        family = TokenFamily.objects.create(user=user)
        tokens.append(auth._issue_pair(family, timezone.now()).access_token)
    return tokens


def database_name() -> str:
    return connection.settings_dict["NAME"]


def stats_connection():
    params = connection_params()
    params["dbname"] = "postgres"
    params["application_name"] = "bench-events-stats"
    return psycopg.connect(autocommit=True, **params)


def committed(stats) -> int:
    stats.execute("SELECT pg_stat_clear_snapshot()")
    return stats.execute(
        "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s",
        [database_name()],
    ).fetchone()[0]


def connections_to_database(stats) -> dict:
    """How many connections the database has, by application and state."""
    rows = stats.execute(
        "SELECT application_name, state, count(*) FROM pg_stat_activity WHERE datname = %s "
        "GROUP BY 1, 2 ORDER BY 1, 2",
        [database_name()],
    ).fetchall()
    return {
        "total": sum(count for *_, count in rows),
        "kinds": {f"{name or '-'} ({state})": count for name, state, count in rows},
    }


def process_status(pid: int) -> dict:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "Threads"):
            fields[name] = int(value.split()[0])
    return {"threads": fields["Threads"], "rss_mib": round(fields["VmRSS"] / 1024, 1)}


class Server:
    def __init__(self, copy: Path, port: int, pool: bool):
        env = dict(os.environ, DJANGO_ALLOWED_HOSTS="127.0.0.1", STEWARD_ACCESS_TOKEN_TTL="3600")
        env["DATABASE_POOL"] = "1" if pool else "0"
        env.pop("PYTHONPATH", None)
        name = f"uvicorn-{copy.parent.name}-{'pool' if pool else 'nopool'}.log"
        self.log = open(work / name, "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "demo.asgi:application", "--host", "127.0.0.1"]
            + ["--port", str(port), "--log-level", "warning", "--backlog", "4096"],
            cwd=copy,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.base = f"http://127.0.0.1:{port}/api/v1"
        self.port = port
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(self.base + "/schema", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.2)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


class Stream:
    """One SSE connection over a raw socket: the time of every `changed` event."""

    def __init__(self):
        self.events = []  # (monotonic time, collection)
        self.ended = False
        self.status = None

    async def run(self, port: int, token: str):
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            self.ended = True
            return
        writer.write(
            (
                "GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
            ).encode()
        )
        buffer = b""
        try:
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                now = time.monotonic()
                buffer += chunk
                if self.status is None and b"\r\n" in buffer:
                    self.status = int(buffer.split(b" ", 2)[1])
                end = 0
                for match in CHANGED.finditer(buffer):
                    self.events.append((now, json.loads(match.group(1))["collection"]))
                    end = match.end()
                buffer = buffer[end:] if end else buffer[-4096:]
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            self.ended = True
            writer.close()

    def initial(self) -> bool:
        return len(self.events) >= 3


async def open_streams(port, tokens, tasks, streams, timeout=120):
    began = time.monotonic()
    new = []
    for token in tokens:
        stream = Stream()
        new.append(stream)
        tasks.append(asyncio.create_task(stream.run(port, token)))
        if len(new) % 50 == 0:
            await asyncio.sleep(0.05)
    streams.extend(new)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not all(s.initial() or s.ended for s in new):
        await asyncio.sleep(0.2)
    return {
        "asked": len(new),
        "opened": sum(1 for s in new if s.initial() and not s.ended),
        "seconds": round(time.monotonic() - began, 2),
    }


def decide_through_api(base: str, token: str, item_id: int, version: int):
    request = urllib.request.Request(
        f"{base}/items/{item_id}/decisions",
        data=json.dumps({"action": "approve", "base_version": version}).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=60).close()


async def poke(server, token, item, streams, timeout=30) -> dict:
    live = [s for s in streams if s.initial() and not s.ended]
    before = {id(s): len(s.events) for s in live}
    # From the start of the request: NOTIFY fires at the decision's commit, and the pokes
    # can arrive before its HTTP answer does.
    decided = time.monotonic()
    try:
        await asyncio.to_thread(decide_through_api, server.base, token, *item)
    except OSError as error:  # the old stream can leave no connection for the decision
        return {"streams": len(live), "decision_failed": str(error)}
    answered = time.monotonic() - decided
    deadline = decided + timeout

    def arrival(stream):
        return next(
            (t for t, c in stream.events[before[id(stream)] :] if c == "items"),
            None,
        )

    while time.monotonic() < deadline and any(arrival(s) is None for s in live):
        await asyncio.sleep(0.05)
    delays = sorted(max(arrival(s) - decided, 0) for s in live if arrival(s) is not None)
    result = {
        "streams": len(live),
        "poked": len(delays),
        "decision_request_ms": round(answered * 1000, 1),
    }
    if delays:
        result.update(
            p50_ms=round(statistics.median(delays) * 1000, 1),
            p95_ms=round(delays[int(len(delays) * 0.95) - 1 if len(delays) > 1 else 0] * 1000, 1),
            max_ms=round(delays[-1] * 1000, 1),
        )
    return result


async def bench_side(side: str, pool: bool, tokens: list, decider: str, items: list) -> dict:
    server = Server(COPIES[side], 18000 + (side == "after"), pool)
    stats = stats_connection()
    tasks, streams, result = [], [], {}
    try:
        result["open"] = await open_streams(server.port, tokens[:IDLE], tasks, streams)
        # An idle backend reports its statistics up to 10 s late (PGSTAT_IDLE_INTERVAL): wait
        # them out, so the requests that opened the streams are not counted as idle work.
        await asyncio.sleep(SETTLE)
        first, began = committed(stats), time.monotonic()
        await asyncio.sleep(WINDOW)
        last, seconds = committed(stats), time.monotonic() - began
        result["idle"] = {
            "streams": sum(1 for s in streams if s.initial() and not s.ended),
            "seconds": round(seconds, 1),
            "queries_per_second": round((last - first) / seconds, 1),
            "database_connections": connections_to_database(stats),
            **process_status(server.process.pid),
        }
        result["poke"] = await poke(server, decider, items.pop(), streams)
        if side == "after" and HOLD > IDLE:
            result["hold_open"] = await open_streams(server.port, tokens[IDLE:HOLD], tasks, streams)
            await asyncio.sleep(2)
            result["hold"] = {
                "streams": sum(1 for s in streams if s.initial() and not s.ended),
                "database_connections": connections_to_database(stats),
                **process_status(server.process.pid),
                "poke": await poke(server, decider, items.pop(), streams),
            }
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        stats.close()
        server.stop()
    return result


def main():
    if connection.vendor != "postgresql":
        sys.exit("bench_events needs PostgreSQL: set DATABASE_URL to a throwaway database")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    print(f"copies in {work}; before = {before_rev()}, after = {REV}")
    print(f"migrating and seeding {ITEMS} items")
    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command(
            "seed_demo",
            "--reset",
            "--items",
            ITEMS,
            "--jobs",
            0,
            "--password",
            "bench",
            stdout=quiet,
        )
    results = {
        "date": datetime.date.today().isoformat(),
        "after_rev": git("rev-parse", REV).decode().strip(),
        "before_events_rev": git("rev-parse", before_rev()).decode().strip(),
        "machine": {"cpus": os.cpu_count(), "load_average_at_start": os.getloadavg()[0]},
        "settings": {
            "items": ITEMS,
            "idle_streams": IDLE,
            "hold_streams": HOLD,
            "window_s": WINDOW,
            "settle_s": SETTLE,
            "configs": "nopool: DATABASE_POOL=0, a persistent connection per thread (as "
            "before the pool); pool: DATABASE_POOL=1, a psycopg pool of at most 4 per process",
        },
    }
    print("writes: the NOTIFY trigger on and off")
    results["writes"] = bench_writes()
    tokens = issue_tokens("moderator", max(HOLD, IDLE))
    decider = issue_tokens("moderator", 1)[0]
    items = [
        (item.id, item.version) for item in Item.objects.filter(state="open").order_by("-id")[:20]
    ]
    for config in CONFIGS:
        sides = results[config] = {}
        for side in ("before", "after"):
            print(f"streams: {side}, {config}")
            sides[side] = asyncio.run(bench_side(side, config == "pool", tokens, decider, items))
        before_qps = sides["before"]["idle"]["queries_per_second"]
        after_qps = sides["after"]["idle"]["queries_per_second"]
        sides["idle_queries_per_second_after_before_ratio"] = (
            round(after_qps / before_qps, 4) if before_qps else None
        )
        sides["idle_streams_after_before_ratio"] = round(
            sides["after"]["idle"]["streams"] / max(sides["before"]["idle"]["streams"], 1), 2
        )
    results["machine"]["load_average_at_end"] = os.getloadavg()[0]
    out = ROOT / "bench" / "results" / f"events-{results['date']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    print(f"written to {out}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
