"""Scenario "jobs-scale" (issue 16, scenario 7): the jobs screen's questions over 5M job
rows, and a retry of 100k failed jobs in one action.

    .venv/bin/python bench/py/jobs_scale.py           # 5,000,000 jobs (about 20 minutes)
    .venv/bin/python bench/py/jobs_scale.py --quick   # 50,000 jobs, about two minutes (CI)

It starts a throwaway PostgreSQL and Redis, seeds the demo (`seed_demo`, whose jobs are
the forum's real tasks on django-tasks and Celery, with the tracebacks they really raise),
then copies those jobs inside PostgreSQL into N jobs with one run each (INSERT ... SELECT
over generate_series, indexes built afterwards, VACUUM ANALYZE): three kinds, interleaved
by id, created over two weeks, 8% failed, exactly N/50 failed build_report jobs (tasks) and
N/50 failed forum.tasks.send_email jobs (Celery), the rest succeeded, cancelled, pending
and running (`plan`). It serves the demo under the Procfile's gunicorn; no worker runs, so
what a retry sends stays where the backend put it, to be checked.

Reads, A B interleaved per sample, after a warm-up, over several rounds:
  - first page of failed jobs: GET /api/v1/jobs?status=failed&limit=100 (the page carries
    the failed count, `total`), beside the goal (100 ms at p95) and the Django admin
    changelist of Job filtered to failed (signed in as staff, 100 rows a page);
  - counts by status: the jobs screen counts its own mirror, so over the API the counts
    are the five first pages GET /api/v1/jobs?status=<s>&limit=1 (`total`), timed
    together, beside the goal and the admin changelist with its facet counts (_facets).
Retry: POST /api/v1/jobs/retry {"kind": ..., "max_jobs": N/50} for the build_report jobs
(django-tasks) and then the send_email jobs (Celery), each beside the goal (10 s), each
round checked afterwards: one job.retry audit event per job naming its new task, one new
run per job linked to the failed one, and one task per job at its backend with the job's
exact arguments (django-tasks-db's READY rows; the Celery messages in Redis, decoded). Then
the jobs are put back as they were for the next round (bench-only SQL).
"""

import argparse
import base64
import http.cookiejar
import json
import re
import statistics
import sys
import time
import urllib.parse
import urllib.request
import uuid

from benchreport import Report, percentile, row, spread
from benchstack import Stack, say

FULL = {"jobs": 5_000_000, "rounds": 3, "samples": 15, "retry_rounds": 2}
QUICK = {"jobs": 50_000, "rounds": 2, "samples": 5, "retry_rounds": 1}
READ_GOAL_MS = 100
RETRY_GOAL_S = 10
STATUSES = ["pending", "running", "succeeded", "failed", "cancelled"]
KINDS = {
    "build_report": "tasks",
    "forum.tasks.send_email": "celery",
    "import_members_csv": "tasks",
}
RETRIED = ["build_report", "forum.tasks.send_email"]


def plan(total):
    """[(kind, status, count)]: exactly total rows, total/50 failed of each retried kind."""
    share = {
        "build_report": 0.4,
        "forum.tasks.send_email": 0.4,
        "import_members_csv": 0.2,
    }
    target = total // 50
    rows = []
    for kind, part in share.items():
        n = round(total * part)
        failed = target if kind in RETRIED else 2 * target
        counts = {"failed": failed, "cancelled": n // 50, "pending": n * 3 // 200}
        counts["running"] = n // 200
        counts["succeeded"] = n - sum(counts.values())
        rows += [(kind, status, count) for status, count in counts.items()]
    rows[-1] = (*rows[-1][:2], rows[-1][2] + total - sum(c for *_, c in rows))
    return rows


def seed(stack, total):
    stack.manage("seed_demo", "--items", "50", "--jobs", "60")
    stack.psql(
        "CREATE TABLE bench_template AS SELECT DISTINCT ON (kind, status) * FROM steward_job "
        f"WHERE kind IN ({', '.join(repr(k) for k in KINDS)}) "
        "AND status IN ('succeeded', 'failed', 'cancelled') ORDER BY kind, status, id"
    )
    buckets, low = [], 0
    for kind, status, count in plan(total):
        template = "succeeded" if status in ("pending", "running") else status
        buckets.append(f"('{kind}', '{status}', '{template}', {low}, {low + count})")
        low += count
    rebuild = drop_indexes(stack, ["steward_job", "steward_jobrun"])
    started = time.monotonic()
    # A bijection of 0..total-1 (the multiplier is prime to 2 and 5) interleaves the buckets.
    stack.psql(f"""
        INSERT INTO steward_job (backend, kind, task_path, queue, status, payload,
            payload_summary, retry_blocked_reason, options, attempts, created_at, started_at,
            finished_at, updated_at, last_error, last_traceback, result, task_id)
        SELECT t.backend, t.kind, t.task_path, t.queue, b.status, t.payload, t.payload_summary,
            t.retry_blocked_reason, t.options,
            CASE WHEN b.status IN ('pending', 'cancelled') THEN 0 ELSE 1 + g.i % 3 END,
            g.created,
            CASE WHEN b.status NOT IN ('pending', 'cancelled') THEN g.created END,
            CASE WHEN b.status IN ('succeeded', 'failed', 'cancelled')
                THEN g.created + (1 + g.i % 90) * interval '1 second' END,
            g.created + interval '90 seconds',
            CASE WHEN b.status = 'failed' THEN t.last_error ELSE '' END,
            CASE WHEN b.status = 'failed' THEN t.last_traceback ELSE '' END,
            CASE WHEN b.status = 'succeeded' THEN t.result END,
            md5('bench-job-' || g.i)::uuid::text
        FROM (SELECT i, (i::bigint * 2654435761) % {total} AS pos,
                     now() - interval '14 days' + i * (interval '14 days' / {total}) AS created
              FROM generate_series(0, {total - 1}) AS i) AS g
        JOIN (VALUES {", ".join(buckets)}) AS b(kind, status, template, low, high)
            ON g.pos >= b.low AND g.pos < b.high
        JOIN bench_template AS t ON t.kind = b.kind AND t.status = b.template
        ORDER BY g.i
    """)
    stack.psql("""
        INSERT INTO steward_jobrun (job_id, backend, task_id, number, status, enqueued_at,
            started_at, finished_at, error, traceback)
        SELECT j.id, j.backend, j.task_id, 1, j.status, j.created_at, j.started_at,
            j.finished_at, j.last_error, j.last_traceback
        FROM steward_job AS j WHERE NOT EXISTS (SELECT FROM steward_jobrun r WHERE r.job_id = j.id)
    """)
    say(f"copied {total:,} jobs and runs in {time.monotonic() - started:.0f} s")
    for statement in rebuild:
        stack.psql(statement)
    stack.psql("VACUUM ANALYZE")
    say(f"seeded, indexed and vacuumed in {time.monotonic() - started:.0f} s")


def drop_indexes(stack, tables):
    """Drops the tables' secondary indexes and unique constraints; returns the DDL that
    puts them back (building them once is much faster than keeping them up per row)."""
    names = ", ".join(f"'{t}'" for t in tables)
    constraints = stack.psql(
        "SELECT conrelid::regclass || '|' || conname || '|' || pg_get_constraintdef(oid) "
        f"FROM pg_constraint WHERE contype = 'u' AND conrelid::regclass::text IN ({names})"
    ).splitlines()
    indexes = stack.psql(
        f"SELECT indexname || '|' || indexdef FROM pg_indexes WHERE tablename IN ({names}) "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
    ).splitlines()
    rebuild = []
    for line in constraints:
        table, name, definition = line.split("|", 2)
        stack.psql(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        rebuild.append(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    for line in indexes:
        name, definition = line.split("|", 1)
        stack.psql(f"DROP INDEX {name}")
        rebuild.append(definition)
    return rebuild


class Admin:
    """The Django admin, signed in through its own login form as a browser does."""

    def __init__(self, base, username, password):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        page = self.opener.open(f"{base}/admin/login/").read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = {
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": token,
        }
        form["next"] = "/admin/"
        request = urllib.request.Request(
            f"{base}/admin/login/",
            data=urllib.parse.urlencode(form).encode(),
            headers={"Referer": f"{base}/admin/login/"},
        )
        landed = self.opener.open(request)
        if "/admin/login" in landed.url:
            raise RuntimeError("the admin did not sign the bench in")

    def get(self, path):
        started = time.perf_counter()
        body = self.opener.open(self.base + path, timeout=600).read()
        return body, time.perf_counter() - started


def first_page_steward(web, token):
    page, seconds = web.get("/api/v1/jobs", token, status="failed", limit=100)
    assert len(page["results"]) == 100 and page["total"] > 0
    return seconds, page["total"]


def counts_steward(web, token):
    seconds, counts = 0.0, {}
    for status in STATUSES:
        page, took = web.get("/api/v1/jobs", token, status=status, limit=1)
        seconds += took
        counts[status] = page["total"]
    return seconds, counts


def first_page_admin(admin):
    body, seconds = admin.get("/admin/steward/job/?status__exact=failed")
    assert b"result_list" in body
    return seconds, None


def counts_admin(admin):
    body, seconds = admin.get("/admin/steward/job/?_facets=True")
    assert b"result_list" in body
    return seconds, None


def reads(web, token, admin, rounds, samples):
    """{read: {"steward": [[ms per sample] per round], "admin": [...]}} and the counts."""
    pairs = {
        "first page of failed jobs": (first_page_steward, first_page_admin),
        "counts by status": (counts_steward, counts_admin),
    }
    out = {name: {"steward": [], "admin": []} for name in pairs}
    seen = {}
    for name, (a, b) in pairs.items():  # warm-up
        seen[name] = a(web, token)[1]
        b(admin)
    for number in range(1, rounds + 1):
        for name, (a, b) in pairs.items():
            xs, ys = [], []
            for _ in range(samples):
                xs.append(a(web, token)[0] * 1000)
                ys.append(b(admin)[0] * 1000)
            out[name]["steward"].append(xs)
            out[name]["admin"].append(ys)
            say(
                f"round {number}/{rounds} {name}: steward p95 {percentile(xs, 95):.0f} ms, "
                f"admin p95 {percentile(ys, 95):.0f} ms"
            )
    return out, seen


def read_rows(results):
    rows = []
    for name, sides in results.items():
        steward = [x for per_round in sides["steward"] for x in per_round]
        admin = [y for per_round in sides["admin"] for y in per_round]
        p95_rounds = [percentile(xs, 95) for xs in sides["steward"]]
        admin_rounds = [percentile(ys, 95) for ys in sides["admin"]]
        common = {
            "steward_p50_ms": round(statistics.median(steward), 1),
            "steward_p95_spread": spread(p95_rounds),
            "samples": len(steward),
        }
        rows.append(
            row(
                f"{name}: p95",
                percentile(steward, 95),
                f"goal: {READ_GOAL_MS} ms",
                READ_GOAL_MS,
                "ms",
                higher_is_better=False,
                goal_ratio=1.0,
                round_ratios=[READ_GOAL_MS / x for x in p95_rounds],
                **common,
            )
        )
        rows.append(
            row(
                f"{name}: p95 beside the admin",
                percentile(steward, 95),
                "Django admin changelist of Job"
                + (", filtered to failed" if name.startswith("first") else ", with facet counts"),
                percentile(admin, 95),
                "ms",
                higher_is_better=False,
                round_ratios=[y / x for x, y in zip(p95_rounds, admin_rounds, strict=True)],
                admin_p50_ms=round(statistics.median(admin), 1),
                admin_p95_spread=spread(admin_rounds),
                **common,
            )
        )
    return rows


def retry(web, token, kind, count):
    body = {"kind": kind, "max_jobs": count}
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    _, raw, seconds = web.request("POST", "/api/v1/jobs/retry", token, body, headers)
    answer = json.loads(raw)
    if answer["remaining"]:
        raise RuntimeError(f"the retry stopped at its time limit: {answer['remaining']} left")
    return seconds, answer


def check_retry(stack, redis_client, kind, answer, marker):
    """What the retry really did, counted in the database and at the backend."""
    ids = answer["retried_ids"]
    facts = {"retried": answer["retried"], "skipped": len(answer["skipped"])}
    facts["audit_events"] = int(
        stack.psql(f"""
        SELECT count(*) FROM steward_auditevent e JOIN steward_job j ON j.id::text = e.target_id
        WHERE e.id > {marker} AND e.action = 'job.retry' AND e.data->>'task_id' = j.task_id
          AND j.kind = '{kind}'""")
    )
    facts["new_runs"] = int(
        stack.psql(f"""
        SELECT count(*) FROM steward_jobrun r JOIN steward_job j ON j.id = r.job_id
        JOIN steward_jobrun f ON f.id = r.retry_of_id AND f.number = 1 AND f.status = 'failed'
        WHERE r.number = 2 AND r.status = 'pending' AND j.status = 'pending'
          AND j.task_id = r.task_id AND j.kind = '{kind}'""")
    )
    if KINDS[kind] == "tasks":
        facts["sent_with_exact_arguments"] = int(
            stack.psql(f"""
            SELECT count(*) FROM steward_jobrun r JOIN steward_job j ON j.id = r.job_id
            JOIN django_tasks_database_dbtaskresult t ON t.id = r.task_id::uuid
            WHERE r.number = 2 AND j.kind = '{kind}' AND t.status = 'READY'
              AND t.args_kwargs = j.payload AND t.task_path = j.task_path""")
        )
    else:
        expected = {}
        for line in stack.psql(
            "SELECT r.task_id || '|' || j.task_path || '|' || j.payload::text "
            "FROM steward_jobrun r "
            f"JOIN steward_job j ON j.id = r.job_id WHERE r.number = 2 AND j.kind = '{kind}'"
        ).splitlines():
            task_id, path, payload = line.split("|", 2)
            expected[task_id] = (path, json.loads(payload))
        exact = 0
        for message in redis_client.lrange("celery", 0, -1):
            envelope = json.loads(message)
            args, kwargs, _ = json.loads(base64.b64decode(envelope["body"]))
            headers = envelope["headers"]
            path, payload = expected.pop(headers["id"], (None, None))
            exact += path == headers["task"] and payload == {
                "args": args,
                "kwargs": kwargs,
            }
        facts["sent_with_exact_arguments"] = exact
    facts["all_checked"] = facts["skipped"] == 0 and facts["audit_events"] == facts[
        "new_runs"
    ] == facts["sent_with_exact_arguments"] == len(ids)
    return facts


def put_back(stack, redis_client):
    """The retried jobs failed again, as they were; their new runs and tasks gone."""
    stack.psql("""
        UPDATE steward_job j SET status = f.status, task_id = f.task_id, finished_at = f.finished_at
        FROM steward_jobrun f WHERE f.job_id = j.id AND f.number = 1
          AND EXISTS (SELECT FROM steward_jobrun r WHERE r.job_id = j.id AND r.number = 2)""")
    stack.psql("DELETE FROM steward_jobrun WHERE number >= 2")
    stack.psql("DELETE FROM django_tasks_database_dbtaskresult WHERE status = 'READY'")
    stack.psql("VACUUM ANALYZE steward_job")
    stack.psql("VACUUM ANALYZE steward_jobrun")
    redis_client.delete("celery")


def retries(stack, web, token, rounds, count):
    import redis

    redis_client = redis.Redis.from_url(f"{stack.redis_url}/0")
    out = {kind: {"seconds": [], "checks": []} for kind in RETRIED}
    for number in range(1, rounds + 1):
        for kind in RETRIED:
            marker = int(stack.psql("SELECT coalesce(max(id), 0) FROM steward_auditevent"))
            seconds, answer = retry(web, token, kind, count)
            facts = check_retry(stack, redis_client, kind, answer, marker)
            out[kind]["seconds"].append(seconds)
            out[kind]["checks"].append(facts)
            say(f"round {number}/{rounds} retry {count:,} {kind}: {seconds:.2f} s, {facts}")
            put_back(stack, redis_client)
    return out


def retry_rows(results, count):
    rows = []
    for kind, result in results.items():
        seconds = result["seconds"]
        checks = result["checks"]
        rows.append(
            row(
                f"retry {count:,} failed {kind} jobs ({KINDS[kind]}) in one action",
                statistics.median(seconds),
                f"goal: {RETRY_GOAL_S} s",
                RETRY_GOAL_S,
                "s",
                higher_is_better=False,
                goal_ratio=1.0,
                round_ratios=[RETRY_GOAL_S / s for s in seconds],
                seconds_spread=spread(seconds),
                every_retry_audited_and_sent_exactly=all(c["all_checked"] for c in checks),
                checks=checks,
            )
        )
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="50,000 jobs (what CI runs)")
    parser.add_argument("--jobs", type=int, help="job rows to seed")
    parser.add_argument("--rounds", type=int, help="rounds of the reads")
    parser.add_argument("--retry-rounds", type=int, help="rounds of the retries")
    args = parser.parse_args(argv)
    sizes = dict(QUICK if args.quick else FULL)
    for name in ("jobs", "rounds", "retry_rounds"):
        if getattr(args, name):
            sizes[name] = getattr(args, name)
    count = sizes["jobs"] // 50

    with (
        Report("jobs-scale", quick=args.quick) as report,
        Stack("jobs", redis=True) as stack,
    ):
        report.extra["sizes"] = {**sizes, "retried_per_action": count}
        report.extra["plan"] = [list(p) for p in plan(sizes["jobs"])]
        seed(stack, sizes["jobs"])
        # One action for all of them, however long it takes, so the goal is measured: the
        # server's own limit (STEWARD_RETRY_MATCHING_MAX_SECONDS) and the worker's timeout
        # are raised for the bench.
        stack.env["STEWARD_RETRY_MATCHING_MAX_SECONDS"] = "600"
        with stack.web(timeout=900) as web:
            token = web.login("admin", "admin-demo")
            admin = Admin(web.base, "admin", "admin-demo")
            read_results, seen = reads(web, token, admin, sizes["rounds"], sizes["samples"])
            report.extra["counts_seen"] = seen
            retry_results = retries(stack, web, token, sizes["retry_rounds"], count)
        report.rows += read_rows(read_results)
        report.rows += retry_rows(retry_results, count)
        report.extra["read_samples_ms"] = {
            name: {side: [[round(x, 1) for x in r] for r in rounds] for side, rounds in s.items()}
            for name, s in read_results.items()
        }
    return 0


if __name__ == "__main__":
    sys.exit(main())
