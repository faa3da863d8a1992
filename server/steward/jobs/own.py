"""Steward's own background work, run on whichever backend the product uses
(STEWARD_OWN_JOBS_BACKEND): plain functions that take JSON keyword arguments, wrapped as
a django-tasks task (steward/tasks.py) or a Celery task named "steward.<name>"
(celery_backend.py). Each is safe to run twice.
"""

from django.db import transaction

from steward.jobs.backends import own_backend
from steward.jobs.recording import enqueueing


def send_password_reset(account_id: int):
    """Mail Django's own password reset message to the account's user."""
    from steward.services.accounts import send_password_reset_mail

    return send_password_reset_mail(account_id)


def end_suspension(suspension_id: int):
    """End a suspension whose time is up (a no-op when it ended already)."""
    from steward.services.accounts import end_expired_suspension

    return end_expired_suspension(suspension_id)


TASKS = {"send_password_reset": send_password_reset, "end_suspension": end_suspension}


def enqueue(name: str, kwargs: dict, *, created_by=None, summary: str = "", run_after=None):
    """Enqueue Steward's own task `name`; returns its Job (recorded by the backend's
    enqueue signal, in the caller's transaction where the backend writes to the database)."""
    if name not in TASKS:
        raise LookupError(f"Steward has no task named {name!r}")
    with transaction.atomic(), enqueueing(created_by=created_by, summary=summary) as context:
        own_backend().enqueue_own(name, kwargs, run_after=run_after)
    return context.recorded
