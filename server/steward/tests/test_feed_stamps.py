"""The database stamps every write to a mirrored table with feed_seq, in commit order.

The stamp is taken by the database (a trigger), never by the web process's clock, so
every write path is covered: the ORM, bulk updates, raw SQL, the admin, the worker. These
tests commit for real (transaction=True): on PostgreSQL the stamp is the writing
transaction's id, and rows of a transaction still open are not served.
"""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from steward import feed_stamps
from steward.feed_stamps import FEED_TABLES, missing_triggers
from steward.models import Account, AuditEvent, Item, Job, Queue, ReasonTemplate

pytestmark = pytest.mark.django_db(transaction=True)

ITEMS = "/api/v1/items"


def stamp_of(model, pk):
    return model.objects.values_list("feed_seq", flat=True).get(pk=pk)


def test_feed_follows_commit_order_even_when_a_web_host_clock_is_behind(
    moderator_client, make_item
):
    first, second = make_item(), make_item()
    cursor = moderator_client.get(ITEMS).json()["next_cursor"]
    Item.objects.filter(pk=first.pk).update(title="changed on a host with a good clock")
    page = moderator_client.get(ITEMS, {"updated_after": cursor}).json()
    assert [row["id"] for row in page["results"]] == [first.id]
    cursor = page["next_cursor"]
    # Another web host whose clock is a minute behind commits later.
    behind = timezone.now() - timedelta(minutes=1)
    Item.objects.filter(pk=second.pk).update(title="changed later", updated_at=behind)
    page = moderator_client.get(ITEMS, {"updated_after": cursor}).json()
    assert [row["id"] for row in page["results"]] == [second.id]


def _write_paths(make_item):
    """Each write path once, each in its own committed transaction, in this order."""
    item = make_item()
    member = Account.objects.create(username="stamped", joined_at=timezone.now())
    job = Job.objects.create(kind="send_email")
    template = ReasonTemplate.objects.create(scope="decision", code="c", label="C")
    event = AuditEvent.objects.create(action="x", target_type="x", target_id="1")
    stale = Item.objects.get(pk=item.pk)
    yield Item, item.pk
    yield Account, member.pk
    yield Job, job.pk
    yield ReasonTemplate, template.pk
    yield AuditEvent, event.pk
    Item.objects.filter(pk=item.pk).update(title="bulk update")
    yield Item, item.pk
    stale.title = "save() of an instance read before the bulk update"
    stale.save()
    yield Item, item.pk
    with connection.cursor() as cursor:
        cursor.execute("UPDATE steward_account SET display_name = 'raw' WHERE id = %s", [member.pk])
    yield Account, member.pk
    Queue.objects.filter(pk=item.queue_id).update(priority=3)
    yield Queue, item.queue_id


def test_every_write_path_gets_a_larger_stamp_than_every_earlier_commit(make_item):
    stamps = [stamp_of(model, pk) for model, pk in _write_paths(make_item)]
    assert all(stamp > 0 for stamp in stamps)
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps), "every commit stamps anew"


def test_rows_written_in_one_transaction_sort_after_every_earlier_commit(make_item):
    earlier = make_item()
    with transaction.atomic():
        Item.objects.filter(pk=earlier.pk).update(title="again")
        later = make_item()
    committed_before = make_item()  # a separate, later transaction
    assert stamp_of(Item, earlier.pk) <= stamp_of(Item, later.pk)
    assert stamp_of(Item, later.pk) < stamp_of(Item, committed_before.pk)


def test_every_mirrored_table_has_its_stamp_triggers():
    # The test database is built by migrating, as production is: this checks both.
    assert set(FEED_TABLES) == {
        model._meta.db_table for model in (AuditEvent, Item, Job, Account, Queue, ReasonTemplate)
    }
    assert missing_triggers(connection) == []


def test_rows_from_before_the_stamps_sort_below_every_new_stamp(make_item):
    """What migration 0003 does to rows that exist when it runs."""
    feed_stamps.uninstall(connection)
    try:
        legacy = [make_item() for _ in range(3)]
        assert {stamp_of(Item, item.pk) for item in legacy} == {0}
        feed_stamps.stamp_existing_rows(connection)
    finally:
        feed_stamps.install(connection)  # this test commits: never leave them out
    new = make_item()
    stamps = [stamp_of(Item, item.pk) for item in legacy]
    assert max(stamps) < stamp_of(Item, new.pk)
    if connection.vendor == "sqlite":
        # SQLite searches a row comparison by its first column: no ties to scan through.
        assert stamps == [item.pk for item in legacy]
