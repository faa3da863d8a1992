"""Every endpoint x every role: the server enforces the matrix in permissions.py."""

import pytest

from steward.permissions import ROLE_PERMISSIONS
from steward.tests.conftest import make_job

ALLOWED = {
    # (method, path template): roles that may call it
    ("get", "/api/v1/me"): {"moderator", "support", "admin", "none"},
    ("get", "/api/v1/queues"): {"moderator", "support", "admin"},
    ("get", "/api/v1/items"): {"moderator", "support", "admin"},
    ("get", "/api/v1/items/{id}"): {"moderator", "support", "admin"},
    ("post", "/api/v1/items/{id}/decisions"): {"moderator", "admin"},
    ("post", "/api/v1/items/{id}/claim"): {"moderator", "admin"},
    ("delete", "/api/v1/items/{id}/claim"): {"moderator", "admin"},
    ("get", "/api/v1/audit"): {"support", "admin"},
    ("get", "/api/v1/reason-templates"): {"moderator", "support", "admin"},
    ("get", "/api/v1/accounts"): {"support", "admin"},
    ("get", "/api/v1/accounts/{account}"): {"support", "admin"},
    ("get", "/api/v1/accounts/{account}/history"): {"support", "admin"},
    ("get", "/api/v1/accounts/{account}/notes"): {"support", "admin"},
    ("post", "/api/v1/accounts/{account}/notes"): {"support", "admin"},
    ("post", "/api/v1/accounts/{account}/actions"): {"support", "admin"},
    ("get", "/api/v1/jobs"): {"admin"},
    ("get", "/api/v1/jobs/{job}"): {"admin"},
    ("post", "/api/v1/jobs/{job}/retry"): {"admin"},
    ("post", "/api/v1/jobs/{job}/cancel"): {"admin"},
    ("post", "/api/v1/jobs/retry"): {"admin"},
    # Any signed-in user: each entry replays a stored answer first, then checks its own
    # permission (test_idempotency_replay.py).
    ("post", "/api/v1/mutations"): {"moderator", "support", "admin", "none"},
    ("get", "/api/v1/events"): {"moderator", "support", "admin"},
}
BODIES = {
    "/decisions": {"action": "approve", "base_version": 1},
    "/notes": {"body": "A note."},
    "/actions": {"action": "force_logout"},
    "/jobs/retry": {},
    "/mutations": {"operations": [{"idempotency_key": "k", "op": "claim_item", "target_id": 1}]},
}


def test_the_matrix_covers_every_endpoint():
    """A new route without a row here fails, so the matrix cannot silently fall behind."""
    from steward import urls

    routes = {str(p.pattern) for p in urls.urlpatterns} - {
        "auth/login",
        "auth/refresh",
        "auth/logout",
        "schema",
        "health/live",
        "health/ready",
        "^.*$",
    }
    covered = {
        path.removeprefix("/api/v1/")
        .replace("{id}", "<int:item_id>")
        .replace("{account}", "<int:account_id>")
        .replace("{job}", "<int:job_id>")
        for _, path in ALLOWED
    }
    assert routes == covered


ROLES = ["moderator", "support", "admin", "none"]


def call(client, method, path, item):
    job = make_job("pending" if path.endswith("/cancel") else "failed")
    url = path.format(id=item.id, account=item.author_id, job=job.id)
    for suffix, body in BODIES.items():
        if method == "post" and url.endswith(suffix):
            return client.post(url, body, format="json")
    return getattr(client, method)(url)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method,path", sorted(ALLOWED))
def test_permission_matrix(client_as, make_item, role, method, path):
    client = client_as() if role == "none" else client_as(role)
    response = call(client, method, path, make_item())
    if role in ALLOWED[(method, path)]:
        assert response.status_code < 400, response.content
    else:
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "permission_denied"


@pytest.mark.parametrize("method,path", sorted(ALLOWED))
def test_anonymous_is_401_everywhere(api, make_item, method, path):
    response = call(api, method, path, make_item())
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_public_endpoints_need_no_token(api, db):
    assert api.get("/api/v1/schema").status_code == 200
    assert api.get("/api/v1/health/live").status_code == 200
    assert api.get("/api/v1/health/ready").status_code == 200
    response = api.post("/api/v1/auth/login", {"username": "x", "password": "y"}, format="json")
    assert response.status_code == 401


def test_moderators_cannot_read_the_audit_log():
    assert "audit.view" not in ROLE_PERMISSIONS["moderator"]
    assert "audit.view" in ROLE_PERMISSIONS["support"]


def test_a_batch_from_a_user_without_roles_refuses_each_entry(client_as, make_item):
    response = call(client_as(), "post", "/api/v1/mutations", make_item())
    assert [entry["status"] for entry in response.json()["results"]] == [403]


def test_superuser_is_admin(make_user):
    from steward.permissions import roles_of

    assert roles_of(make_user(is_superuser=True)) == ["admin"]
