import uuid

import pytest

from steward.models import AuditEvent, Decision, IdempotencyRecord, Item
from steward.services import items as services


def decide(client, item, key=None, **body):
    body.setdefault("base_version", item.version)
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(f"/api/v1/items/{item.id}/decisions", body, format="json", **headers)


@pytest.mark.parametrize("action,state", [("approve", "approved"), ("remove", "removed")])
def test_decision_changes_item_and_writes_audit(moderator_client, make_item, action, state):
    item = make_item()
    response = decide(moderator_client, item, action=action, reason_code="spam", note="bye")
    assert response.status_code == 201
    body = response.json()
    decision = Decision.objects.get()
    assert body["decision"] == {
        "id": decision.id,
        "item": item.id,
        "action": action,
        "reason_code": "spam",
        "note": "bye",
        "base_version": 1,
        "actor": {"id": moderator_client.user.id, "username": moderator_client.user.username},
        "created_at": body["decision"]["created_at"],
    }
    assert body["item"]["state"] == state
    assert body["item"]["version"] == 2
    assert body["item"]["updated_at"] > item.updated_at.isoformat().replace("+00:00", "Z")

    event = AuditEvent.objects.get()
    assert event.actor == moderator_client.user
    assert event.actor_username == moderator_client.user.username
    assert (event.action, event.target_type, event.target_id) == (
        "item.decide",
        "item",
        str(item.id),
    )
    assert event.data == {
        "action": action,
        "reason_code": "spam",
        "note": "bye",
        "decision_id": decision.id,
        "base_version": 1,
        "effect": "none: the item has no object",
    }


def test_reason_code_and_note_are_optional(moderator_client, make_item):
    item = make_item()
    response = decide(moderator_client, item, action="escalate")
    assert response.status_code == 201
    assert response.json()["decision"]["reason_code"] == ""
    assert response.json()["item"]["state"] == "escalated"


def test_audit_failure_rolls_back_the_decision(moderator_client, make_item, monkeypatch):
    item = make_item()

    def broken_audit(*args, **kwargs):
        raise RuntimeError("audit storage is down")

    monkeypatch.setattr(services, "record_audit", broken_audit)
    response = decide(moderator_client, item, action="remove", key=str(uuid.uuid4()))
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
    item.refresh_from_db()
    assert (item.state, item.version) == ("open", 1)
    assert not Decision.objects.exists()
    assert not IdempotencyRecord.objects.exists()


def test_stale_version_is_409_with_current_item(moderator_client, make_item):
    item = make_item()
    Item.objects.filter(pk=item.pk).update(version=3)
    response = decide(moderator_client, item, action="approve", base_version=1)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "stale_version"
    assert body["fields"] == {}
    assert body["message"]
    assert body["current"]["id"] == item.id
    assert body["current"]["version"] == 3
    assert not Decision.objects.exists()
    assert not AuditEvent.objects.exists()


def test_deciding_a_closed_item_is_409_conflict(moderator_client, make_item):
    item = make_item(state=Item.State.REMOVED)
    response = decide(moderator_client, item, action="approve")
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert response.json()["current"]["state"] == "removed"


def test_second_decision_on_same_version_loses(moderator_client, client_as, make_item):
    item = make_item()
    assert decide(moderator_client, item, action="approve").status_code == 201
    other = client_as("moderator")
    response = decide(other, item, action="remove", base_version=1)
    assert response.status_code == 409
    assert response.json()["current"]["state"] == "approved"


def test_missing_item_is_404(moderator_client):
    response = moderator_client.post(
        "/api/v1/items/424242/decisions", {"action": "approve", "base_version": 1}, format="json"
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_idempotent_replay_returns_the_same_response_and_applies_once(moderator_client, make_item):
    item = make_item()
    key = str(uuid.uuid4())
    first = decide(moderator_client, item, key=key, action="remove", reason_code="spam")
    second = decide(moderator_client, item, key=key, action="remove", reason_code="spam")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Decision.objects.count() == 1
    assert AuditEvent.objects.count() == 1
    item.refresh_from_db()
    assert item.version == 2


def test_same_key_different_body_is_422(moderator_client, make_item):
    item = make_item()
    key = str(uuid.uuid4())
    assert decide(moderator_client, item, key=key, action="remove").status_code == 201
    response = decide(moderator_client, item, key=key, action="approve", base_version=1)
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert response.json()["fields"] == {}


def test_same_key_different_item_is_422(moderator_client, make_item):
    first, second = make_item(), make_item()
    key = str(uuid.uuid4())
    assert decide(moderator_client, first, key=key, action="remove").status_code == 201
    response = decide(moderator_client, second, key=key, action="remove")
    assert response.status_code == 422


def test_keys_are_scoped_per_user(moderator_client, client_as, make_item):
    first, second = make_item(), make_item()
    key = str(uuid.uuid4())
    assert decide(moderator_client, first, key=key, action="remove").status_code == 201
    other = client_as("moderator")
    assert decide(other, second, key=key, action="remove").status_code == 201


def test_errors_are_not_stored_so_a_retry_re_evaluates(moderator_client, make_item):
    item = make_item()
    key = str(uuid.uuid4())
    stale = decide(moderator_client, item, key=key, action="remove", base_version=7)
    assert stale.status_code == 409
    assert not IdempotencyRecord.objects.exists()


def test_overlong_idempotency_key_is_400(moderator_client, make_item):
    response = decide(moderator_client, make_item(), key="k" * 300, action="remove")
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["fields"]
