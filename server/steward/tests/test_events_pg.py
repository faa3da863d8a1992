"""PostgreSQL's side of live updates: writes notify at commit, and the hub's look at the
database knows which collections an older open transaction still holds back."""

import psycopg
import pytest
from django.db import connection, transaction
from django.utils import timezone

from steward import feed_stamps
from steward.events import cursors, notify
from steward.events.listener import connection_params
from steward.models import AuditEvent, Item
from steward.operations import serialize_item
from steward.services import items as item_services
from steward.tests.conftest import client_for
from steward.tests.test_feed_horizon import OpenTransaction

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="LISTEN/NOTIFY and the feed horizon are PostgreSQL's; SQLite polls",
    ),
]


@pytest.fixture
def listening():
    """A LISTEN connection built as the hub's listener builds it."""
    with psycopg.connect(autocommit=True, **connection_params()) as conn:
        conn.execute(f"LISTEN {notify.CHANNEL}")
        yield conn


def heard(conn, seconds=0.3):
    return [n.payload for n in conn.notifies(timeout=seconds)]


def test_every_mirrored_table_notifies():
    assert notify.tables_with_trigger(connection) >= set(feed_stamps.FEED_TABLES)


def test_a_write_notifies_once_per_table_at_its_commit(listening, make_item):
    items = [make_item() for _ in range(3)]
    heard(listening)
    with transaction.atomic():
        for item in items:
            Item.objects.filter(pk=item.pk).update(title="changed", updated_at=timezone.now())
        Item.objects.filter(pk__in=[i.pk for i in items]).update(title="again")
        AuditEvent.objects.create(action="test.write", target_type="item", target_id="1")
        assert heard(listening) == [], "a poke must never precede its commit"
    assert sorted(heard(listening)) == ["steward_auditevent", "steward_item"]


def test_a_rolled_back_write_notifies_nobody(listening, make_item):
    item = make_item()
    heard(listening)
    with pytest.raises(RuntimeError), transaction.atomic():
        Item.objects.filter(pk=item.pk).update(title="changed")
        raise RuntimeError("roll back")
    assert heard(listening) == []


def test_the_look_names_collections_held_back_by_an_older_transaction(make_user, make_item):
    moderator = make_user(roles=["moderator"])
    early, late = make_item(), make_item()
    assert cursors.held_back(["items", "queues", "jobs"]) == set()
    slow = OpenTransaction(
        lambda: item_services.decide_item(moderator, early.id, "remove", "", "", 1, serialize_item)
    )
    client_for(moderator).post(
        f"/api/v1/items/{late.id}/decisions",
        {"action": "approve", "base_version": 1},
        format="json",
    )
    found, held_back = cursors.compute(["items", "queues", "jobs"])
    assert held_back == {"items", "queues"}
    assert found == cursors.snapshot(["items", "queues", "jobs"])
    slow.finish()
    released, held_back = cursors.compute(["items", "queues", "jobs"])
    assert held_back == set()
    assert cursors.moved_forward(found["items"], released["items"])
