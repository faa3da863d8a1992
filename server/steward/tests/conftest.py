"""Factories and per-role authenticated API clients for the Steward tests, and the demo
product started for real (demo_stack) for tests that need servers and workers."""

import itertools
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from rest_framework.test import APIClient

from steward import auth
from steward.models import Account, Item, Queue, Report, Suspension

PASSWORD = "correct horse battery staple"

# For tests that write and then read a delta feed. A feed serves only rows below the
# horizon under which no transaction can still commit; on PostgreSQL a test that runs
# inside one transaction is itself still running, so its own rows would wait there
# forever, and every write in it shares one stamp. These tests commit for real.
commits = pytest.mark.django_db(transaction=True)
_counter = itertools.count(1)


@pytest.fixture
def make_user(db):
    def make(username=None, roles=(), password=PASSWORD, **extra):
        user = get_user_model().objects.create_user(
            username=username or f"staff{next(_counter)}", password=password, **extra
        )
        for role in roles:
            user.groups.add(Group.objects.get_or_create(name=role)[0])
        return user

    return make


@pytest.fixture
def make_queue(db):
    def make(name=None, priority=0):
        n = next(_counter)
        return Queue.objects.create(slug=f"queue-{n}", name=name or f"Queue {n}", priority=priority)

    return make


@pytest.fixture
def make_account(db):
    """make_account("ann", email=..., suspended=True) -> the Account of a new product user
    (created by the user's own post_save, as in the product)."""

    def make(username=None, suspended=False, **extra):
        extra.setdefault("password", PASSWORD)
        user = get_user_model().objects.create_user(
            username=username or f"member{next(_counter)}", **extra
        )
        account = Account.objects.get(user_key=str(user.pk))
        if suspended:
            Suspension.objects.create(account=account, deactivated_user=True)
            user.is_active = False
            user.save()
            account.refresh_from_db()
        account.user = user
        return account

    return make


@pytest.fixture
def make_item(db, make_queue, make_account):
    def make(queue=None, author=None, reports=(), **fields):
        now = timezone.now()
        fields.setdefault("title", f"Item {next(_counter)}")
        fields.setdefault("body_html", "<p>hello</p>")
        fields.setdefault("created_at", now)
        fields.setdefault("updated_at", fields["created_at"])
        item = Item.objects.create(
            queue=queue or make_queue(), author=author or make_account(), **fields
        )
        for reason in reports:
            Report.objects.create(item=item, reason=reason, note="", created_at=now)
        return item

    return make


@pytest.fixture
def api():
    """An anonymous API client."""
    return APIClient()


def client_for(user):
    issued = auth.login(user.username, PASSWORD)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.access_token}")
    client.user = user
    client.tokens = issued
    return client


@pytest.fixture
def client_as(make_user):
    """client_as("moderator") -> an API client signed in as a new user with that role."""

    def make(*roles, **extra):
        return client_for(make_user(roles=roles, **extra))

    return make


@pytest.fixture
def moderator_client(client_as):
    return client_as("moderator")


@pytest.fixture
def support_client(client_as):
    return client_as("support")


@pytest.fixture
def admin_client(client_as):
    return client_as("admin")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2 with real iteration counts dominates test time; MD5 is fine for tests."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run_db_worker():
    """Run every queued django-tasks task on the real database worker, then return."""
    from django.core.management import call_command

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


def enqueue_job(name, *args, **kwargs):
    """Enqueue the forum's django-tasks task `name` for real; returns its Steward Job."""
    from django.db import transaction

    from forum import tasks
    from steward.models import Job

    with transaction.atomic():
        result = getattr(tasks, name).enqueue(*args, **kwargs)
    return Job.objects.get(backend="tasks", task_id=str(result.id))


def make_job(status="failed"):
    """A job of the forum's django-tasks build_report task, enqueued for real inside the
    test's transaction (so it is pending with a waiting task row), then set to `status`."""
    from steward.models import Job, JobRun

    job = enqueue_job("build_report", queue="fixture", timeout_seconds=1, work_seconds=0)
    if status != "pending":
        Job.objects.filter(pk=job.pk).update(status=status)
        JobRun.objects.filter(job=job).update(status=status)
    return Job.objects.get(pk=job.pk)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """Redis for the Celery tests: STEWARD_TEST_REDIS_URL's (scripts/test.sh starts one),
    else a throwaway redis-server of this session."""
    import os

    from steward.tests.live import Redis

    url = os.environ.get("STEWARD_TEST_REDIS_URL")
    if url:
        yield re.sub(r"/\d*$", "", url)  # the server; each stack takes a database of its own
        return
    redis = Redis(tmp_path_factory.mktemp("redis"))
    try:
        yield f"redis://127.0.0.1:{redis.port}"
    finally:
        redis.stop()


_broker_dbs = itertools.count(1)


@pytest.fixture
def demo_stack(tmp_path, redis_server, django_db_blocker):
    """demo_stack(items=5, celery=False, db_worker=False, **env) -> a running live.Stack:
    the demo product on its own new database (PostgreSQL when the run uses it), seeded,
    under gunicorn, with a Celery worker on a Redis database of its own and/or db_worker.
    Everything it starts is stopped, and its database dropped, after the test."""
    from django.db import connection

    from steward.tests import live

    started = []

    def start(items=5, celery=False, db_worker=False, asgi=False, seed=(), **env):
        directory = tmp_path / f"stack{len(started)}"
        directory.mkdir()
        with django_db_blocker.unblock():
            url, drop = live.database_url(directory, connection)
        broker = f"{redis_server}/{next(_broker_dbs) % 16}"
        stack = live.Stack(directory, live.stack_env(url, broker, **env))
        stack.drop_database = drop
        started.append(stack)
        stack.manage("migrate", "--noinput")
        stack.manage("seed_demo", "--items", str(items), "--password", live.PASSWORD, *seed)
        stack.start_web(asgi=asgi)
        if celery:
            stack.start_celery()
        if db_worker:
            stack.start_db_worker()
        return stack

    yield start
    for stack in started:
        stack.stop()
        with django_db_blocker.unblock():
            stack.drop_database()
