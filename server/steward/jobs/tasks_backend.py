"""django-tasks (the Tasks framework of Django 6, backported to 5.2 by django-tasks) as a
Steward job backend.

Its signals (task_enqueued, task_started, task_finished) fill Steward's record. A retry
enqueues the same task (by its import path, with its priority and queue) with the same
arguments: a new task result, linked to the failed one as the job's next run. Any task
backend can retry; cancelling a pending task needs django-tasks-db's database backend,
where Steward marks the waiting row as failed with the reason before a worker claims it
(a conditional UPDATE on its READY status, so a worker that got there first wins and the
cancel answers 409).

OPTIONS: TASK_BACKEND, the alias in TASKS (default "default"); QUEUE, the queue of
Steward's own tasks (default: the task backend's default queue).
"""

import logging
import uuid

from django.db import connection
from django.utils import timezone
from django.utils.module_loading import import_string

from steward.jobs import bulk_retry, recording
from steward.jobs.backends import JobBackend
from steward.jobs.errors import JobBackendUnavailable, JobNotCancellable, JobNotRetryable
from steward.models import Job

try:  # Django 6 ships the Tasks framework; django-tasks backports it to Django 5.2.
    from django.tasks import TaskResultStatus, task_backends
    from django.tasks.signals import task_enqueued, task_finished, task_started
except ImportError:  # pragma: no cover - depends on the Django version
    from django_tasks import TaskResultStatus, task_backends
    from django_tasks.signals import task_enqueued, task_finished, task_started

CANCELLED_EXCEPTION = "steward.jobs.Cancelled"


class DjangoTasksBackend(JobBackend):
    label = "django-tasks"

    def __init__(self, alias, options):
        super().__init__(alias, options)
        self.task_backend = options.get("TASK_BACKEND", "default")

    def connect(self):
        uid = f"steward-jobs-{self.alias}"
        task_enqueued.connect(self._on_enqueued, dispatch_uid=f"{uid}-enqueued", weak=False)
        task_started.connect(self._on_started, dispatch_uid=f"{uid}-started", weak=False)
        task_finished.connect(self._on_finished, dispatch_uid=f"{uid}-finished", weak=False)

    def _mine(self, task_result) -> bool:
        return task_result.backend == self.task_backend

    def _facts(self, task_result) -> recording.TaskFacts:
        task = task_result.task
        return recording.TaskFacts(
            kind=task.name,
            task_path=task.module_path,
            queue=task.queue_name,
            args=task_result.args,
            kwargs=task_result.kwargs,
            options={"priority": task.priority},
        )

    def _on_enqueued(self, sender, task_result, **kwargs):
        if self._mine(task_result):
            _record(
                recording.record_enqueued,
                self.alias,
                str(task_result.id),
                self._facts(task_result),
                task_result.enqueued_at,
            )

    def _on_started(self, sender, task_result, **kwargs):
        if self._mine(task_result):
            _record(
                recording.record_started,
                self.alias,
                str(task_result.id),
                self._facts(task_result),
            )

    def _on_finished(self, sender, task_result, **kwargs):
        if not self._mine(task_result):
            return
        if task_result.status == TaskResultStatus.SUCCESSFUL:
            _record(
                recording.record_finished,
                self.alias,
                str(task_result.id),
                self._facts(task_result),
                Job.Status.SUCCEEDED,
                result=task_result.return_value,
            )
            return
        error = task_result.errors[-1] if task_result.errors else None
        traceback = error.traceback if error else ""
        _record(
            recording.record_finished,
            self.alias,
            str(task_result.id),
            self._facts(task_result),
            Job.Status.FAILED,
            error=recording.error_line(traceback, error.exception_class_path if error else ""),
            traceback=traceback,
        )

    def _task(self, job):
        """The task of a Job (or a bulk_retry.Retry: the same task_path, queue, options)."""
        try:
            task = import_string(job.task_path)
        except ImportError as exc:
            raise JobNotRetryable(
                f"The task {job.task_path} can no longer be imported ({exc}), so it cannot "
                "run again."
            ) from None
        return task.using(
            priority=job.options.get("priority"),
            queue_name=job.queue or None,
            backend=self.task_backend,
        )

    def retry(self, job):
        task = self._task(job)
        try:
            task.enqueue(*job.payload["args"], **job.payload["kwargs"])
        except (OSError, ConnectionError) as exc:
            raise JobBackendUnavailable(f"The task backend did not take the job: {exc}") from None

    def check_retry(self, job):
        self._task(job)  # raises JobNotRetryable when the task cannot be imported

    @property
    def supports_bulk_retry(self):
        # Only the database backend's rows can be written in bulk with ids chosen first,
        # and only with its default ids (UUID 4): an id_function may be a database
        # expression, which only its own INSERT can evaluate.
        if self._db_result_model() is None:
            return False
        return not task_backends[self.task_backend].options.get("id_function")

    def new_task_id(self):
        return str(uuid.uuid4())

    def retry_many(self, retries):
        """The task rows django-tasks-db's enqueue writes (backend._task_to_db_task, and
        its pre_save handler's run_after), in bulk: on PostgreSQL straight from the jobs'
        stored arguments (INSERT ... SELECT), elsewhere through bulk_create. Then its
        task_enqueued signal for each, as enqueue sends it, when anything but Steward's
        own handler and django-tasks' debug log (while off) listens."""
        from django_tasks_db.compat import normalize_json
        from django_tasks_db.models import get_date_max

        db_result = self._db_result_model()
        backend = task_backends[self.task_backend]
        groups = {}
        for retry in retries:
            key = (retry.task_path, retry.queue, retry.options.get("priority"))
            if key not in groups:
                task = self._task(retry)
                backend.validate_task(task)
                groups[key] = (task, [])
            groups[key][1].append(retry)
        for task, group in groups.values():
            fields = {
                "priority": task.priority,
                "task_path": task.module_path,
                "queue_name": task.queue_name,
                "run_after": task.run_after or get_date_max(),
                "backend_name": backend.alias,
            }
            if connection.vendor == "postgresql":
                _insert_task_rows_postgresql(db_result, group, fields)
            else:
                rows = [
                    db_result(
                        id=retry.task_id,
                        args_kwargs=normalize_json(
                            {"args": retry.payload["args"], "kwargs": retry.payload["kwargs"]}
                        ),
                        **fields,
                    )
                    for retry in group
                ]
                db_result.objects.bulk_create(rows, batch_size=bulk_retry.BATCH)
        if _others_listen(type(backend), self._on_enqueued):
            ids = [retry.task_id for retry in retries]
            for row in db_result.objects.filter(id__in=ids).order_by("enqueued_at", "id"):
                task_enqueued.send(type(backend), task_result=row.task_result)

    def cancel(self, job, run, user):
        db_result = self._db_result_model()
        if db_result is None:
            raise JobNotCancellable(
                f"The task backend {self.task_backend!r} cannot stop a pending task; only "
                "django-tasks-db's database backend can."
            )
        waiting = db_result.objects.filter(id=run.task_id)
        if not waiting.exists():
            return True  # no row left to run: nothing will start
        who = user.get_username() if user else "Steward"
        return bool(
            waiting.filter(status=TaskResultStatus.READY).update(
                status=TaskResultStatus.FAILED,
                finished_at=timezone.now(),
                exception_class_path=CANCELLED_EXCEPTION,
                traceback=f"Cancelled through Steward by {who}.",
            )
        )

    def enqueue_own(self, name, kwargs, run_after=None):
        from steward.tasks import TASKS

        task = TASKS[name].using(backend=self.task_backend, run_after=run_after)
        if self.options.get("QUEUE"):
            task = task.using(queue_name=self.options["QUEUE"])
        task.enqueue(**kwargs)

    def reconcile(self):
        """Jobs Steward still shows pending or running whose database row says otherwise
        (a handler that failed, a worker killed mid-task and its row failed by hand)."""
        db_result = self._db_result_model()
        if db_result is None:
            return 0
        corrected = 0
        open_jobs = Job.objects.filter(
            backend=self.alias, status__in=(Job.Status.PENDING, Job.Status.RUNNING)
        ).exclude(task_id="")
        for job in open_jobs.iterator():
            row = db_result.objects.filter(id=job.task_id).first()
            if row is None or row.status in (TaskResultStatus.READY, TaskResultStatus.RUNNING):
                continue
            if row.exception_class_path == CANCELLED_EXCEPTION:
                continue
            self._on_finished(None, row.task_result)
            corrected += 1
        return corrected

    def _db_result_model(self):
        try:
            from django_tasks_db.backend import DatabaseBackend
            from django_tasks_db.models import DBTaskResult
        except ImportError:
            return None
        if not isinstance(task_backends[self.task_backend], DatabaseBackend):
            return None
        return DBTaskResult


def _insert_task_rows_postgresql(db_result, retries, fields):
    """The rows bulk_create would write, from the jobs' own stored arguments (exactly
    what normalize_json gives for arguments read back from JSON)."""
    meta = db_result._meta
    column = {field.name: connection.ops.quote_name(field.column) for field in meta.fields}
    names = ["id", "status", "enqueued_at", "args_kwargs", "worker_ids", *fields]
    names += ["exception_class_path", "traceback"]
    values = ["new.task_id::uuid", "%s", "%s", "j.payload", "'[]'::jsonb"]
    values += ["%s"] * len(fields) + ["''", "''"]
    table = connection.ops.quote_name(meta.db_table)
    columns = ", ".join(column[name] for name in names)
    source = (
        "FROM unnest(%s::bigint[], %s::text[]) AS new(job_id, task_id) "
        "JOIN steward_job j ON j.id = new.job_id ORDER BY new.job_id"
    )
    # Quoted names from the model; every value is a parameter.
    sql = f"INSERT INTO {table} ({columns}) SELECT {', '.join(values)} {source}"  # noqa: S608
    params = [TaskResultStatus.READY, timezone.now(), *fields.values()]
    params += [[retry.job_id for retry in retries], [retry.task_id for retry in retries]]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _others_listen(sender, own_handler) -> bool:
    """Whether task_enqueued has receivers besides Steward's own (which ignores a bulk
    retry's tasks) and django-tasks' debug log while that log is off."""
    try:
        from django.tasks import signals
    except ImportError:  # pragma: no cover - depends on the Django version
        from django_tasks import signals

    log = getattr(signals, "log_task_enqueued", None)
    log_off = not signals.logger.isEnabledFor(logging.DEBUG)
    try:
        sync_receivers, async_receivers = task_enqueued._live_receivers(sender)
    except (AttributeError, ValueError, TypeError):
        return True  # another Django's dispatcher: send, as enqueue does
    for receiver in [*sync_receivers, *async_receivers]:
        if receiver == own_handler:
            continue
        if receiver is log and log_off:
            continue
        return True
    return False


@recording.guarded
def _record(function, *args, **kwargs):
    function(*args, **kwargs)
