"""The product's background jobs: the read side over Steward's record of every backend
(list with filters and a delta cursor, count, detail), and the actions that go through
a job's backend (retry one, retry all matching, cancel), each audited.
"""

import time
from types import SimpleNamespace

from django.conf import settings
from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils import timezone
from rest_framework.exceptions import NotFound

from steward.errors import Conflict
from steward.feeds import feed_page
from steward.jobs.backends import get_backend
from steward.jobs.bulk_retry import Retry, record_retries
from steward.jobs.errors import BulkRetryStopped, JobBackendUnavailable, JobNotRetryable
from steward.jobs.recording import enqueueing
from steward.models import Job, JobRun
from steward.pagination import Page
from steward.services.audit import record_audit

RETRYABLE = (Job.Status.FAILED, Job.Status.CANCELLED)


def get_job(job_id: int) -> Job:
    job = Job.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"No job with id {job_id}.")
    return job


def filter_jobs(queryset, filters: dict):
    for name in ("kind", "status", "backend"):
        if filters.get(name):
            queryset = queryset.filter(**{name: filters[name]})
    return queryset


def jobs_page(filters: dict, cursor: str | None, limit: int, values=None) -> Page:
    """A page of the jobs feed: Job instances, or dicts when `values` selects columns
    (feeds.feed_page), which may name `payload_missing` (the arguments are SQL NULL or
    JSON null, read without the arguments themselves)."""
    if values is None:
        queryset = Job.objects.select_related("created_by")
    else:
        queryset = with_payload_missing(Job.objects.all())
    return feed_page(filter_jobs(queryset, filters), cursor, limit, values=values)


def with_payload_missing(queryset):
    """Annotated with payload_missing: the arguments are SQL NULL or JSON null."""
    missing = Q(payload__isnull=True) | Q(payload=None)
    return queryset.annotate(
        payload_missing=ExpressionWrapper(missing, output_field=BooleanField())
    )


def retry_blocked_reason(job: Job) -> str:
    """Why this job cannot be run again whatever its status ("" when it can)."""
    return blocked_reason_of(job.backend, job.retry_blocked_reason, job.payload is not None)


def blocked_reason_of(backend: str, recorded_reason: str, has_payload: bool) -> str:
    """retry_blocked_reason from the three columns it depends on (the feeds read those
    without loading the job)."""
    if backend == "legacy":
        return (
            "It was recorded before Steward ran jobs on the product's own backends, so "
            "nothing can run it again."
        )
    if get_backend(backend) is None:
        return (
            f"Its backend {backend!r} is not configured in STEWARD_JOB_BACKENDS, so "
            "Steward cannot run it again."
        )
    if recorded_reason:
        return recorded_reason
    if not has_payload:
        return "Its arguments were not recorded, so it cannot be run again exactly."
    return ""


def backend_configured(alias: str) -> bool:
    return get_backend(alias) is not None


def can_cancel(job: Job) -> bool:
    return job.status == Job.Status.PENDING and backend_configured(job.backend)


def retry_job(user, job_id: int) -> Job:
    """Run a failed or cancelled job again, with its task and its exact arguments, as a
    new run linked to the last one. Must run inside a transaction."""
    job = Job.objects.select_for_update().filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"No job with id {job_id}.")
    if job.status not in RETRYABLE:
        raise Conflict(
            message=f"Job {job_id} is {job.status}; only failed or cancelled jobs can be retried.",
            code="conflict",
            extra={"current_job": job_body(job)},
        )
    blocked = retry_blocked_reason(job)
    if blocked:
        raise JobNotRetryable(f"Job {job_id} ({job.kind}) cannot be retried. {blocked}")
    previous = job.runs.order_by("-number").first()
    with enqueueing(job=job, retry_of=previous, created_by=user) as context:
        get_backend(job.backend).retry(job)
    if context.run is None:
        raise JobBackendUnavailable(
            f"The {job.backend} backend took the task but did not report it, so Steward "
            "cannot follow it. Check that its signals reach Steward."
        )
    record_audit(
        user,
        "job.retry",
        "job",
        job_id,
        {
            "kind": job.kind,
            "backend": job.backend,
            "task_id": context.run.task_id,
            "retry_of_task_id": previous.task_id if previous else "",
            "run": context.run.number,
        },
    )
    return get_job(job_id)


# Jobs locked, recorded and sent per step of a retry of many.
RETRY_CHUNK = 1000
# What a retry reads of each job (not its traceback, most of a failed job's row).
RETRY_COLUMNS = (
    "id",
    "status",
    "backend",
    "kind",
    "task_path",
    "queue",
    "options",
    "payload",
    "retry_blocked_reason",
)


def retry_matching_seconds() -> float:
    """How long one retry of many may send before it stops between two steps:
    STEWARD_RETRY_MATCHING_MAX_SECONDS (20 s), under the web worker's timeout (gunicorn's
    30 s in the Procfile), which would otherwise kill a request that already sent tasks
    whose records then roll back."""
    return float(getattr(settings, "STEWARD_RETRY_MATCHING_MAX_SECONDS", 20))


def retry_jobs_matching(user, filters: dict, max_jobs: int) -> tuple[list[int], list[dict], int]:
    """Retry every failed (or cancelled) job matching the filter, up to max_jobs, as
    retry_job retries one: each with its exact arguments, as a new run, audited. Returns
    (the retried job ids, skipped [{id, code, message}], how many matching jobs were left
    for lack of time); jobs that cannot be retried are skipped with the reason, and an
    unreachable backend stops the run there (what was sent stays sent, and recorded).

    It runs in the caller's transaction, RETRY_CHUNK jobs at a time: locked, then per
    backend their runs, the jobs' new state and their audit events written in bulk
    (jobs/bulk_retry.py) before the backend gets them all at once (retry_many), so a
    worker that starts a task before the commit finds its run. Backends without a bulk
    send retry each job on its own (retry_job, in a savepoint each)."""
    status = filters.get("status") or Job.Status.FAILED
    queryset = filter_jobs(Job.objects.filter(status__in=RETRYABLE), {**filters, "status": status})
    ids = list(queryset.order_by("id").values_list("id", flat=True)[:max_jobs])
    retried, skipped = [], []
    sendable = {}
    deadline = time.monotonic() + retry_matching_seconds()
    remaining = 0
    for start in range(0, len(ids), RETRY_CHUNK):
        if start and time.monotonic() > deadline:
            # Stop between steps: everything sent so far is recorded and commits with the
            # answer, which says how many are left (the same request retries them).
            remaining = len(ids) - start
            break
        chunk = ids[start : start + RETRY_CHUNK]
        if not _retry_chunk(user, chunk, retried, skipped, sendable):
            break
    retried.sort()
    record_audit(
        user,
        "job.retry_matching",
        "job",
        "",
        {
            "filters": {key: value for key, value in filters.items() if value},
            "status": status,
            "retried": retried,
            "skipped": [entry["id"] for entry in skipped],
            "remaining": remaining,
        },
    )
    return retried, skipped, remaining


def _retry_chunk(user, job_ids, retried: list, skipped: list, sendable: dict) -> bool:
    """Retry these jobs; False when a backend stopped taking them (stop the run).
    `sendable` caches, per backend and task, why it cannot be sent ("" when it can)."""
    locked = Job.objects.select_for_update().filter(pk__in=job_ids).values(*RETRY_COLUMNS)
    rows = {row["id"]: row for row in locked}
    by_backend: dict[str, list[dict]] = {}
    for job_id in job_ids:
        row = rows.get(job_id)
        problem = _why_not_retried(row, job_id, sendable)
        if problem:
            skipped.append({"id": job_id, "code": problem[0], "message": problem[1]})
        else:
            by_backend.setdefault(row["backend"], []).append(row)
    for alias, backend_rows in by_backend.items():
        backend = get_backend(alias)
        if not backend.supports_bulk_retry:
            if not _retry_one_by_one(user, [row["id"] for row in backend_rows], retried, skipped):
                return False
            continue
        retries = [
            Retry(
                job_id=row["id"],
                task_id=backend.new_task_id(),
                backend=alias,
                kind=row["kind"],
                task_path=row["task_path"],
                queue=row["queue"],
                options=row["options"],
                payload=row["payload"],
            )
            for row in backend_rows
        ]
        try:
            with transaction.atomic():
                record_retries(retries, user)
                with enqueueing(bulk=True):
                    backend.retry_many(retries)
        except BulkRetryStopped as stop:
            # Everything of this step was rolled back: record what did reach the backend.
            sent = retries[: stop.sent]
            with transaction.atomic():
                record_retries(sent, user)
            retried.extend(retry.job_id for retry in sent)
            skipped.append(
                {
                    "id": retries[stop.sent].job_id,
                    "code": stop.error.code,
                    "message": stop.error.message,
                }
            )
            return False
        retried.extend(retry.job_id for retry in retries)
    return True


def _why_not_retried(row, job_id, sendable) -> tuple[str, str] | None:
    """(code, message) of why this locked job is not retried, as retry_job refuses it."""
    if row is None:
        return "not_found", f"No job with id {job_id} (deleted since it matched)."
    if row["status"] not in RETRYABLE:
        return (
            "conflict",
            f"Job {job_id} is {row['status']}; only failed or cancelled jobs can be retried.",
        )
    blocked = blocked_reason_of(
        row["backend"], row["retry_blocked_reason"], row["payload"] is not None
    )
    if not blocked:
        key = (
            row["backend"],
            row["task_path"],
            row["queue"],
            (row["options"] or {}).get("priority"),
        )
        if key not in sendable:
            try:
                get_backend(row["backend"]).check_retry(SimpleNamespace(**row))
                sendable[key] = ""
            except JobNotRetryable as error:
                sendable[key] = error.message
        if sendable[key]:
            return "job_not_retryable", sendable[key]
        return None
    return "job_not_retryable", f"Job {job_id} ({row['kind']}) cannot be retried. {blocked}"


def _retry_one_by_one(user, job_ids: list[int], retried: list, skipped: list) -> bool:
    for job_id in job_ids:
        try:
            with transaction.atomic():
                retry_job(user, job_id)
            retried.append(job_id)
        except (JobNotRetryable, Conflict, JobBackendUnavailable) as error:
            skipped.append({"id": job_id, "code": error.code, "message": error.message})
            if isinstance(error, JobBackendUnavailable):
                return False
    return True


def cancel_job(user, job_id: int) -> Job:
    """Stop a pending job before it starts. Must run inside a transaction."""
    job = Job.objects.select_for_update().filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"No job with id {job_id}.")
    run = JobRun.objects.filter(job=job, task_id=job.task_id).first()
    backend = get_backend(job.backend)
    stopped = (
        job.status == Job.Status.PENDING
        and run is not None
        and backend is not None
        and backend.cancel(job, run, user)
    )
    if not stopped:
        job = get_job(job_id)
        state = job.status if job.status != Job.Status.PENDING else "already taken by a worker"
        raise Conflict(
            message=f"Job {job_id} is {state}; only pending jobs can be cancelled.",
            code="conflict",
            extra={"current_job": job_body(job)},
        )
    now = timezone.now()
    who = user.get_username() if user else "Steward"
    JobRun.objects.filter(pk=run.pk).update(
        status=Job.Status.CANCELLED, finished_at=now, error=f"Cancelled by {who}."
    )
    Job.objects.filter(pk=job_id).update(
        status=Job.Status.CANCELLED, finished_at=now, updated_at=now
    )
    record_audit(
        user,
        "job.cancel",
        "job",
        job_id,
        {"kind": job.kind, "backend": job.backend, "task_id": run.task_id},
    )
    return get_job(job_id)


def job_body(job: Job) -> dict:
    from steward.serializers.jobs import JobSerializer

    return JobSerializer(job).data
