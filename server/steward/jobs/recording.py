"""Steward's record of the product's jobs, written from the job systems' own signals.

Each function here is called by a backend's signal handler, in whichever process the
signal fires (the web process that enqueues, the worker that runs), and is written to
be safe in any order and any number of times:

  - a run is found by (backend, task id), unique in JobRun, and created when it is not
    known yet (a task enqueued by a process that does not load Steward still shows up
    when the worker starts it); two processes creating it at once settle on the unique
    constraint;
  - a run's status only moves forward (pending -> running -> succeeded/failed/cancelled),
    by conditional UPDATEs, except where the system itself says a task runs again
    (Celery's own retries), or that a cancelled task ran anyway;
  - the Job mirrors its latest run (Job.task_id): a late signal for an older run updates
    that run only.

Handlers must never raise into the job system (a django-tasks worker would count the
task as failed): `guarded` logs and swallows their errors. A job that enqueues through
Steward (a retry, Steward's own work) runs the enqueue inside `enqueueing(...)`, whose
context the enqueue handler reads to attach the new run to its job and its author.
"""

import contextvars
import functools
import json
import logging
import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from steward.models import Job, JobRun

logger = logging.getLogger("steward.jobs")

FINAL = (Job.Status.SUCCEEDED, Job.Status.FAILED, Job.Status.CANCELLED)
SUMMARY_LENGTH = 300


@dataclass
class EnqueueContext:
    job: Job | None = None
    retry_of: JobRun | None = None
    created_by: Any = None
    summary: str = ""
    # Set by the enqueue handler: the job the new run belongs to.
    recorded: Job | None = None
    run: JobRun | None = None
    # A bulk retry (bulk_retry.record_retries) records its runs itself, before it sends
    # them: the enqueue handlers leave the tasks sent inside it alone.
    bulk: bool = False


_context: contextvars.ContextVar[EnqueueContext | None] = contextvars.ContextVar(
    "steward_enqueue", default=None
)


@contextmanager
def enqueueing(**fields):
    """Run an enqueue whose job is a retry of `job`, or Steward's own work by `created_by`."""
    context = EnqueueContext(**fields)
    token = _context.set(context)
    try:
        yield context
    finally:
        _context.reset(token)


def guarded(handler):
    """A signal handler that logs its errors instead of raising them into the job system."""

    @functools.wraps(handler)
    def wrapper(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except Exception:
            logger.exception("Steward could not record a job event (%s)", handler.__name__)
            return None

    return wrapper


def json_problem(value, where: str) -> str | None:
    """Why `value` cannot be stored as JSON exactly (None when it can): what is stored must
    be what a retry sends, so a datetime, a set, a tuple inside, bytes or an object the
    serializer would have pickled make the job not retryable, and it says so."""
    if value is None or isinstance(value, (bool, str, int)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{where} is {value}, which JSON cannot hold"
    if isinstance(value, list):
        for index, member in enumerate(value):
            problem = json_problem(member, f"{where}[{index}]")
            if problem:
                return problem
        return None
    if isinstance(value, dict):
        for key, member in value.items():
            if not isinstance(key, str):
                return f"{where} has a {type(key).__name__} key ({key!r}); JSON keys are strings"
            problem = json_problem(member, f"{where}[{key!r}]")
            if problem:
                return problem
        return None
    return f"{where} is a {type(value).__name__}, which JSON cannot hold exactly"


def exact_payload(args, kwargs) -> tuple[dict | None, str]:
    """({"args": [...], "kwargs": {...}}, "") or (None, why they cannot be stored)."""
    args = list(args or ())
    kwargs = dict(kwargs or {})
    problem = json_problem(args, "args") or json_problem(kwargs, "kwargs")
    if problem:
        return None, f"The arguments cannot be stored as JSON exactly: {problem}."[:300]
    return {"args": args, "kwargs": kwargs}, ""


def summarize(kind: str, args, kwargs) -> str:
    parts = [_short_repr(value) for value in list(args or ())]
    parts += [f"{key}={_short_repr(value)}" for key, value in dict(kwargs or {}).items()]
    text = f"{kind.rsplit('.', 1)[-1]}({', '.join(parts)})"
    return text if len(text) <= SUMMARY_LENGTH else text[: SUMMARY_LENGTH - 1] + "…"


def _short_repr(value) -> str:
    try:
        text = json.dumps(value) if json_problem(value, "") is None else repr(value)
    except Exception:  # a repr that raises must not stop the recording
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 60 else text[:59] + "…"


@dataclass
class TaskFacts:
    """What a signal tells about a task: enough to create its job when it is new."""

    kind: str
    task_path: str
    queue: str = ""
    args: Any = ()
    kwargs: Any = None
    options: dict | None = None


def record_enqueued(backend: str, task_id: str, facts: TaskFacts, when=None) -> Job:
    """A task was enqueued. Inside `enqueueing(job=...)` the new run joins that job (a
    retry) and the job is pending again; otherwise a new job starts."""
    context = _context.get()
    if context is not None and context.bulk:
        return None
    now = timezone.now()
    existing = _find_run(backend, task_id)
    if existing is not None:
        return existing.job
    try:
        with transaction.atomic():
            if context is not None and context.job is not None:
                job = context.job
                number = (job.runs.aggregate(n=Max("number"))["n"] or 0) + 1
                Job.objects.filter(pk=job.pk).update(
                    status=Job.Status.PENDING,
                    task_id=task_id,
                    finished_at=None,
                    updated_at=now,
                )
            else:
                job = _create_job(backend, task_id, facts, context, when or now)
                number = 1
            run = JobRun.objects.create(
                job=job,
                backend=backend,
                task_id=task_id,
                number=number,
                retry_of=context.retry_of if context else None,
                created_by=context.created_by if context else None,
                enqueued_at=when or now,
            )
    except IntegrityError:
        # Another process recorded the same run first (the worker started it already).
        run = JobRun.objects.select_related("job").get(backend=backend, task_id=task_id)
    if context is not None:
        context.recorded = run.job
        context.run = run
    return run.job


def record_started(backend: str, task_id: str, facts: TaskFacts) -> None:
    # One transaction: one commit (SQLite's commit is most of a write's cost).
    with transaction.atomic():
        run = _run_or_create(backend, task_id, facts)
        now = timezone.now()
        # A cancelled run that starts anyway (the revoke reached no worker) is running: say so.
        started = JobRun.objects.filter(
            pk=run.pk, status__in=(Job.Status.PENDING, Job.Status.CANCELLED)
        ).update(status=Job.Status.RUNNING, started_at=now, finished_at=None)
        if started:
            Job.objects.filter(pk=run.job_id, task_id=task_id).update(
                status=Job.Status.RUNNING,
                attempts=F("attempts") + 1,
                started_at=now,
                finished_at=None,
                updated_at=now,
            )


def record_finished(
    backend: str,
    task_id: str,
    facts: TaskFacts,
    status: str,
    error: str = "",
    traceback: str = "",
    result=None,
) -> None:
    # One transaction: one commit (SQLite's commit is most of a write's cost).
    with transaction.atomic():
        run = _run_or_create(backend, task_id, facts)
        now = timezone.now()
        finished = (
            JobRun.objects.filter(pk=run.pk)
            .exclude(status__in=FINAL)
            .update(status=status, finished_at=now, error=error, traceback=traceback)
        )
        if not finished and status != Job.Status.CANCELLED:
            # The worker ran a run Steward had marked cancelled: the outcome is the truth.
            finished = JobRun.objects.filter(pk=run.pk, status=Job.Status.CANCELLED).update(
                status=status, finished_at=now, error=error, traceback=traceback
            )
        if finished:
            if json_problem(result, "result") is not None:
                result = None
            Job.objects.filter(pk=run.job_id, task_id=task_id).update(
                status=status,
                finished_at=now,
                updated_at=now,
                last_error=error,
                last_traceback=traceback,
                result=result,
            )


def record_retrying(backend: str, task_id: str, facts: TaskFacts, error: str, traceback: str):
    """The task asked its own system to run it again later (Celery's self.retry)."""
    # One transaction: one commit (SQLite's commit is most of a write's cost).
    with transaction.atomic():
        run = _run_or_create(backend, task_id, facts)
        now = timezone.now()
        JobRun.objects.filter(pk=run.pk).update(
            status=Job.Status.PENDING, error=error, traceback=traceback
        )
        Job.objects.filter(pk=run.job_id, task_id=task_id).update(
            status=Job.Status.PENDING, last_error=error, last_traceback=traceback, updated_at=now
        )


def error_line(traceback: str, fallback: str = "") -> str:
    """The exception's own line: the last non-empty line of a formatted traceback."""
    lines = [line for line in (traceback or "").splitlines() if line.strip()]
    return lines[-1].strip() if lines else fallback


def _find_run(backend, task_id) -> JobRun | None:
    return JobRun.objects.select_related("job").filter(backend=backend, task_id=task_id).first()


def _run_or_create(backend, task_id, facts: TaskFacts) -> JobRun:
    run = _find_run(backend, task_id)
    if run is None:
        record_enqueued(backend, task_id, facts)
        run = JobRun.objects.select_related("job").get(backend=backend, task_id=task_id)
    return run


def _create_job(backend, task_id, facts: TaskFacts, context, when) -> Job:
    payload, blocked = exact_payload(facts.args, facts.kwargs)
    summary = (context.summary if context and context.summary else "") or summarize(
        facts.kind, facts.args, facts.kwargs
    )
    return Job.objects.create(
        backend=backend,
        kind=facts.kind[:200],
        task_path=facts.task_path[:500],
        queue=(facts.queue or "")[:200],
        payload=payload,
        payload_summary=summary[:SUMMARY_LENGTH],
        retry_blocked_reason=blocked,
        options=facts.options or {},
        created_by=context.created_by if context else None,
        created_at=when,
        updated_at=timezone.now(),
        task_id=task_id,
    )
