"""Background jobs: the django-tasks task that runs them, and the demo job kinds.

A Job row is what staff see and act on. Every attempt is one django-tasks task
(`run_job(job_id)`) stored by the database backend and run by `manage.py db_worker`.
django-tasks does not retry by itself: retrying a Job enqueues a new task for the same row.

The demo kinds fail for real, with real exceptions and tracebacks, so that retrying and
reading a traceback mean something:
  import_members_csv  a malformed CSV raises ValueError naming the bad line;
  send_email          an invalid address raises InvalidRecipient before anything is sent;
  build_report        times out (TimeoutError) while `slow_attempts` attempts remain,
                      like a report over a cold cache; a later attempt finishes;
  send_password_reset the account action's job: mails the member a reset link.
"""

import csv
import io
import time
import traceback

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.utils import timezone

try:  # Django 6 ships the Tasks framework; django-tasks backports it to Django 5.2.
    from django.tasks import task
except ImportError:  # pragma: no cover - depends on the Django version
    from django_tasks import task

from steward.models import AuditEvent, Job, Member


class InvalidRecipient(ValueError):
    """The address cannot receive mail; retrying will not help until it is fixed."""


def _import_members_csv(job):
    text = job.payload.get("csv", "")
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or [cell.strip() for cell in rows[0]] != ["username", "email"]:
        raise ValueError("line 1: the header must be exactly 'username,email'")
    parsed = []
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != 2:
            raise ValueError(f"line {number}: expected 2 columns, got {len(row)}")
        username, email = (cell.strip() for cell in row)
        if not username:
            raise ValueError(f"line {number}: the username is empty")
        try:
            validate_email(email)
        except ValidationError:
            raise ValueError(f"line {number}: {email!r} is not an email address") from None
        parsed.append((username, email))
    now = timezone.now()
    created = 0
    with transaction.atomic():
        for username, email in parsed:
            _, was_created = Member.objects.update_or_create(
                username=username,
                defaults={"email": email, "updated_at": now},
                create_defaults={"email": email, "joined_at": now, "updated_at": now},
            )
            created += was_created
    return {"rows": len(parsed), "created": created}


def _deliver(to, subject, body):
    try:
        validate_email(to)
    except ValidationError:
        raise InvalidRecipient(f"{to!r} is not a valid email address") from None
    send_mail(subject, body, None, [to])


def _send_email(job):
    _deliver(job.payload.get("to", ""), job.payload.get("subject", ""), job.payload.get("body", ""))
    return {"sent_to": job.payload.get("to")}


def _build_report(job):
    timeout = float(job.payload.get("timeout_seconds", 1.0))
    slow = job.attempts <= int(job.payload.get("slow_attempts", 1))
    work = float(job.payload.get("work_seconds", 2.0)) if slow else 0.0
    if work > timeout:
        # The report gives up at its deadline, as a statement_timeout would stop it.
        time.sleep(timeout)
        raise TimeoutError(f"the report did not finish within {timeout:g} s")
    time.sleep(work)
    return {"queue": job.payload.get("queue", "all"), "seconds": round(work, 3)}


def _send_password_reset(job):
    member = Member.objects.get(pk=job.payload["account_id"])
    _deliver(
        member.email,
        "Reset your password",
        f"Hello {member.username}, follow the link in this message to choose a new password.",
    )
    return {"sent_to": member.email}


HANDLERS = {
    "import_members_csv": _import_members_csv,
    "send_email": _send_email,
    "build_report": _build_report,
    "send_password_reset": _send_password_reset,
}


def _finish(job_id, status, audit_data, **fields):
    now = timezone.now()
    with transaction.atomic():
        Job.objects.filter(pk=job_id).update(
            status=status, finished_at=now, updated_at=now, **fields
        )
        AuditEvent.objects.create(
            action=f"job.{status}", target_type="job", target_id=str(job_id), data=audit_data
        )


@task()
def run_job(job_id: int):
    """One attempt at a Job. A failure re-raises, so the task result records it too."""
    now = timezone.now()
    started = Job.objects.filter(pk=job_id, status=Job.Status.PENDING).update(
        status=Job.Status.RUNNING,
        attempts=F("attempts") + 1,
        started_at=now,
        finished_at=None,
        updated_at=now,
    )
    if not started:
        # Cancelled before the worker reached it, or already run by an older task.
        return {"skipped": True}
    job = Job.objects.get(pk=job_id)
    try:
        handler = HANDLERS.get(job.kind)
        if handler is None:
            raise LookupError(f"no handler for job kind {job.kind!r}")
        result = handler(job)
    except Exception as exc:
        _finish(
            job_id,
            Job.Status.FAILED,
            {"attempt": job.attempts, "error": f"{type(exc).__name__}: {exc}"},
            last_error=f"{type(exc).__name__}: {exc}",
            last_traceback=traceback.format_exc(),
        )
        raise
    _finish(
        job_id,
        Job.Status.SUCCEEDED,
        {"attempt": job.attempts},
        result=result,
        last_error="",
        last_traceback="",
    )
    return result


def enqueue_attempt(job: Job) -> None:
    """Enqueue one attempt. Call inside the transaction that made the job pending: with
    the database backend the task row commits (or rolls back) together with the job."""
    result = run_job.enqueue(job.pk)
    job.task_result_id = str(result.id)
    Job.objects.filter(pk=job.pk).update(task_result_id=job.task_result_id)
