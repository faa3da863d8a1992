"""The hub of one process (events/hub.py) and the stream over it, with a fake database.

The database side is a fake `compute` (fakes are fine inside unit tests of the pure
logic); the real one is exercised by test_events.py, test_events_pg.py and the servers of
test_events_processes.py.
"""

import asyncio
import json
import threading

import pytest

from steward.events.hub import Hub
from steward.events.stream import asgi_stream
from steward.feeds import encode_cursor


class FakeDatabase:
    """Cursors per collection that a test moves; counts the hub's looks at it."""

    def __init__(self, **cursors):
        self.cursors = dict(cursors)
        self.held_back = set()
        self.looks = []
        self.lock = threading.Lock()

    def compute(self, collections):
        with self.lock:
            self.looks.append(tuple(collections))
            return (
                {name: self.cursors.get(name) for name in collections},
                self.held_back & set(collections),
            )


def cursor_at(seq):
    return encode_cursor(seq, seq)


def tables(table):
    return {"steward_item": {"items", "queues"}, "steward_job": {"jobs"}}.get(table)


def make_hub(database, listen=None, **options):
    options.setdefault("poll_seconds", 60)
    options.setdefault("recheck_seconds", 60)
    options.setdefault("coalesce_seconds", 0.05)
    options.setdefault("idle_seconds", 60)
    return Hub(database.compute, listen, tables, **options)


async def idle_listener(hub):
    """A listener that is connected and hears nothing unless the test calls notified."""
    hub.listener_ready()
    await asyncio.Event().wait()


async def until(what, check, timeout=2.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 20))


def test_one_look_per_burst_wakes_only_the_streams_concerned():
    database = FakeDatabase(items=cursor_at(1), queues=cursor_at(1), jobs=cursor_at(1))

    async def scenario():
        hub = make_hub(database, idle_listener)
        moderators = [await hub.subscribe({"items", "queues"}, f"m{n}") for n in range(300)]
        admin = await hub.subscribe({"items", "queues", "jobs"}, "admin")
        only_jobs = await hub.subscribe({"jobs"}, "jobs")
        await until("the listener", lambda: hub.listening)
        looks = len(database.looks)
        # The first streams computed what was missing; the rest used the hub's cursors.
        assert looks <= 3
        database.cursors.update(items=cursor_at(2), queues=cursor_at(2))
        for _ in range(20):  # a burst over 0.2 s: one write after another
            hub.notified("steward_item")
            await asyncio.sleep(0.01)
        await until("the woken streams", lambda: all(s.woken.is_set() for s in moderators))
        await asyncio.sleep(0.2)
        # At most one look per coalescing interval (0.05 s), each for the whole process.
        assert 1 <= len(database.looks) - looks <= 6
        assert {tuple(look) for look in database.looks[looks:]} == {("items", "queues")}
        assert admin.woken.is_set()
        assert not only_jobs.woken.is_set()
        assert hub.cursors["items"] == cursor_at(2)
        await hub.stop()

    run(scenario())


def test_streams_that_open_together_share_one_look():
    # Clients reconnecting together after a restart find the hub cold.
    database = FakeDatabase(items=cursor_at(1), queues=cursor_at(1))

    async def scenario():
        hub = make_hub(database)
        streams = await asyncio.gather(
            *(hub.subscribe({"items", "queues"}, f"s{n}") for n in range(100))
        )
        assert database.looks == [("items", "queues")]
        assert all(hub.cursors[name] == cursor_at(1) for name in streams[0].collections)
        await hub.stop()

    run(scenario())


def test_a_look_that_finds_nothing_new_wakes_nobody():
    database = FakeDatabase(items=cursor_at(5))

    async def scenario():
        hub = make_hub(database, idle_listener)
        stream = await hub.subscribe({"items"}, "s")
        await until("the listener", lambda: hub.listening)
        stream.woken.clear()
        looks = len(database.looks)
        hub.notified("steward_item")
        await until("a look", lambda: len(database.looks) > looks)
        await asyncio.sleep(0.1)
        assert not stream.woken.is_set()
        await hub.stop()

    run(scenario())


def test_held_back_rows_are_looked_at_again_until_released():
    # An older transaction holds the newest rows back and may end without notifying: the
    # hub keeps looking at that collection, at the poll interval, until they show.
    database = FakeDatabase(items=cursor_at(1), jobs=cursor_at(1))
    database.held_back = {"items"}

    async def scenario():
        hub = make_hub(database, idle_listener, poll_seconds=0.05)
        stream = await hub.subscribe({"items", "jobs"}, "s")
        await until("the listener", lambda: hub.listening)
        await until("looks again", lambda: len(database.looks) >= 4)
        assert database.looks[-1] == ("items",)
        database.held_back = set()
        database.cursors["items"] = cursor_at(2)
        await until("the released row", lambda: hub.cursors["items"] == cursor_at(2))
        assert stream.woken.is_set()
        settled = len(database.looks)
        await asyncio.sleep(0.3)
        assert len(database.looks) == settled
        await hub.stop()

    run(scenario())


def test_a_reconnected_listener_makes_the_hub_look_at_everything():
    database = FakeDatabase(items=cursor_at(1), jobs=cursor_at(1))

    async def scenario():
        events = {"reconnect": asyncio.Event()}

        async def flaky_listener(hub):
            hub.listener_ready()
            await events["reconnect"].wait()
            hub.listener_lost()
            hub.listener_ready()
            await asyncio.Event().wait()

        hub = make_hub(database, flaky_listener)
        stream = await hub.subscribe({"items", "jobs"}, "s")
        await until("the listener", lambda: hub.listening)
        looks = len(database.looks)
        database.cursors["jobs"] = cursor_at(3)  # a change whose notification was lost
        events["reconnect"].set()
        await until("a full look", lambda: len(database.looks) > looks)
        assert set(database.looks[-1]) == {"items", "jobs"}
        assert hub.cursors["jobs"] == cursor_at(3)
        assert stream.woken.is_set()
        await hub.stop()

    run(scenario())


def test_without_notifications_one_poller_serves_every_stream():
    # SQLite: one look per poll interval for the process, not one per stream.
    database = FakeDatabase(items=cursor_at(1))

    async def scenario():
        hub = make_hub(database, None, poll_seconds=0.1)
        for n in range(200):
            await hub.subscribe({"items"}, f"s{n}")
        await asyncio.sleep(0.55)
        assert 4 <= len(database.looks) <= 8
        await hub.stop()

    run(scenario())


def test_the_newest_stream_of_a_session_ends_its_oldest():
    database = FakeDatabase(items=cursor_at(1))

    async def scenario():
        hub = make_hub(database, idle_listener, max_per_session=2)
        first = await hub.subscribe({"items"}, "session-a")
        second = await hub.subscribe({"items"}, "session-a")
        other = await hub.subscribe({"items"}, "session-b")
        assert hub.open_streams == 3
        third = await hub.subscribe({"items"}, "session-a")
        assert first.ended and first.woken.is_set()
        assert not second.ended and not third.ended and not other.ended
        assert hub.open_streams == 3
        hub.unsubscribe(first)  # the ended stream's own cleanup is harmless
        assert hub.open_streams == 3
        fourth = await hub.subscribe({"items"}, "session-a")
        assert second.ended and not third.ended and not fourth.ended
        await hub.stop()

    run(scenario())


def test_the_hub_stops_when_the_last_stream_has_left_for_a_while():
    database = FakeDatabase(items=cursor_at(1))

    async def scenario():
        hub = make_hub(database, idle_listener, idle_seconds=0.1)
        stream = await hub.subscribe({"items"}, "s")
        assert hub.running
        hub.unsubscribe(stream)
        await until("the hub to stop", lambda: not hub.running)
        assert hub.cursors == {}
        # The next stream starts it again, with fresh cursors.
        database.cursors["items"] = cursor_at(2)
        stream = await hub.subscribe({"items"}, "s")
        assert hub.running and hub.cursors["items"] == cursor_at(2)
        await hub.stop()

    run(scenario())


def messages(chunks):
    events = []
    for chunk in chunks:
        for block in chunk.split("\n\n"):
            lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
            if lines.get("event") == "changed":
                events.append(json.loads(lines["data"]))
            elif block.startswith(":"):
                events.append(block)
    return events


@pytest.mark.django_db
def test_a_stream_sends_current_cursors_then_forward_moves_only():
    database = FakeDatabase(items=cursor_at(5), queues=None)

    async def scenario():
        hub = make_hub(database, idle_listener)
        stream = asgi_stream(["items", "queues"], "s", hub=hub)
        received = []

        async def read():
            async for chunk in stream:
                received.append(chunk)

        reader = asyncio.create_task(read())
        await until("the current cursors", lambda: len(messages(received)) == 2)
        assert received[0].startswith("retry: ")
        assert messages(received) == [
            {"collection": "items", "cursor": cursor_at(5)},
            {"collection": "queues", "cursor": None},
        ]
        await until("the listener", lambda: hub.listening)
        database.cursors["items"] = cursor_at(4)  # stepped back: nothing new to read
        hub.notified("steward_item")
        await asyncio.sleep(0.2)
        assert len(messages(received)) == 2
        database.cursors["items"] = cursor_at(9)
        hub.notified("steward_item")
        await until("the poke", lambda: len(messages(received)) == 3)
        assert messages(received)[-1] == {"collection": "items", "cursor": cursor_at(9)}
        # A newer stream of the same session ends this one.
        hub.max_per_session = 1
        newer = await hub.subscribe({"items"}, "s")
        await asyncio.wait_for(reader, 2)
        assert received[-1].startswith(": replaced by a newer stream")
        hub.unsubscribe(newer)
        assert hub.open_streams == 0
        await hub.stop()

    run(scenario())
