"""GET /events: pokes only. Under WSGI the stream ends after the current cursors; under
ASGI (uvicorn) it stays open and pokes when a collection moves."""

import json
import time
import urllib.request
from pathlib import Path

import pytest

from steward.tests.conftest import commits
from steward.tests.live import call

SERVER_DIR = Path(__file__).resolve().parents[2]


def parse_events(text):
    events = []
    for block in text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if lines.get("event") == "changed":
            events.append(json.loads(lines["data"]))
    return events


@commits
def test_wsgi_stream_sends_current_cursors_and_ends(moderator_client, make_item):
    make_item()
    response = moderator_client.get("/api/v1/events", HTTP_ACCEPT="text/event-stream")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/event-stream")
    text = b"".join(response.streaming_content).decode()
    assert text.startswith("retry: ")
    events = parse_events(text)
    assert {e["collection"] for e in events} == {"items", "queues", "reason_templates"}
    items = next(e for e in events if e["collection"] == "items")
    feed = moderator_client.get("/api/v1/items").json()
    assert feed["next_cursor"] is not None
    assert items["cursor"] == feed["next_cursor"]


def test_collections_follow_permissions(admin_client, api):
    text = b"".join(admin_client.get("/api/v1/events").streaming_content).decode()
    assert {e["collection"] for e in parse_events(text)} == {
        "accounts",
        "audit",
        "items",
        "jobs",
        "queues",
        "reason_templates",
    }
    denied = api.get("/api/v1/events", HTTP_ACCEPT="text/event-stream")
    assert denied.status_code == 401
    assert json.loads(denied.content)["code"] == "not_authenticated"


@pytest.fixture
def asgi_served(demo_stack):
    return demo_stack(items=20, asgi=True, STEWARD_EVENTS_POLL_SECONDS="0.2").base


def read_event(stream, deadline):
    block = []
    while time.monotonic() < deadline:
        line = stream.readline().decode()
        if line in ("\n", ""):
            events = parse_events("".join(block) + "\n\n")
            if events:
                return events[0]
            block = []
            continue
        block.append(line)
    raise TimeoutError("no event before the deadline")


def test_asgi_stream_pokes_when_an_item_changes(asgi_served):
    status, login = call(
        asgi_served, "POST", "/auth/login", {"username": "moderator", "password": "PW"}
    )
    token = login["access_token"]
    request = urllib.request.Request(
        asgi_served + "/events",
        headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"},
    )
    stream = urllib.request.urlopen(request, timeout=10)
    deadline = time.monotonic() + 10
    initial = {}
    while len(initial) < 3:
        event = read_event(stream, deadline)
        initial[event["collection"]] = event["cursor"]
    _, page = call(asgi_served, "GET", "/items?limit=500", token=token)
    item = next(i for i in page["results"] if i["state"] == "open")
    status, _ = call(
        asgi_served,
        "POST",
        f"/items/{item['id']}/decisions",
        {"action": "approve", "base_version": item["version"]},
        token,
    )
    assert status == 201
    seen = set()
    while not {"items", "queues"} <= seen:
        event = read_event(stream, deadline)
        assert event["cursor"] != initial[event["collection"]]
        seen.add(event["collection"])
    _, delta = call(asgi_served, "GET", f"/items?updated_after={initial['items']}", token=token)
    assert [i["id"] for i in delta["results"]] == [item["id"]]
    stream.close()
