"""The product's background jobs: the read side over Steward's record of every backend
(list with filters and a delta cursor, count, detail), and the actions that go through
a job's backend (retry one, retry all matching, cancel), each audited.
"""

from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import NotFound

from steward.errors import Conflict
from steward.feeds import feed_page
from steward.jobs.backends import get_backend
from steward.jobs.errors import JobBackendUnavailable, JobNotRetryable
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


def jobs_page(filters: dict, cursor: str | None, limit: int) -> Page:
    queryset = filter_jobs(Job.objects.select_related("created_by"), filters)
    return feed_page(queryset, cursor, limit)


def retry_blocked_reason(job: Job) -> str:
    """Why this job cannot be run again whatever its status ("" when it can)."""
    if job.backend == "legacy":
        return (
            "It was recorded before Steward ran jobs on the product's own backends, so "
            "nothing can run it again."
        )
    if get_backend(job.backend) is None:
        return (
            f"Its backend {job.backend!r} is not configured in STEWARD_JOB_BACKENDS, so "
            "Steward cannot run it again."
        )
    if job.retry_blocked_reason:
        return job.retry_blocked_reason
    if job.payload is None:
        return "Its arguments were not recorded, so it cannot be run again exactly."
    return ""


def can_cancel(job: Job) -> bool:
    return job.status == Job.Status.PENDING and get_backend(job.backend) is not None


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


def retry_jobs_matching(user, filters: dict, max_jobs: int) -> tuple[list[Job], list[dict]]:
    """Retry every failed (or cancelled) job matching the filter, up to max_jobs, each in
    its own savepoint. Returns (retried jobs, skipped [{id, code, message}]); jobs that
    cannot be retried are skipped with the reason, and an unreachable backend stops the
    run there (what was sent stays sent, and recorded)."""
    status = filters.get("status") or Job.Status.FAILED
    queryset = filter_jobs(Job.objects.filter(status__in=RETRYABLE), {**filters, "status": status})
    ids = list(queryset.order_by("id").values_list("id", flat=True)[:max_jobs])
    retried, skipped = [], []
    for job_id in ids:
        try:
            with transaction.atomic():
                retried.append(retry_job(user, job_id))
        except (JobNotRetryable, Conflict, JobBackendUnavailable) as error:
            skipped.append({"id": job_id, "code": error.code, "message": error.message})
            if isinstance(error, JobBackendUnavailable):
                break
    record_audit(
        user,
        "job.retry_matching",
        "job",
        "",
        {
            "filters": {key: value for key, value in filters.items() if value},
            "status": status,
            "retried": [job.pk for job in retried],
            "skipped": [entry["id"] for entry in skipped],
        },
    )
    return retried, skipped


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
