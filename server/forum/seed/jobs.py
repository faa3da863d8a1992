"""Job history for the demo: the forum's tasks on both backends, in every status, failed
ones with the traceback their task really raises, and a few pending ones enqueued for real
on django-tasks (so `db_worker` has work to show). Seeding needs no broker: Celery jobs are
history only."""

import traceback
from datetime import timedelta

from django.utils import timezone

from forum import tasks
from forum.models import ReportCache
from steward.jobs.recording import exact_payload, summarize
from steward.models import Job, JobRun

QUEUE = "reported-posts"

# (backend, kind, task path, queue, args, kwargs, the function a failure comes from)
SAMPLES = [
    (
        "tasks",
        "import_members_csv",
        "forum.tasks.import_members_csv",
        "default",
        [],
        {"csv_text": "username,email\nann,ann@example.com\nbob\n"},
        lambda: tasks.import_members_csv.func("username,email\nann,ann@example.com\nbob\n"),
    ),
    (
        "tasks",
        "build_report",
        "forum.tasks.build_report",
        "default",
        [],
        {"queue": QUEUE, "timeout_seconds": 0.01, "work_seconds": 0.05},
        # A run over a cold cache times out (the cache it warms is dropped again).
        lambda: tasks.build_report.func(queue="probe", timeout_seconds=0.01, work_seconds=0.05),
    ),
    (
        "celery",
        "forum.tasks.send_email",
        "forum.tasks.send_email",
        "celery",
        ["ops(at)example.com", "Weekly digest", "..."],
        {},
        lambda: tasks.send_email.run("ops(at)example.com", "Weekly digest", "..."),
    ),
]

STATUSES = [Job.Status.SUCCEEDED] * 6 + [Job.Status.FAILED] * 3 + [Job.Status.CANCELLED]


def _failures():
    ReportCache.objects.filter(name="probe").delete()
    failures = {}
    for _, kind, *_, fail in SAMPLES:
        try:
            fail()
        except Exception as exc:
            failures[kind] = (f"{type(exc).__name__}: {exc}", traceback.format_exc())
    ReportCache.objects.filter(name="probe").delete()
    # The seeded reports failed over a cold cache and left it warm: a retry finishes.
    ReportCache.objects.get_or_create(name=QUEUE)
    return failures


def seed_jobs(rng, target: int) -> int:
    missing = target - Job.objects.count()
    if missing <= 0:
        return 0
    now = timezone.now()
    failures = _failures()
    jobs, runs = [], []
    for n in range(missing - 1):
        backend, kind, path, queue, args, kwargs, _ = SAMPLES[n % len(SAMPLES)]
        status = STATUSES[n % len(STATUSES)]
        created = now - timedelta(minutes=rng.randint(1, 60 * 24 * 14))
        error, trace = failures[kind] if status == Job.Status.FAILED else ("", "")
        payload, blocked = exact_payload(args, kwargs)
        task_id = f"seed-{backend}-{n}-{rng.getrandbits(48):012x}"
        jobs.append(
            Job(
                backend=backend,
                kind=kind,
                task_path=path,
                queue=queue,
                status=status,
                payload=payload,
                payload_summary=summarize(kind, args, kwargs),
                retry_blocked_reason=blocked,
                attempts=0 if status == Job.Status.CANCELLED else rng.randint(1, 3),
                created_at=created,
                started_at=None if status == Job.Status.CANCELLED else created,
                finished_at=created + timedelta(seconds=rng.randint(1, 90)),
                updated_at=created + timedelta(seconds=90),
                last_error=error,
                last_traceback=trace,
                result={"rows": 2, "created": 2} if status == Job.Status.SUCCEEDED else None,
                task_id=task_id,
            )
        )
    jobs = Job.objects.bulk_create(jobs, batch_size=2000)
    for job in jobs:
        runs.append(
            JobRun(
                job=job,
                backend=job.backend,
                task_id=job.task_id,
                number=1,
                status=job.status,
                enqueued_at=job.created_at,
                started_at=job.started_at,
                finished_at=job.finished_at,
                error=job.last_error,
                traceback=job.last_traceback,
            )
        )
    JobRun.objects.bulk_create(runs, batch_size=2000)
    # A Celery job whose arguments JSON cannot hold: listed with retry disabled.
    args = [1, now + timedelta(days=1)]
    payload, blocked = exact_payload(args, {})
    reminder = Job.objects.create(
        backend="celery",
        kind="forum.tasks.send_reminder",
        task_path="forum.tasks.send_reminder",
        queue="celery",
        status=Job.Status.FAILED,
        payload=payload,
        payload_summary=summarize("forum.tasks.send_reminder", args, {}),
        retry_blocked_reason=blocked,
        attempts=1,
        last_error="InvalidRecipient: '' is not a valid email address",
        task_id=f"seed-celery-reminder-{rng.getrandbits(48):012x}",
    )
    JobRun.objects.create(
        job=reminder, backend="celery", task_id=reminder.task_id, number=1, status=reminder.status
    )
    pending = min(3, missing)
    if pending >= 1:
        tasks.import_members_csv.enqueue("username,email\ncarol,carol@example.com\n")
    if pending >= 2:
        tasks.build_report.enqueue(queue="spam", timeout_seconds=1.0, work_seconds=0.05)
    if pending >= 3:
        tasks.import_members_csv.enqueue("username,email\ndave\n")
    return missing + pending
