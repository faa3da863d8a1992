"""Live updates across real server processes (uvicorn, ASGI) on one database.

A decision made through one process reaches a stream held by another within a second:
on PostgreSQL by NOTIFY to each process's one listener, on SQLite by each process's one
poller. Streams hold no database connection, and a session's newest stream ends its
oldest.
"""

import json
import sys
import time
import urllib.request

import pytest
from django.db import connection

from steward.tests.live import call, free_port, wait_for

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="counts PostgreSQL connections / drives the LISTEN connection (SQLite has none)",
)


class Stream:
    """One SSE connection, read line by line."""

    def __init__(self, base, token):
        request = urllib.request.Request(
            base + "/events",
            headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"},
        )
        self.response = urllib.request.urlopen(request, timeout=5)
        self.comments = []

    def next_event(self, deadline):
        """The next `changed` event's data; EOFError when the server ended the stream."""
        block = []
        while time.monotonic() < deadline:
            try:
                line = self.response.readline().decode()
            except TimeoutError:
                continue
            if line == "":
                raise EOFError("the server ended the stream")
            if line != "\n":
                block.append(line.rstrip("\n"))
                continue
            fields = dict(entry.split(": ", 1) for entry in block if ": " in entry)
            self.comments += [entry for entry in block if entry.startswith(":")]
            block = []
            if fields.get("event") == "changed":
                return json.loads(fields["data"])
        raise TimeoutError("no event before the deadline")

    def current(self, count, timeout=10):
        deadline = time.monotonic() + timeout
        cursors = {}
        while len(cursors) < count:
            event = self.next_event(deadline)
            cursors[event["collection"]] = event["cursor"]
        return cursors

    def wait_for_collection(self, collection, timeout):
        deadline = time.monotonic() + timeout
        while True:
            event = self.next_event(deadline)
            if event["collection"] == collection:
                return event

    def close(self):
        self.response.close()


def start_second_web(stack):
    """Another uvicorn process of the same stack: same database, its own port."""
    port = free_port()
    stack._start(
        "web2",
        [sys.executable, "-m", "uvicorn", "demo.asgi:application", "--host", "127.0.0.1"]
        + ["--port", str(port), "--log-level", "warning"],
    )
    base = f"http://127.0.0.1:{port}/api/v1"

    def answers():
        if stack.processes["web2"][0].poll() is not None:
            raise RuntimeError(stack.log("web2"))
        try:
            urllib.request.urlopen(base + "/schema", timeout=2).close()
            return True
        except OSError:
            return False

    wait_for("the second web server", answers, timeout=30)
    return base


def issue_sessions(stack, username, count):
    """Access tokens of `count` new sessions, without `count` password hashes."""
    output = stack.shell(
        "from django.contrib.auth import get_user_model\n"
        "from django.utils import timezone\n"
        "from steward import auth\n"
        "from steward.models import TokenFamily\n"
        f"user = get_user_model().objects.get(username={username!r})\n"
        f"for _ in range({count}):\n"
        "    family = TokenFamily.objects.create(user=user)\n"
        "    print('token', auth._issue_pair(family, timezone.now()).access_token)\n"
    )
    return [line.split()[1] for line in output.splitlines() if line.startswith("token ")]


def open_items(base, token):
    _, page = call(base, "GET", "/items?limit=500", token=token)
    return [item for item in page["results"] if item["state"] == "open"]


def decide(base, token, item):
    status, body = call(
        base,
        "POST",
        f"/items/{item['id']}/decisions",
        {"action": "approve", "base_version": item["version"]},
        token,
    )
    assert status == 201, body


def stack_database_connections(stack, application_name=None):
    """Connections to the stack's own database, as PostgreSQL counts them."""
    import psycopg

    name = stack.env["DATABASE_URL"].rsplit("/", 1)[1]
    params = connection.settings_dict
    with psycopg.connect(
        host=params["HOST"] or "127.0.0.1",
        port=params["PORT"] or 5432,
        user=params["USER"],
        password=params["PASSWORD"],
        dbname="postgres",
        autocommit=True,
    ) as pg:
        query = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
        args = [name]
        if application_name:
            query += " AND application_name = %s"
            args.append(application_name)
        return pg.execute(query, args).fetchone()[0]


def test_a_decision_through_one_process_reaches_a_stream_on_another_within_a_second(
    demo_stack,
):
    # On PostgreSQL the pollers are slowed down, so only a notification arrives in time.
    poll = "5" if connection.vendor == "postgresql" else "0.2"
    stack = demo_stack(items=20, asgi=True, STEWARD_EVENTS_POLL_SECONDS=poll)
    process_a, process_b = stack.base, start_second_web(stack)
    token = stack.login("moderator")
    stream = Stream(process_b, token)
    stream.current(3)
    items = open_items(process_a, token)
    delays = []
    for item in items[:3]:
        decide(process_a, token, item)
        decided = time.monotonic()
        stream.wait_for_collection("items", timeout=1.0)
        delays.append(time.monotonic() - decided)
    stream.close()
    assert max(delays) < 1.0, delays


@on_postgresql
def test_open_streams_hold_no_database_connection(demo_stack):
    stack = demo_stack(items=5, asgi=True)
    tokens = issue_sessions(stack, "moderator", 51)
    first = Stream(stack.base, tokens[0])
    first.current(3)
    with_one = stack_database_connections(stack)
    streams = [Stream(stack.base, token) for token in tokens[1:]]
    for stream in streams:
        stream.current(3)
    with_many = stack_database_connections(stack)
    assert stack_database_connections(stack, "steward-events-listener") == 1
    # The listener and the hub's own connection, whatever the number of streams (a
    # little slack for a connection pool that grows by one under the burst of requests).
    assert with_many <= with_one + 2, (with_one, with_many)
    assert with_many < 10
    for stream in [first, *streams]:
        stream.close()


def test_a_sessions_newest_stream_ends_its_oldest(demo_stack):
    stack = demo_stack(items=5, asgi=True, STEWARD_EVENTS_POLL_SECONDS="0.2")
    token = stack.login("moderator")
    other_session = stack.login("moderator")
    streams = [Stream(stack.base, token) for _ in range(4)]
    for stream in streams:
        stream.current(3)
    other = Stream(stack.base, other_session)
    other.current(3)
    newest = Stream(stack.base, token)  # the fifth of the session: over the cap of 4
    newest.current(3)
    with pytest.raises(EOFError):
        streams[0].next_event(time.monotonic() + 5)
    assert streams[0].comments[-1].startswith(": replaced by a newer stream")
    decide(stack.base, token, open_items(stack.base, token)[0])
    for stream in [*streams[1:], newest, other]:
        stream.wait_for_collection("items", timeout=5)
        stream.close()


@on_postgresql
def test_the_listener_reconnects_and_nothing_is_lost_meanwhile(demo_stack):
    stack = demo_stack(items=10, asgi=True, STEWARD_EVENTS_POLL_SECONDS="0.5")
    token = stack.login("moderator")
    stream = Stream(stack.base, token)
    stream.current(3)
    items = open_items(stack.base, token)

    import psycopg

    name = stack.env["DATABASE_URL"].rsplit("/", 1)[1]
    params = connection.settings_dict
    with psycopg.connect(
        host=params["HOST"] or "127.0.0.1",
        port=params["PORT"] or 5432,
        user=params["USER"],
        password=params["PASSWORD"],
        dbname="postgres",
        autocommit=True,
    ) as pg:
        killed = pg.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND application_name = 'steward-events-listener'",
            [name],
        ).fetchall()
    assert killed == [(True,)]
    # Made while the listener is down or reconnecting: the hub polls, then looks again.
    decide(stack.base, token, items[0])
    stream.wait_for_collection("items", timeout=5)
    wait_for(
        "the listener to reconnect",
        lambda: stack_database_connections(stack, "steward-events-listener") == 1,
        timeout=15,
    )
    decide(stack.base, token, items[1])
    started = time.monotonic()
    stream.wait_for_collection("items", timeout=5)
    assert time.monotonic() - started < 1.0
    stream.close()
