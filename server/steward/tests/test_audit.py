import pytest

from steward.models import AuditEvent
from steward.services.audit import record_audit
from steward.tests.conftest import commits

AUDIT = "/api/v1/audit"


@commits
def test_audit_feed_pages_with_an_opaque_cursor(admin_client, make_user):
    actor = make_user("alice")
    events = [record_audit(actor, "item.decide", "item", n, {"n": n}) for n in range(5)]
    first = admin_client.get(AUDIT, {"limit": 2}).json()
    assert [e["id"] for e in first["results"]] == [events[0].id, events[1].id]
    assert first["has_more"] is True
    assert first["total"] == 5
    assert first["results"][0] == {
        "id": events[0].id,
        "actor": {"id": actor.id, "username": "alice"},
        "actor_username": "alice",
        "action": "item.decide",
        "target_type": "item",
        "target_id": "0",
        "created_at": first["results"][0]["created_at"],
        "data": {"n": 0},
    }
    rest = admin_client.get(AUDIT, {"cursor": first["next_cursor"], "limit": 10}).json()
    assert [e["id"] for e in rest["results"]] == [e.id for e in events[2:]]
    assert rest["has_more"] is False
    assert rest["total"] is None
    empty = admin_client.get(AUDIT, {"cursor": rest["next_cursor"]}).json()
    assert empty == {"results": [], "next_cursor": None, "has_more": False, "total": None}


@commits
def test_after_id_is_still_a_filter(admin_client, make_user):
    actor = make_user("alice")
    events = [record_audit(actor, "item.decide", "item", n, {}) for n in range(4)]
    page = admin_client.get(AUDIT, {"after_id": events[1].id}).json()
    assert [e["id"] for e in page["results"]] == [events[2].id, events[3].id]
    assert page["total"] is None
    assert admin_client.get(AUDIT, {"after_id": 0}).json()["total"] == 4
    later = admin_client.get(AUDIT, {"after_id": events[0].id, "limit": 1}).json()
    after = admin_client.get(
        AUDIT, {"after_id": events[0].id, "cursor": later["next_cursor"]}
    ).json()
    assert [e["id"] for e in after["results"]] == [events[2].id, events[3].id]


def test_a_cursor_that_is_not_one_is_a_400(admin_client):
    response = admin_client.get(AUDIT, {"cursor": "12"})
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "cursor": ["This is not a cursor returned by this server."]
    }


@commits
def test_audit_filters(admin_client, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    record_audit(alice, "item.decide", "item", 1, {})
    wanted = record_audit(bob, "item.decide", "item", 2, {})
    record_audit(bob, "item.claim", "item", 2, {})
    record_audit(bob, "account.suspend", "member", 2, {})

    def ids(**params):
        return [e["id"] for e in admin_client.get(AUDIT, params).json()["results"]]

    assert ids(actor="bob", action="item.decide") == [wanted.id]
    assert len(ids(target_type="item", target_id="2")) == 2
    assert ids(actor="nobody") == []


@commits
def test_deleting_a_user_keeps_their_history(admin_client, make_user):
    gone = make_user("gone")
    record_audit(gone, "item.decide", "item", 1, {})
    gone.delete()
    event = admin_client.get(AUDIT).json()["results"][0]
    assert event["actor"] is None
    assert event["actor_username"] == "gone"


def test_audit_events_are_append_only(make_user):
    event = record_audit(make_user(), "item.decide", "item", 1, {})
    event.action = "tampered"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()
    assert AuditEvent.objects.get().action == "item.decide"


@commits
def test_audit_feed_counts_from_the_start_only(admin_client, make_user):
    for n in range(3):
        AuditEvent.objects.create(action=f"test.{n}", target_type="x", target_id=str(n))
    first = admin_client.get("/api/v1/audit", {"limit": 1}).json()
    assert first["total"] == AuditEvent.objects.count()
    later = admin_client.get("/api/v1/audit", {"limit": 1, "cursor": first["next_cursor"]}).json()
    assert later["total"] is None
