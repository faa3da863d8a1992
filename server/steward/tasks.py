"""Steward's own work as django-tasks tasks (see steward/jobs/own.py), for products whose
job backend is django-tasks. Celery products get the same functions as Celery tasks."""

try:  # Django 6 ships the Tasks framework; django-tasks backports it to Django 5.2.
    from django.tasks import task
except ImportError:  # pragma: no cover - depends on the Django version
    from django_tasks import task

from steward.jobs import own


@task()
def send_password_reset(account_id: int):
    return own.send_password_reset(account_id)


@task()
def end_suspension(suspension_id: int):
    return own.end_suspension(suspension_id)


TASKS = {"send_password_reset": send_password_reset, "end_suspension": end_suspension}
