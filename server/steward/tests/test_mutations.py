"""POST /mutations: each operation answered exactly as its single endpoint would be."""

import pytest

from steward.models import AccountNote, AuditEvent, Decision, Item
from steward.tests.conftest import make_job

MUTATIONS = "/api/v1/mutations"


def batch(client, *operations):
    return client.post(MUTATIONS, {"operations": list(operations)}, format="json")


def op(key, name, target_id, **args):
    return {"idempotency_key": key, "op": name, "target_id": target_id, "args": args}


def test_mixed_batch_runs_each_operation_in_order(admin_client, make_item, make_account):
    item, other, member = make_item(), make_item(), make_account()
    response = batch(
        admin_client,
        op("a", "claim_item", other.id),
        op("b", "decide_item", item.id, action="remove", reason_code="spam", base_version=1),
        op("c", "decide_item", item.id, action="approve", base_version=1),
        op("d", "add_account_note", member.id, body="note"),
        op("e", "account_action", member.id, action="suspend", duration_hours=2),
        op("f", "release_item", other.id),
        op("g", "decide_item", 999999, action="approve", base_version=1),
        op("h", "decide_item", item.id, action="explode", base_version=1),
    )
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["idempotency_key"] for r in results] == list("abcdefgh")
    assert [r["status"] for r in results] == [200, 201, 409, 201, 200, 200, 404, 400]
    assert results[1]["body"]["item"]["state"] == "removed"
    assert results[2]["body"]["code"] == "stale_version"
    assert results[2]["body"]["current"]["version"] == 2
    assert results[4]["body"]["account"]["status"] == "suspended"
    assert results[5]["body"]["claim"] is None
    assert results[6]["body"]["code"] == "not_found"
    assert set(results[7]["body"]["fields"]) == {"action"}
    assert Decision.objects.count() == 1
    assert AccountNote.objects.count() == 1


def test_batch_and_single_share_idempotency(moderator_client, make_item):
    item = make_item()
    body = {"action": "approve", "base_version": 1}
    single = moderator_client.post(
        f"/api/v1/items/{item.id}/decisions", body, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert single.status_code == 201
    replay = batch(moderator_client, op("k", "decide_item", item.id, **body)).json()["results"]
    assert replay == [{"idempotency_key": "k", "status": 201, "body": single.json()}]
    assert Decision.objects.count() == 1
    changed = batch(
        moderator_client, op("k", "decide_item", item.id, action="remove", base_version=1)
    ).json()["results"][0]
    assert changed["status"] == 422
    assert changed["body"]["code"] == "idempotency_key_reused"


def test_replayed_batch_applies_nothing_twice(moderator_client, make_item):
    items = [make_item() for _ in range(3)]
    operations = [
        op(f"k{i.id}", "decide_item", i.id, action="ignore", base_version=1) for i in items
    ]
    first = batch(moderator_client, *operations).json()
    second = batch(moderator_client, *operations).json()
    assert first == second
    assert AuditEvent.objects.filter(action="item.decide").count() == 3
    assert set(Item.objects.values_list("version", flat=True)) == {2}


def test_permission_is_checked_per_operation(moderator_client, make_item, make_account):
    item, member = make_item(), make_account()
    results = batch(
        moderator_client,
        op("a", "account_action", member.id, action="force_logout"),
        op("b", "claim_item", item.id),
    ).json()["results"]
    assert [r["status"] for r in results] == [403, 200]
    assert results[0]["body"]["code"] == "permission_denied"


def test_job_operations(admin_client):
    job = make_job("failed")
    results = batch(
        admin_client, op("r", "retry_job", job.id), op("c", "cancel_job", job.id)
    ).json()["results"]
    assert [r["status"] for r in results] == [200, 200]
    assert results[1]["body"]["status"] == "cancelled"


@pytest.mark.parametrize(
    "body,field",
    [
        ({}, "operations"),
        ({"operations": []}, "operations"),
        ({"operations": "x"}, "operations"),
        ({"operations": [{"op": "decide_item", "target_id": 1}]}, "operations.0.idempotency_key"),
        ({"operations": [op("a", "drop_tables", 1)]}, "operations.0.op"),
        ({"operations": [op("a", "claim_item", "1")]}, "operations.0.target_id"),
        ({"operations": [{**op("a", "claim_item", 1), "x": 1}]}, "operations.0.x"),
        ({"operations": [op("a", "claim_item", 1), op("a", "claim_item", 2)]}, "operations"),
        ({"operations": [op(str(n), "claim_item", 1) for n in range(101)]}, "operations"),
        ({"operations": [op("", "claim_item", 1)]}, "operations.0.idempotency_key"),
    ],
)
def test_bad_batches_are_400(moderator_client, body, field):
    response = moderator_client.post(MUTATIONS, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"], response.json()


def test_unknown_args_are_a_400_result(moderator_client, make_item):
    item = make_item()
    result = batch(moderator_client, op("a", "claim_item", item.id, extra=1)).json()["results"][0]
    assert result["status"] == 400
    assert result["body"]["fields"] == {"extra": ["Unknown field."]}
