"""Celery as a Steward job backend.

Celery's signals fill Steward's record: after_task_publish (in the process that sends:
the task is pending, its arguments captured as they were sent), task_prerun (in the
worker: running, and the arguments as the worker received them when nothing recorded the
publish), task_success, task_failure (the exception and the traceback), task_retry (the
task asked to run again: pending, with the error), task_revoked (cancelled or expired),
task_unknown and task_internal_error (failed). Arguments are stored only when JSON holds
them exactly; otherwise the job is listed with retry disabled and the reason.

A retry re-sends the exact task by name with the exact arguments (app.send_task), with a
new task id, to the queue it was sent to, as the job's next run. Cancel revokes the
pending task (app.control.revoke): workers that are online drop it when it arrives
(start them with --statedb to keep revokes across restarts); a task that started already
runs on, and Steward then shows what really happened.

OPTIONS: APP, the Celery app or its dotted path (required); QUEUE, the queue of Steward's
own tasks (default: the app's routing). One Celery backend per app: the signals are
process-wide.
"""

import uuid

from celery import signals
from django.utils.module_loading import import_string
from kombu.exceptions import KombuError, OperationalError

from steward.jobs import own, recording
from steward.jobs.backends import JobBackend
from steward.jobs.errors import BulkRetryStopped, JobBackendUnavailable
from steward.models import Job

UNREACHABLE = (OperationalError, KombuError, OSError, ConnectionError)


class CeleryBackend(JobBackend):
    label = "Celery"

    def __init__(self, alias, options):
        super().__init__(alias, options)
        app = options.get("APP")
        if app is None:
            from django.core.exceptions import ImproperlyConfigured

            raise ImproperlyConfigured(f"STEWARD_JOB_BACKENDS[{alias!r}] needs OPTIONS['APP'].")
        self.app = import_string(app) if isinstance(app, str) else app
        for name, function in own.TASKS.items():
            self.app.task(name=f"steward.{name}", ignore_result=True)(function)

    def connect(self):
        uid = f"steward-jobs-{self.alias}"
        for signal, handler in [
            (signals.after_task_publish, self._on_published),
            (signals.task_prerun, self._on_prerun),
            (signals.task_success, self._on_success),
            (signals.task_failure, self._on_failure),
            (signals.task_retry, self._on_retry),
            (signals.task_revoked, self._on_revoked),
            (signals.task_unknown, self._on_unknown),
            (signals.task_internal_error, self._on_internal_error),
        ]:
            signal.connect(recording.guarded(handler), weak=False, dispatch_uid=f"{uid}-{signal}")

    # Signals

    def _on_published(self, sender=None, body=None, headers=None, routing_key=None, **kwargs):
        headers = headers or {}
        task_id = headers.get("id")
        if not task_id:
            return  # protocol 1 messages carry the id in the body; Celery 5 sends protocol 2
        args, task_kwargs = (body[0], body[1]) if isinstance(body, (list, tuple)) else ((), {})
        facts = recording.TaskFacts(
            kind=sender or headers.get("task", ""),
            task_path=sender or headers.get("task", ""),
            queue=routing_key or "",
            args=args,
            kwargs=task_kwargs,
        )
        recording.record_enqueued(self.alias, task_id, facts)

    def _facts(self, task, args=None, kwargs=None) -> recording.TaskFacts:
        request = getattr(task, "request", None)
        delivery = (getattr(request, "delivery_info", None) or {}) if request else {}
        return recording.TaskFacts(
            kind=task.name,
            task_path=task.name,
            queue=delivery.get("routing_key") or "",
            args=args if args is not None else getattr(request, "args", ()) or (),
            kwargs=kwargs if kwargs is not None else getattr(request, "kwargs", {}) or {},
        )

    def _on_prerun(self, sender=None, task_id=None, task=None, args=None, kwargs=None, **_):
        recording.record_started(self.alias, task_id, self._facts(task, args, kwargs))

    def _on_success(self, sender=None, result=None, **_):
        recording.record_finished(
            self.alias, sender.request.id, self._facts(sender), Job.Status.SUCCEEDED, result=result
        )

    def _on_failure(
        self, sender=None, task_id=None, exception=None, args=None, kwargs=None, einfo=None, **_
    ):
        recording.record_finished(
            self.alias,
            task_id,
            self._facts(sender, args, kwargs),
            Job.Status.FAILED,
            error=f"{type(exception).__name__}: {exception}",
            traceback=getattr(einfo, "traceback", "") or str(einfo or ""),
        )

    def _on_retry(self, sender=None, request=None, reason=None, einfo=None, **_):
        recording.record_retrying(
            self.alias,
            request.id,
            self._facts(sender, request.args, request.kwargs),
            error=f"Will run again: {reason}",
            traceback=getattr(einfo, "traceback", "") or "",
        )

    def _on_revoked(self, sender=None, request=None, expired=False, terminated=False, **_):
        task = sender
        facts = self._facts(task, getattr(request, "args", ()), getattr(request, "kwargs", {}))
        reason = "expired before it ran" if expired else "revoked"
        if terminated:
            reason = "terminated while running"
        recording.record_finished(
            self.alias, request.id, facts, Job.Status.CANCELLED, error=f"Cancelled: {reason}."
        )

    def _on_unknown(self, sender=None, name=None, id=None, message=None, exc=None, **_):
        facts = recording.TaskFacts(kind=name or "", task_path=name or "")
        recording.record_finished(
            self.alias,
            id,
            facts,
            Job.Status.FAILED,
            error=f"No worker knows the task {name!r}: {exc}",
        )

    def _on_internal_error(self, sender=None, task_id=None, exception=None, einfo=None, **_):
        recording.record_finished(
            self.alias,
            task_id,
            self._facts(sender),
            Job.Status.FAILED,
            error=f"Celery failed around the task: {type(exception).__name__}: {exception}",
            traceback=getattr(einfo, "traceback", "") or "",
        )

    # Actions

    def _send(self, name, args, kwargs, **options):
        try:
            self.app.send_task(name, args=args, kwargs=kwargs, task_id=str(uuid.uuid4()), **options)
        except UNREACHABLE as exc:
            raise JobBackendUnavailable(
                f"The Celery broker did not take the task: {type(exc).__name__}: {exc}"
            ) from None

    def retry(self, job):
        options = {"queue": job.queue} if job.queue else {}
        self._send(job.task_path, job.payload["args"], job.payload["kwargs"], **options)

    supports_bulk_retry = True

    def new_task_id(self):
        return str(uuid.uuid4())

    def retry_many(self, retries):
        """Each task as retry() sends it, over one producer (one broker connection)."""
        sent = 0
        try:
            with self.app.producer_or_acquire() as producer:
                for retry in retries:
                    options = {"queue": retry.queue} if retry.queue else {}
                    self.app.send_task(
                        retry.task_path,
                        args=retry.payload["args"],
                        kwargs=retry.payload["kwargs"],
                        task_id=retry.task_id,
                        producer=producer,
                        **options,
                    )
                    sent += 1
        except UNREACHABLE as exc:
            error = JobBackendUnavailable(
                f"The Celery broker did not take the task: {type(exc).__name__}: {exc}"
            )
            raise BulkRetryStopped(sent, error) from None

    def cancel(self, job, run, user):
        try:
            self.app.control.revoke(run.task_id)
        except UNREACHABLE as exc:
            raise JobBackendUnavailable(
                f"The Celery broker did not take the revoke: {type(exc).__name__}: {exc}"
            ) from None
        return True

    def enqueue_own(self, name, kwargs, run_after=None):
        options = {"eta": run_after} if run_after else {}
        if self.options.get("QUEUE"):
            options["queue"] = self.options["QUEUE"]
        self._send(f"steward.{name}", [], kwargs, **options)
