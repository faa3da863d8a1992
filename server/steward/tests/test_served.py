"""The demo server started exactly as the client tests start it: migrate, seed_demo,
gunicorn with two workers (on SQLite, or PostgreSQL when the run uses it). Concurrent
decisions from both workers must never fail with "database is locked" and must apply
exactly once per item.
"""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from steward.tests.live import call


@pytest.fixture
def served(demo_stack):
    stack = demo_stack(items=50)
    yield stack.base
    stack.stop()
    assert "database is locked" not in stack.log("web")


def test_login_list_decide_under_concurrency(served):
    tokens = {}
    for username in ["moderator", "admin"]:
        status, body = call(served, "POST", "/auth/login", {"username": username, "password": "PW"})
        assert status == 200
        tokens[username] = body["access_token"]
    status, page = call(served, "GET", "/items?limit=500", token=tokens["moderator"])
    assert status == 200
    open_items = [item for item in page["results"] if item["state"] == "open"][:10]

    def decide(n):
        item = open_items[n % len(open_items)]
        username = ["moderator", "admin"][n % 2]
        return call(
            served,
            "POST",
            f"/items/{item['id']}/decisions",
            {"action": "approve", "base_version": item["version"]},
            tokens[username],
            {"Idempotency-Key": f"{username}-{item['id']}"},
        )[0]

    with ThreadPoolExecutor(12) as pool:
        statuses = Counter(pool.map(decide, range(80)))
    assert set(statuses) <= {201, 409}, statuses

    status, audit = call(
        served, "GET", "/audit?action=item.decide&limit=500", token=tokens["admin"]
    )
    assert status == 200
    chosen = {str(item["id"]) for item in open_items}  # seed_demo decided others already
    decided = Counter(e["target_id"] for e in audit["results"] if e["target_id"] in chosen)
    assert sorted(decided) == sorted(str(item["id"]) for item in open_items)
    assert set(decided.values()) == {1}
