"""A replayed Idempotency-Key is answered from its stored record before permissions and
validation: the action was applied, and only its answer was lost. Authentication still
comes first (records belong to a user).
"""

import pytest
from django.contrib.auth.models import Group

from steward import operations
from steward.errors import validation_error
from steward.models import AuditEvent, Decision
from steward.tests.conftest import client_for

BODY = {"action": "remove", "reason_code": "spam", "base_version": 1}


@pytest.fixture
def moderator(make_user):
    return make_user(roles=["moderator"])


def decide(client, item, key, body=BODY):
    return client.post(
        f"/api/v1/items/{item.id}/decisions", body, format="json", HTTP_IDEMPOTENCY_KEY=key
    )


def batch(client, item, key, args=BODY):
    entry = {"idempotency_key": key, "op": "decide_item", "target_id": item.id, "args": args}
    return client.post("/api/v1/mutations", {"operations": [entry]}, format="json")


def lose_every_role(user):
    user.groups.remove(Group.objects.get(name="moderator"))


def reject_every_body(monkeypatch):
    """As if the rules changed since: every body now fails validation."""

    def refuse(operation, data):
        raise validation_error("note", "The rules changed.")

    monkeypatch.setattr(operations, "validated_args", refuse)


def test_replay_after_the_role_was_removed_answers_the_stored_success(
    moderator, make_item, monkeypatch
):
    client, item = client_for(moderator), make_item()
    first = decide(client, item, "lost-answer")
    assert first.status_code == 201
    lose_every_role(moderator)
    reject_every_body(monkeypatch)
    replay = decide(client, item, "lost-answer")
    assert replay.status_code == 201
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    assert Decision.objects.count() == 1
    assert AuditEvent.objects.filter(action="item.decide").count() == 1
    # Without a stored answer the same user is refused as before.
    assert decide(client, make_item(), "new-key").status_code == 403


def test_replay_of_a_different_request_stays_422_even_without_the_role(moderator, make_item):
    client, item = client_for(moderator), make_item()
    assert decide(client, item, "k").status_code == 201
    lose_every_role(moderator)
    response = decide(client, item, "k", {**BODY, "note": "another request"})
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"


def test_a_replay_still_needs_authentication(moderator, make_item, api):
    item = make_item()
    assert decide(client_for(moderator), item, "k").status_code == 201
    assert decide(api, item, "k").status_code == 401


def test_batch_replay_after_the_role_was_removed_answers_the_stored_success(
    moderator, make_item, monkeypatch
):
    client, item = client_for(moderator), make_item()
    first = batch(client, item, "lost-in-a-batch")
    assert first.json()["results"][0]["status"] == 201
    lose_every_role(moderator)
    reject_every_body(monkeypatch)
    replay = batch(client, item, "lost-in-a-batch")
    assert replay.status_code == 200
    assert replay.json() == first.json()
    assert Decision.objects.count() == 1
    different = batch(client, item, "lost-in-a-batch", {**BODY, "note": "other"})
    assert different.json()["results"][0]["status"] == 422
    fresh = batch(client, make_item(), "new-key")
    assert fresh.json()["results"][0]["status"] == 403


def test_a_key_first_sent_alone_replays_in_a_batch_without_the_role(moderator, make_item):
    client, item = client_for(moderator), make_item()
    single = decide(client, item, "both-ways")
    lose_every_role(moderator)
    replay = batch(client, item, "both-ways")
    assert replay.json()["results"][0] == {
        "idempotency_key": "both-ways",
        "status": 201,
        "body": single.json(),
    }
