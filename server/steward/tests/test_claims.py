from datetime import timedelta

from django.utils import timezone

from steward.models import AuditEvent, Item


def claim(client, item, **headers):
    return client.post(f"/api/v1/items/{item.id}/claim", **headers)


def release(client, item):
    return client.delete(f"/api/v1/items/{item.id}/claim")


def test_claim_takes_a_lease_without_bumping_version(moderator_client, make_item, settings):
    settings.STEWARD_CLAIM_TTL = 120
    item = make_item()
    before = timezone.now()
    response = claim(moderator_client, item)
    assert response.status_code == 200
    body = response.json()
    user = moderator_client.user
    assert body["claim"]["user"] == {"id": user.id, "username": user.username}
    assert body["item"]["claim"] == body["claim"]
    assert body["item"]["version"] == 1
    item.refresh_from_db()
    assert timedelta(seconds=119) < item.claim_expires_at - before < timedelta(seconds=121)
    assert item.updated_at >= before  # so delta feeds carry the claim
    assert AuditEvent.objects.get().action == "item.claim"


def test_claim_held_by_someone_else_is_409_naming_the_holder(
    moderator_client, client_as, make_item
):
    item = make_item()
    claim(moderator_client, item)
    other = client_as("moderator")
    response = claim(other, item)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "claimed"
    assert moderator_client.user.username in body["message"]
    assert body["holder"] == {
        "id": moderator_client.user.id,
        "username": moderator_client.user.username,
    }
    assert body["current"]["claim"]["user"]["id"] == moderator_client.user.id

    decision = other.post(
        f"/api/v1/items/{item.id}/decisions",
        {"action": "remove", "base_version": 1},
        format="json",
    )
    assert decision.status_code == 409
    assert decision.json()["code"] == "claimed"


def test_holder_can_extend_and_decide(moderator_client, make_item):
    item = make_item()
    claim(moderator_client, item)
    assert claim(moderator_client, item).status_code == 200
    decision = moderator_client.post(
        f"/api/v1/items/{item.id}/decisions",
        {"action": "approve", "base_version": 1},
        format="json",
    )
    assert decision.status_code == 201
    assert decision.json()["item"]["claim"] is None


def test_expired_claim_is_free_for_others(moderator_client, client_as, make_item):
    item = make_item()
    claim(moderator_client, item)
    Item.objects.filter(pk=item.pk).update(claim_expires_at=timezone.now() - timedelta(seconds=1))
    assert moderator_client.get(f"/api/v1/items/{item.id}").json()["claim"] is None
    other = client_as("moderator")
    assert claim(other, item).status_code == 200


def test_release(moderator_client, client_as, make_item):
    item = make_item()
    claim(moderator_client, item)
    other = client_as("moderator")
    assert release(other, item).status_code == 409
    response = release(moderator_client, item)
    assert response.status_code == 200
    assert response.json()["claim"] is None
    assert response.json()["item"]["claim"] is None
    assert release(moderator_client, item).status_code == 200  # already free: no-op
    assert list(AuditEvent.objects.values_list("action", flat=True)) == [
        "item.claim",
        "item.release",
    ]


def test_closed_items_cannot_be_claimed(moderator_client, make_item):
    response = claim(moderator_client, make_item(state=Item.State.APPROVED))
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"


def test_claim_of_missing_item_is_404(moderator_client):
    response = moderator_client.post("/api/v1/items/999999/claim")
    assert response.status_code == 404


def test_claim_replays_with_idempotency_key(moderator_client, make_item):
    item = make_item()
    first = claim(moderator_client, item, HTTP_IDEMPOTENCY_KEY="claim-1")
    second = claim(moderator_client, item, HTTP_IDEMPOTENCY_KEY="claim-1")
    assert first.json() == second.json()
    assert AuditEvent.objects.count() == 1
