"""A retry of many jobs, recorded in bulk (services.jobs.retry_jobs_matching).

For each job, what record_enqueued (inside enqueueing(job=..., retry_of=...)) and
record_audit write for one retry: its next run, numbered after its latest and linked to
it, with the new task id; the job pending again, mirroring that run; and a job.retry
audit event naming the task, the task it retries and the run number. Written before the
backend gets the tasks, in the caller's transaction, so a worker that starts one before
the commit waits on the run's unique (backend, task_id) and then finds it.

On PostgreSQL one statement per step writes all three for every job, from the jobs' own
rows (100,000 in well under the 10 s of bench/README.md's jobs-scale); elsewhere the same
rows go through the ORM's bulk statements.
"""

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from steward.models import AuditEvent, Job, JobRun

# Rows per INSERT or UPDATE statement on the ORM path.
BATCH = 1000


@dataclass
class Retry:
    """One job of a bulk retry, with what its backend needs to send it again, and the id
    its new run will have, chosen before it is sent (backend.new_task_id)."""

    job_id: int
    task_id: str
    backend: str
    kind: str
    task_path: str
    queue: str
    options: dict
    payload: Any


def record_retries(retries: list[Retry], user) -> None:
    """The runs, the jobs' new state and the audit events of these retries."""
    if not retries:
        return
    now = timezone.now()
    if connection.vendor == "postgresql":
        _record_postgresql(retries, user, now)
    else:
        _record_orm(retries, user, now)


# One pass over the jobs and their latest runs (index lookups per job, whatever the
# table's size), then the three writes from it.
_POSTGRESQL = """
WITH src AS MATERIALIZED (
    SELECT new.job_id, new.task_id, j.backend, j.kind, l.id AS previous_id,
           coalesce(l.number, 0) + 1 AS number, coalesce(l.task_id, '') AS previous_task_id
    FROM unnest(%s::bigint[], %s::text[]) AS new(job_id, task_id)
    JOIN steward_job j ON j.id = new.job_id
    LEFT JOIN LATERAL (
        SELECT r.id, r.number, r.task_id FROM steward_jobrun r
        WHERE r.job_id = new.job_id ORDER BY r.number DESC LIMIT 1
    ) l ON true
), runs AS (
    INSERT INTO steward_jobrun (job_id, backend, task_id, number, status, retry_of_id,
                                created_by_id, enqueued_at, error, traceback)
    SELECT job_id, backend, task_id, number, 'pending', previous_id, %s, %s, '', ''
    FROM src
    RETURNING job_id
), events AS (
    INSERT INTO steward_auditevent (actor_id, actor_username, action, target_type, target_id,
                                    data, created_at)
    SELECT %s, %s, 'job.retry', 'job', job_id::text,
           jsonb_build_object('kind', kind, 'backend', backend, 'task_id', task_id,
                              'retry_of_task_id', previous_task_id, 'run', number),
           %s
    FROM src ORDER BY job_id
)
UPDATE steward_job SET status = 'pending', task_id = src.task_id, finished_at = NULL,
                       updated_at = %s
FROM src WHERE steward_job.id = src.job_id
"""


def _record_postgresql(retries, user, now):
    user_id = user.pk if user else None
    username = user.get_username() if user else ""
    params = [
        [retry.job_id for retry in retries],
        [retry.task_id for retry in retries],
        user_id,
        now,
        user_id,
        username,
        now,
        now,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_POSTGRESQL, params)


def _record_orm(retries, user, now):
    job_ids = [retry.job_id for retry in retries]
    latest = {}
    runs = JobRun.objects.filter(job_id__in=job_ids).only("id", "job_id", "number", "task_id")
    for run in runs.order_by("job_id", "-number"):
        latest.setdefault(run.job_id, run)
    new_runs, events = [], []
    username = user.get_username() if user else ""
    for retry in retries:
        previous = latest.get(retry.job_id)
        number = (previous.number if previous else 0) + 1
        new_runs.append(
            JobRun(
                job_id=retry.job_id,
                backend=retry.backend,
                task_id=retry.task_id,
                number=number,
                retry_of=previous,
                created_by=user,
                enqueued_at=now,
            )
        )
        events.append(
            AuditEvent(
                actor=user,
                actor_username=username,
                action="job.retry",
                target_type="job",
                target_id=str(retry.job_id),
                data={
                    "kind": retry.kind,
                    "backend": retry.backend,
                    "task_id": retry.task_id,
                    "retry_of_task_id": previous.task_id if previous else "",
                    "run": number,
                },
            )
        )
    JobRun.objects.bulk_create(new_runs, batch_size=BATCH)
    AuditEvent.objects.bulk_create(events, batch_size=BATCH)
    # The job mirrors its latest run (the one just written).
    latest_task_id = (
        JobRun.objects.filter(job_id=OuterRef("pk")).order_by("-number").values("task_id")[:1]
    )
    for start in range(0, len(job_ids), BATCH):
        Job.objects.filter(pk__in=job_ids[start : start + BATCH]).update(
            status=Job.Status.PENDING,
            task_id=Subquery(latest_task_id),
            finished_at=None,
            updated_at=now,
        )
