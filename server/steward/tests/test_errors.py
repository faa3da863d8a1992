"""Bad input always gets a 4xx with the {code, message, fields} shape, never a 500."""

import pytest

DECIDE = "/api/v1/items/{id}/decisions"


def assert_validation_error(response, *fields):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["message"]
    for name in fields:
        assert name in body["fields"], body
        assert all(isinstance(m, str) and m for m in body["fields"][name])
    return body


def test_malformed_json(moderator_client, make_item):
    item = make_item()
    response = moderator_client.post(
        DECIDE.format(id=item.id), data="{not json", content_type="application/json"
    )
    body = assert_validation_error(response)
    assert body["fields"] == {}


def test_body_must_be_an_object(moderator_client, make_item):
    item = make_item()
    response = moderator_client.post(
        DECIDE.format(id=item.id), data="[1, 2]", content_type="application/json"
    )
    assert_validation_error(response, "non_field_errors")


@pytest.mark.parametrize(
    "body,field",
    [
        ({"action": "approve", "base_version": "1"}, "base_version"),
        ({"action": "approve", "base_version": True}, "base_version"),
        ({"action": "approve", "base_version": 1.5}, "base_version"),
        ({"action": "approve", "base_version": -1}, "base_version"),
        ({"action": "approve"}, "base_version"),
        ({"action": "nuke", "base_version": 1}, "action"),
        ({"action": 7, "base_version": 1}, "action"),
        ({"action": "approve", "base_version": 1, "note": 5}, "note"),
        ({"action": "approve", "base_version": 1, "reason_code": ["x"]}, "reason_code"),
        ({"action": "approve", "base_version": 1, "reason_code": "x" * 65}, "reason_code"),
        ({"action": "approve", "base_version": 1, "surprise": 1}, "surprise"),
    ],
)
def test_decision_body_validation(moderator_client, make_item, body, field):
    item = make_item()
    response = moderator_client.post(DECIDE.format(id=item.id), body, format="json")
    assert_validation_error(response, field)


def test_wrong_content_type_is_415(moderator_client, make_item):
    item = make_item()
    response = moderator_client.post(
        DECIDE.format(id=item.id), data="action=approve", content_type="text/plain"
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


@pytest.mark.parametrize("limit", ["-1", "0", "501", "100000000000000000000", "ten", "1.5"])
def test_bad_limits(moderator_client, limit):
    assert_validation_error(moderator_client.get("/api/v1/items", {"limit": limit}), "limit")


@pytest.mark.parametrize("cursor", ["garbage", "!!!", "MTIzNA", "bm90LWEtZGF0ZXwx", "8J-YgA"])
def test_bad_cursor(moderator_client, cursor):
    response = moderator_client.get("/api/v1/items", {"updated_after": cursor})
    assert_validation_error(response, "updated_after")


def test_bad_queue_param(moderator_client):
    assert_validation_error(moderator_client.get("/api/v1/items", {"queue": "x"}), "queue")
    assert_validation_error(moderator_client.get("/api/v1/items", {"queue": "99999"}), "queue")


def test_bad_audit_params(admin_client):
    assert_validation_error(admin_client.get("/api/v1/audit", {"after_id": "-3"}), "after_id")
    assert_validation_error(admin_client.get("/api/v1/audit", {"after_id": "x"}), "after_id")
    assert_validation_error(admin_client.get("/api/v1/audit", {"limit": "0"}), "limit")
    response = admin_client.get("/api/v1/audit", {"created_after": "yesterday"})
    assert_validation_error(response, "created_after")


def test_unknown_endpoint_is_json_404(api):
    response = api.get("/api/v1/does/not/exist")
    assert response.status_code == 404
    assert response.json() == {
        "code": "not_found",
        "message": "There is no such API endpoint.",
        "fields": {},
    }


def test_wrong_method_is_405(moderator_client):
    response = moderator_client.delete("/api/v1/queues")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_oversized_body_is_413(moderator_client, make_item):
    item = make_item()
    body = '{"action":"approve","base_version":1,"note":"' + "x" * 3_000_000 + '"}'
    response = moderator_client.post(
        DECIDE.format(id=item.id), data=body, content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_non_utf8_body_is_400(moderator_client, make_item):
    response = moderator_client.post(
        DECIDE.format(id=make_item().id), data=b"\xff\xfe", content_type="application/json"
    )
    assert_validation_error(response)


def test_nul_in_query_is_400(admin_client):
    assert_validation_error(admin_client.get("/api/v1/audit", {"actor": "a\x00b"}), "actor")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/items/99999999999999999999999",
        "/api/v1/items?queue=99999999999999999999999",
        "/api/v1/audit?after_id=99999999999999999999999",
    ],
)
def test_huge_numbers_are_never_500(admin_client, url):
    assert admin_client.get(url).status_code in {200, 400, 404}


def test_huge_base_version_is_400(moderator_client, make_item):
    item = make_item()
    response = moderator_client.post(
        DECIDE.format(id=item.id), {"action": "approve", "base_version": 10**30}, format="json"
    )
    assert_validation_error(response, "base_version")
