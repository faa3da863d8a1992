"""Delta feeds of queues and reason templates: keyset over (feed_seq, id), opt-in with
updated_after so the plain lists keep their shape."""

from datetime import timedelta

from django.utils import timezone

from steward.models import Queue, ReasonTemplate
from steward.tests.conftest import commits


def test_plain_queue_list_keeps_priority_order_and_null_cursor(moderator_client, make_queue):
    low, high = make_queue(priority=1), make_queue(priority=9)
    body = moderator_client.get("/api/v1/queues").json()
    assert [q["id"] for q in body["results"]] == [high.id, low.id]
    assert body["next_cursor"] is None


@commits
def test_queue_feed_pages_and_moves_when_an_item_changes(moderator_client, make_queue, make_item):
    queues = [make_queue() for _ in range(3)]
    # One UPDATE: on PostgreSQL all three share the transaction's stamp, and id breaks ties.
    Queue.objects.update(updated_at=timezone.now() - timedelta(hours=1))
    first = moderator_client.get("/api/v1/queues", {"updated_after": "", "limit": 2}).json()
    assert [q["id"] for q in first["results"]] == [queues[0].id, queues[1].id]
    assert first["has_more"] is True
    rest = moderator_client.get("/api/v1/queues", {"updated_after": first["next_cursor"]}).json()
    assert [q["id"] for q in rest["results"]] == [queues[2].id]
    assert rest["has_more"] is False
    make_item(queue=queues[0])  # a new open item changes the queue's counts
    moved = moderator_client.get("/api/v1/queues", {"updated_after": rest["next_cursor"]}).json()
    assert [(q["id"], q["open_count"]) for q in moved["results"]] == [(queues[0].id, 1)]


@commits
def test_reason_template_feed_includes_deactivated_ones(moderator_client, db):
    kept = ReasonTemplate.objects.create(scope="decision", code="spam", label="Spam")
    gone = ReasonTemplate.objects.create(scope="decision", code="old", label="Old")
    page = moderator_client.get("/api/v1/reason-templates", {"updated_after": ""}).json()
    cursor = page["next_cursor"]
    assert [t["id"] for t in page["results"]] == [kept.id, gone.id]
    gone.active = False
    gone.save()
    changed = moderator_client.get("/api/v1/reason-templates", {"updated_after": cursor}).json()
    assert [(t["id"], t["active"]) for t in changed["results"]] == [(gone.id, False)]
    plain = moderator_client.get("/api/v1/reason-templates").json()
    assert [t["id"] for t in plain["results"]] == [kept.id]
