"""The product's background jobs, through one interface over its job backends.

A job backend (backends.JobBackend) knows one job system: django-tasks (any of its task
backends; cancelling needs the database backend) or Celery. It connects to the system's
own signals, which fill Steward's Job and JobRun rows as jobs are enqueued, start and
finish (recording.py), and it does what only the system can do: run a job again with the
same task and the same arguments, stop a pending one, and enqueue Steward's own work
(own.py). Listing, counting, filtering and the delta feed read those rows, so every
backend's jobs are one commit-ordered feed (steward.services.jobs).

Settings:

    STEWARD_JOB_BACKENDS = {
        "tasks": {"BACKEND": "steward.jobs.tasks_backend.DjangoTasksBackend",
                  "OPTIONS": {"TASK_BACKEND": "default"}},
        "celery": {"BACKEND": "steward.jobs.celery_backend.CeleryBackend",
                   "OPTIONS": {"APP": "proj.celery.app"}},
    }
    STEWARD_OWN_JOBS_BACKEND = "celery"   # where Steward's own work runs (default: the first)

Without STEWARD_JOB_BACKENDS, one django-tasks backend named "tasks" over TASKS["default"].
"""
