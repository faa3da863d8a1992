"""The forum's background jobs: some on django-tasks (run by `manage.py db_worker`), some
on Celery (run by `celery -A demo worker`). Several fail for real, with real exceptions,
so that their tracebacks and retries mean something."""

import csv
import io
import time

from celery import shared_task
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction

try:  # Django 6 ships the Tasks framework; django-tasks backports it to Django 5.2.
    from django.tasks import task
except ImportError:  # pragma: no cover - depends on the Django version
    from django_tasks import task

from forum.models import ReportCache


class InvalidRecipient(ValueError):
    """The address cannot receive mail; retrying will not help until it is fixed."""


# django-tasks


def warm_cache_work(name: str, timeout_seconds: float, work_seconds: float) -> float:
    """Work over a cache: cold, it takes work_seconds and gives up at its deadline, leaving
    the cache warm; warm, it takes a tenth of the time. So a retry of a run that timed out
    succeeds, as with a report over a cold cache."""
    warm = ReportCache.objects.filter(name=name).exists()
    work = work_seconds / 10 if warm else work_seconds
    if work > timeout_seconds:
        time.sleep(timeout_seconds)
        ReportCache.objects.get_or_create(name=name)
        raise TimeoutError(f"{name} did not finish within {timeout_seconds:g} s")
    time.sleep(work)
    return round(work, 3)


@task()
def build_report(queue: str = "all", timeout_seconds: float = 1.0, work_seconds: float = 2.0):
    """A moderation report of one queue (see warm_cache_work)."""
    seconds = warm_cache_work(queue, timeout_seconds, work_seconds)
    return {"queue": queue, "seconds": seconds}


@task()
def import_members_csv(csv_text: str):
    """Create forum users from "username,email" lines; a malformed file changes nothing."""
    rows = list(csv.reader(io.StringIO(csv_text)))
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
    user_model = get_user_model()
    created = 0
    with transaction.atomic():
        for username, email in parsed:
            _, was_created = user_model.objects.get_or_create(
                username=username, defaults={"email": email}
            )
            created += was_created
    return {"rows": len(parsed), "created": created}


# Celery


def deliver(to, subject, body):
    try:
        validate_email(to)
    except ValidationError:
        raise InvalidRecipient(f"{to!r} is not a valid email address") from None
    send_mail(subject, body, None, [to])


@shared_task
def send_email(to: str, subject: str, body: str):
    deliver(to, subject, body)
    return {"sent_to": to}


@shared_task
def rebuild_search_index(
    index: str = "posts", timeout_seconds: float = 1.0, work_seconds: float = 2.0
):
    """Rebuild a search index (see warm_cache_work): times out over a cold cache."""
    seconds = warm_cache_work(f"index:{index}", timeout_seconds, work_seconds)
    return {"index": index, "seconds": seconds}


@shared_task
def notify_followers(post_id: str, title: str):
    """Tell the author's followers about a new post (the demo has none: it only logs)."""
    return {"post": post_id, "title": title, "notified": 0}


@shared_task
def send_reminder(user_id: int, when):
    """Remind a user at `when`, a datetime: Celery's JSON serializer carries it, but plain
    JSON cannot hold it exactly, so Steward lists this job with retry disabled."""
    user = get_user_model().objects.get(pk=user_id)
    deliver(user.email, "A reminder", f"You asked to be reminded at {when:%Y-%m-%d %H:%M}.")
    return {"sent_to": user.email}
