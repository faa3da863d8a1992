"""Delta feeds never skip a committed row, even when transactions commit out of order.

The race: transaction A stamps its row first but commits after transaction B. A client
that reads the feed between B's commit and A's must still see A's row on its next read
with the cursor it got. These tests run A on a second real connection (a thread that
holds its transaction open) and B on the test's own connection, both committed for real,
so they need PostgreSQL: the SQLite test database is one shared in-memory database in
which a second writer cannot wait beside the first.
"""

import threading

import pytest
from django.db import connection, connections, transaction

from steward import events
from steward.feeds import decode_cursor
from steward.models import AuditEvent, Job
from steward.operations import serialize_item
from steward.services import audit as audit_services
from steward.services import items as item_services
from steward.services import jobs as job_services
from steward.tests.conftest import client_for, enqueue_job, run_db_worker

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs two concurrent write transactions on real connections (PostgreSQL); "
        "SQLite serializes writers, see test_feed_stamps.py",
    ),
]

ITEMS = "/api/v1/items"
JOBS = "/api/v1/jobs"
AUDIT = "/api/v1/audit"


class OpenTransaction:
    """Runs `write` in a transaction on its own connection and commits only on finish()."""

    def __init__(self, write):
        self.write = write
        self.wrote = threading.Event()
        self.commit = threading.Event()
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.wrote.wait(20), "the slow transaction did not write in time"
        if self.error:
            raise self.error

    def _run(self):
        try:
            with transaction.atomic():
                self.write()
                self.wrote.set()
                assert self.commit.wait(20), "the test never let the slow transaction commit"
        except BaseException as error:  # handed to the test thread
            self.error = error
            self.wrote.set()
        finally:
            connections.close_all()

    def finish(self):
        self.commit.set()
        self.thread.join(20)
        if self.error:
            raise self.error


def follow(client, path, cursor_param, cursor, **params):
    """Read a feed to its end from `cursor`, as a mirroring client does.

    Returns the rows in the order served and the cursor to keep (a page without rows
    gives next_cursor null: the client keeps the one it had).
    """
    rows = []
    for _ in range(50):
        query = {"limit": 2, **params}
        if cursor is not None:
            query[cursor_param] = cursor
        response = client.get(path, query)
        assert response.status_code == 200, response.content
        body = response.json()
        rows += body["results"]
        cursor = body["next_cursor"] or cursor
        if not body["has_more"]:
            return rows, cursor
    raise AssertionError(f"{path} still had more rows after 50 pages: the cursor does not move")


def test_items_feed_serves_an_item_decided_first_but_committed_last(make_user, make_item):
    moderator = make_user(roles=["moderator"])
    client = client_for(moderator)
    early, late = make_item(), make_item()
    rows, cursor = follow(client, ITEMS, "updated_after", None)
    mirror = {row["id"]: row["state"] for row in rows}
    assert mirror == {early.id: "open", late.id: "open"}

    slow = OpenTransaction(
        lambda: item_services.decide_item(moderator, early.id, "remove", "", "", 1, serialize_item)
    )
    decided = client.post(
        f"{ITEMS}/{late.id}/decisions", {"action": "approve", "base_version": 1}, format="json"
    )
    assert decided.status_code == 201
    rows, cursor = follow(client, ITEMS, "updated_after", cursor)
    mirror.update({row["id"]: row["state"] for row in rows})
    slow.finish()
    rows, cursor = follow(client, ITEMS, "updated_after", cursor)
    mirror.update({row["id"]: row["state"] for row in rows})

    assert mirror == {early.id: "removed", late.id: "approved"}


def _job(status):
    job = enqueue_job("import_members_csv", "username,email\nann\n")
    if status == Job.Status.FAILED:
        run_db_worker()
    return Job.objects.get(pk=job.pk)


def test_jobs_feed_serves_a_job_changed_first_but_committed_last(make_user):
    admin = make_user(roles=["admin"])
    client = client_for(admin)
    failed, pending = _job(Job.Status.FAILED), _job(Job.Status.PENDING)
    rows, cursor = follow(client, JOBS, "updated_after", None)
    mirror = {row["id"]: row["status"] for row in rows}
    assert mirror == {failed.id: "failed", pending.id: "pending"}

    slow = OpenTransaction(lambda: job_services.retry_job(admin, failed.id))
    cancelled = client.post(f"{JOBS}/{pending.id}/cancel")
    assert cancelled.status_code == 200
    rows, cursor = follow(client, JOBS, "updated_after", cursor)
    mirror.update({row["id"]: row["status"] for row in rows})
    slow.finish()
    rows, cursor = follow(client, JOBS, "updated_after", cursor)
    mirror.update({row["id"]: row["status"] for row in rows})

    assert mirror == {failed.id: "pending", pending.id: "cancelled"}


def test_audit_feed_serves_an_event_inserted_first_but_committed_last(make_user):
    admin = make_user(roles=["admin"])
    client = client_for(admin)
    before = audit_services.record_audit(admin, "test.before", "x", 1, {})
    rows, cursor = follow(client, AUDIT, "cursor", None)
    served = [row["id"] for row in rows]
    assert served == [before.id]

    slow = OpenTransaction(lambda: audit_services.record_audit(admin, "test.slow", "x", 2, {}))
    fast = audit_services.record_audit(admin, "test.fast", "x", 3, {})
    rows, cursor = follow(client, AUDIT, "cursor", cursor)
    served += [row["id"] for row in rows]
    slow.finish()
    rows, cursor = follow(client, AUDIT, "cursor", cursor)
    served += [row["id"] for row in rows]

    slow_event = AuditEvent.objects.get(action="test.slow")
    # Sequence ids are handed out at INSERT: the slow event has the smaller id.
    assert slow_event.id < fast.id
    # Every event exactly once: none missed, none served again.
    assert sorted(served) == sorted([before.id, slow_event.id, fast.id])
    assert len(served) == 3


def test_pokes_wait_for_the_horizon_and_announce_a_late_commit(make_user, make_item):
    moderator = make_user(roles=["moderator"])
    client = client_for(moderator)
    early, late = make_item(), make_item()
    _, cursor = follow(client, ITEMS, "updated_after", None)
    assert events.snapshot(["items"])["items"] == cursor

    slow = OpenTransaction(
        lambda: item_services.decide_item(moderator, early.id, "remove", "", "", 1, serialize_item)
    )
    client.post(
        f"{ITEMS}/{late.id}/decisions", {"action": "approve", "base_version": 1}, format="json"
    )
    # The poke names no row the feed does not serve yet: `late` moved above the horizon,
    # so the newest row served now is an older one, and the feed serves nothing new.
    held_back = events.snapshot(["items"])["items"]
    rows, cursor = follow(client, ITEMS, "updated_after", cursor)
    assert rows == []
    assert decode_cursor(held_back) <= decode_cursor(cursor)
    assert not events.moved_forward(cursor, held_back)
    slow.finish()
    # Once the slow transaction commits, the newest cursor moves past the client's: a
    # stream pokes, naming exactly where the client's next read ends.
    moved = events.snapshot(["items"])["items"]
    assert events.moved_forward(cursor, moved)
    rows, cursor = follow(client, ITEMS, "updated_after", cursor)
    assert {row["id"] for row in rows} == {early.id, late.id}
    assert moved == cursor
