"""Bad input on every new endpoint is a 400 with a readable message, never a 500:
malformed JSON, wrong types, unknown fields, out-of-range timestamps, huge or negative
page sizes. These run on PostgreSQL too (scripts/test.sh), where an offset like +20:56
used to reach the database and fail there."""

import pytest

from steward.tests.conftest import make_job

LISTS = [
    "/api/v1/items",
    "/api/v1/audit",
    "/api/v1/accounts",
    "/api/v1/jobs",
    "/api/v1/queues?updated_after=",
    "/api/v1/reason-templates?updated_after=",
]


def assert_400(response, field=None):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["message"]
    if field:
        assert field in body["fields"], body
        assert all(isinstance(m, str) and m for m in body["fields"][field])
    return body


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("limit", ["-1", "-100", "0", "501", "1000000", "9" * 40, "x"])
def test_page_sizes_out_of_range(admin_client, url, limit):
    sep = "&" if "?" in url else "?"
    assert_400(admin_client.get(f"{url}{sep}limit={limit}"), "limit")


@pytest.mark.parametrize("url", [url for url in LISTS if "audit" not in url])
@pytest.mark.parametrize("cursor", ["garbage", "MjAyNnwx", "%00", "a" * 5000])
def test_bad_cursors(admin_client, url, cursor):
    sep = "&" if "?" in url else "?"
    assert admin_client.get(f"{url}{sep}updated_after={cursor}").status_code == 400


@pytest.mark.parametrize(
    "value",
    [
        "2026-01-01T00:00:00+20:56",
        "2026-01-01T00:00:00-23:59",
        "2026-01-01T00:00:00+15:00",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-12:00",
        "10000-01-01T00:00:00Z",
        "0000-01-01T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-01-01T00:00:00",
        "yesterday",
    ],
)
@pytest.mark.parametrize("name", ["created_after", "created_before"])
def test_out_of_range_timestamps_are_400(admin_client, name, value):
    assert_400(admin_client.get("/api/v1/audit", {name: value}), name)


@pytest.mark.parametrize(
    "value", ["2026-01-01T00:00:00+14:00", "2026-01-01T00:00:00-12:00", "2026-01-01T05:30:00Z"]
)
def test_real_offsets_work(admin_client, value):
    assert admin_client.get("/api/v1/audit", {"created_after": value}).status_code == 200


def mutation_urls(item, member, job):
    return {
        f"/api/v1/items/{item.id}/decisions": {"action": "approve", "base_version": 1},
        f"/api/v1/accounts/{member.id}/actions": {"action": "force_logout"},
        f"/api/v1/accounts/{member.id}/notes": {"body": "x"},
        f"/api/v1/jobs/{job.id}/retry": {},
        f"/api/v1/jobs/{job.id}/cancel": {},
        f"/api/v1/items/{item.id}/claim": {},
        "/api/v1/jobs/retry": {},
        "/api/v1/mutations": {
            "operations": [{"idempotency_key": "k", "op": "claim_item", "target_id": item.id}]
        },
    }


@pytest.fixture
def targets(make_item):
    item = make_item()
    job = make_job("failed")
    return item, item.author, job


@pytest.mark.parametrize("index", range(8))
def test_malformed_json_everywhere(admin_client, targets, index):
    url = list(mutation_urls(*targets))[index]
    response = admin_client.post(url, data='{"a": ', content_type="application/json")
    body = assert_400(response)
    assert "could not be parsed" in body["message"]


@pytest.mark.parametrize("index", range(8))
def test_unknown_fields_everywhere(admin_client, targets, index):
    url, body = list(mutation_urls(*targets).items())[index]
    assert_400(admin_client.post(url, {**body, "surprise": 1}, format="json"), "surprise")


@pytest.mark.parametrize("index", range(8))
def test_non_object_bodies_everywhere(admin_client, targets, index):
    url = list(mutation_urls(*targets))[index]
    assert_400(admin_client.post(url, data="[1]", content_type="application/json"))


@pytest.mark.parametrize(
    "url_suffix,body,field",
    [
        ("actions", {"action": 5}, "action"),
        ("actions", {"action": "suspend", "duration_hours": "48"}, "duration_hours"),
        ("actions", {"action": "suspend", "reason_code": 7}, "reason_code"),
        ("actions", {"action": "suspend", "note": ["x"]}, "note"),
        ("actions", {}, "action"),
        ("notes", {"body": 12}, "body"),
        ("notes", {"body": None}, "body"),
        ("notes", {"body": "x" * 10001}, "body"),
        ("notes", {}, "body"),
    ],
)
def test_wrong_types_on_accounts(support_client, make_account, url_suffix, body, field):
    member = make_account()
    url = f"/api/v1/accounts/{member.id}/{url_suffix}"
    assert_400(support_client.post(url, body, format="json"), field)


@pytest.mark.parametrize(
    "body,field",
    [
        ({"kind": 3}, "kind"),
        ({"backend": ["tasks"]}, "backend"),
        ({"status": "running"}, "status"),
        ({"max_jobs": 0}, "max_jobs"),
        ({"max_jobs": 10**12}, "max_jobs"),
        ({"max_jobs": "5"}, "max_jobs"),
    ],
)
def test_wrong_types_on_retry_matching(admin_client, body, field):
    assert_400(admin_client.post("/api/v1/jobs/retry", body, format="json"), field)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/accounts?status=banned",
        "/api/v1/accounts/1/notes?after_id=-1",
        "/api/v1/accounts/1/notes?after_id=abc",
    ],
)
def test_bad_query_params(admin_client, make_account, url):
    make_account()
    assert admin_client.get(url).status_code == 400


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/accounts/99999999999999999999999",
        "/api/v1/accounts/99999999999999999999999/history",
        "/api/v1/jobs/99999999999999999999999",
        "/api/v1/accounts?q=" + "x" * 5000,
    ],
)
def test_huge_values_are_never_500(admin_client, url):
    assert admin_client.get(url).status_code in {200, 400, 404}


def test_huge_ids_in_mutations_are_404(admin_client):
    big = 99999999999999999999999
    assert admin_client.post(f"/api/v1/jobs/{big}/retry").status_code == 404
    response = admin_client.post(
        f"/api/v1/accounts/{big}/actions", {"action": "force_logout"}, format="json"
    )
    assert response.status_code == 404
