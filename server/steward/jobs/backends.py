"""The job backend interface and the configured backends.

A backend does what only its job system can do; Steward's Job rows (recording.py) are
what lists, counts, filters and the delta feed read, for every backend alike.
"""

import functools

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from steward.models import Job, JobRun

DEFAULT_BACKENDS = {
    "tasks": {
        "BACKEND": "steward.jobs.tasks_backend.DjangoTasksBackend",
        "OPTIONS": {"TASK_BACKEND": "default"},
    }
}


class JobBackend:
    """One job system. Subclasses implement connect, retry, cancel and enqueue_own."""

    # Shown to staff beside the alias.
    label = ""

    def __init__(self, alias: str, options: dict):
        self.alias = alias
        self.options = options

    def connect(self) -> None:
        """Connect the system's signals to recording.py; called once, at start-up."""
        raise NotImplementedError

    def retry(self, job: Job) -> None:
        """Enqueue the job's task again with its exact arguments. Called inside
        recording.enqueueing(job=...); raises JobNotRetryable or JobBackendUnavailable."""
        raise NotImplementedError

    # Whether retry_many is implemented: a retry of many jobs is then recorded and audited
    # in bulk and sent in one go; otherwise each job is retried on its own (retry).
    supports_bulk_retry = False

    def check_retry(self, job) -> None:
        """Raise JobNotRetryable when this job (a Job or a bulk_retry.Retry) cannot be
        sent again (its task is gone)."""

    def new_task_id(self) -> str:
        """The id a retry sent by retry_many will have on this system."""
        raise NotImplementedError

    def retry_many(self, retries) -> None:
        """Send each retry's job (bulk_retry.Retry) again with its exact
        arguments under that task id, in order. Called after the retries are recorded,
        inside recording.enqueueing(bulk=True); raises errors.BulkRetryStopped(sent,
        error) when the system stops taking them part way."""
        raise NotImplementedError

    def cancel(self, job: Job, run: JobRun, user) -> bool:
        """Stop a pending run. False when it has started already (or finished);
        JobNotCancellable when the system cannot stop pending jobs at all."""
        raise NotImplementedError

    def enqueue_own(self, name: str, kwargs: dict, run_after=None) -> None:
        """Enqueue Steward's own task `name` (own.TASKS), at `run_after` if given."""
        raise NotImplementedError

    def reconcile(self) -> int:
        """Record what the system knows and a signal did not say (a crashed handler, a
        worker killed mid-task); returns the number of jobs corrected. Optional."""
        return 0


@functools.cache
def _loaded() -> dict[str, JobBackend]:
    configured = getattr(settings, "STEWARD_JOB_BACKENDS", None) or DEFAULT_BACKENDS
    loaded = {}
    for alias, config in configured.items():
        if not isinstance(config, dict) or "BACKEND" not in config:
            raise ImproperlyConfigured(
                f"STEWARD_JOB_BACKENDS[{alias!r}] needs a 'BACKEND' (a dotted class path)."
            )
        backend_class = import_string(config["BACKEND"])
        loaded[alias] = backend_class(alias, dict(config.get("OPTIONS", {})))
    return loaded


def all_backends() -> dict[str, JobBackend]:
    return _loaded()


def get_backend(alias: str) -> JobBackend | None:
    return _loaded().get(alias)


def own_backend() -> JobBackend:
    """Where Steward's own work runs: STEWARD_OWN_JOBS_BACKEND, else the first backend."""
    backends = _loaded()
    alias = getattr(settings, "STEWARD_OWN_JOBS_BACKEND", None) or next(iter(backends))
    if alias not in backends:
        raise ImproperlyConfigured(
            f"STEWARD_OWN_JOBS_BACKEND is {alias!r}, which STEWARD_JOB_BACKENDS does not name."
        )
    return backends[alias]


def connect_all() -> None:
    for backend in _loaded().values():
        backend.connect()
