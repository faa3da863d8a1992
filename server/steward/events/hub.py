"""One hub per server process: it looks at the database for every open stream at once.

A stream registers a Subscription (the collections its user may read, its session, a flag
to wake it) and holds no database connection. The hub keeps the newest cursor of every
collection some stream watches and recomputes it, once for the whole process, when:

  - PostgreSQL notifies that a mirrored table changed (listener.py). Notifications are
    coalesced: at most one recompute every COALESCE_SECONDS, covering everything that
    was notified meanwhile.
  - a collection had rows held back by an older open transaction at the last look
    (cursors.held_back): it is looked at again every STEWARD_EVENTS_POLL_SECONDS until
    they are released, since that transaction may end without notifying.
  - the listener (re)connects: notifications may have been missed, so everything is
    recomputed; and while it is down the hub polls, as on SQLite.
  - as a safety net, every STEWARD_EVENTS_RECHECK_SECONDS (default 10) while streams
    are open.
  - SQLite has no notifications: the hub polls every STEWARD_EVENTS_POLL_SECONDS
    (default 1), one poller per process however many streams it holds.

Then it wakes the streams that watch a collection whose cursor changed; each stream
decides on its own whether that is a move forward it must announce (cursors.moved_forward).

The database work runs on the hub's own thread with its own Django connection, so a process
holds at most two connections for live updates (that one and the listener's), whatever
the number of streams. The hub starts with the first stream and stops, closing both,
IDLE_SECONDS after the last one leaves.

A session (token family) holds at most STEWARD_EVENTS_MAX_STREAMS_PER_SESSION (default 4,
0 for no cap) open streams in one process: opening one more ends the oldest, so a client
that lost its connection without the server noticing is never locked out by its own stale
streams. The cap is per process: a session spread over N processes can hold N times as
many, which a cross-process cap would need shared state to prevent.
"""

import asyncio
import contextvars
import itertools
import logging
import math
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger("steward.events")

COALESCE_SECONDS = 0.1
IDLE_SECONDS = 10.0


class Subscription:
    """One open stream as the hub sees it."""

    def __init__(self, collections, session, order: int):
        self.collections = frozenset(collections)
        self.session = session
        self.order = order
        # Set by the hub when a watched cursor changed, or when the stream was ended.
        self.woken = asyncio.Event()
        # True once a newer stream of the same session replaced this one.
        self.ended = False

    async def wait(self, timeout: float) -> None:
        """Until the hub wakes this stream, or `timeout` seconds."""
        try:
            async with asyncio.timeout(max(timeout, 0)):
                await self.woken.wait()
        except TimeoutError:
            pass
        self.woken.clear()


class Hub:
    """Fan-out of cursor changes to the streams of one process.

    `compute(collections) -> (cursors, held_back)` is the blocking look at the database
    (cursors.compute); `listen(hub)` is a coroutine that calls `notified`,
    `listener_ready` and `listener_lost` (listener.listen), or None to poll;
    `collections_of_table(name)` maps a notification to the collections it can move.
    """

    def __init__(
        self,
        compute,
        listen=None,
        collections_of_table=None,
        *,
        poll_seconds: float = 1.0,
        recheck_seconds: float = 10.0,
        max_per_session: int = 4,
        coalesce_seconds: float = COALESCE_SECONDS,
        idle_seconds: float = IDLE_SECONDS,
    ):
        self._compute = compute
        self._listen = listen
        self._collections_of_table = collections_of_table
        self.poll_seconds = poll_seconds
        self.recheck_seconds = recheck_seconds
        self.max_per_session = max_per_session
        self.coalesce_seconds = coalesce_seconds
        self.idle_seconds = idle_seconds
        # The newest cursor of every watched collection, as last computed.
        self.cursors: dict = {}
        self.listening = False
        self.computes = 0
        self._subscriptions: dict[int, Subscription] = {}
        self._by_session: dict[object, list[Subscription]] = {}
        self._watched: Counter = Counter()
        self._order = itertools.count()
        self._pending: set[str] = set()
        self._lagging: set[str] = set()
        self._last_compute = -math.inf
        self._last_full = -math.inf
        self._not_before = -math.inf
        self._loop = None
        self._kick = None
        self._task = None
        self._executor = None
        self._idle_handle = None
        self._filling = None
        self._filling_names: set[str] = set()

    @property
    def open_streams(self) -> int:
        return len(self._subscriptions)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def subscribe(self, collections, session) -> Subscription:
        """Register a stream; returns once `self.cursors` holds all its collections."""
        self._ensure_running()
        subscription = Subscription(collections, session, next(self._order))
        mine = self._by_session.setdefault(session, [])
        while self.max_per_session > 0 and len(mine) >= self.max_per_session:
            oldest = mine[0]
            self._remove(oldest)
            oldest.ended = True
            oldest.woken.set()
        mine.append(subscription)
        self._subscriptions[subscription.order] = subscription
        self._watched.update(subscription.collections)
        missing = subscription.collections - self.cursors.keys()
        if missing:
            try:
                await self._fill(missing)
            except BaseException:
                self.unsubscribe(subscription)
                raise
        return subscription

    async def _fill(self, missing: set[str]) -> None:
        """Compute collections nobody watched yet. Streams that open together (clients
        reconnecting after a restart) share one look instead of queueing one each."""
        filling = self._filling
        if filling is None or filling.done() or not missing <= self._filling_names:
            self._filling_names = set(missing)
            self._filling = filling = asyncio.ensure_future(self._refresh(missing))
        await asyncio.shield(filling)

    def unsubscribe(self, subscription: Subscription) -> None:
        self._remove(subscription)
        if not self._subscriptions and self.running and self._idle_handle is None:
            self._idle_handle = self._loop.call_later(self.idle_seconds, self._stop_if_idle)

    def notified(self, table: str) -> None:
        """A mirrored table changed (called by the listener)."""
        names = self._collections_of_table(table) if self._collections_of_table else None
        self._pending.update(names if names else self._watched.keys())
        self._kick.set()

    def listener_ready(self) -> None:
        """LISTEN is active again: look at everything, since notifications may be lost."""
        self.listening = True
        self._last_full = -math.inf
        self._kick.set()

    def listener_lost(self) -> None:
        self.listening = False
        self._kick.set()

    async def stop(self) -> None:
        """Stop the hub now (tests, and the idle timer); open streams keep their flag."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def _remove(self, subscription: Subscription) -> None:
        if self._subscriptions.pop(subscription.order, None) is None:
            return
        mine = self._by_session.get(subscription.session, [])
        if subscription in mine:
            mine.remove(subscription)
        if not mine:
            self._by_session.pop(subscription.session, None)
        self._watched.subtract(subscription.collections)
        for name in subscription.collections:
            if self._watched[name] <= 0:
                # Nobody watches it: it is not kept current, so forget it.
                del self._watched[name]
                self.cursors.pop(name, None)
                self._lagging.discard(name)

    def _ensure_running(self) -> None:
        loop = asyncio.get_running_loop()
        if self._idle_handle is not None:
            self._idle_handle.cancel()
            self._idle_handle = None
        if self.running and self._loop is loop:
            return
        if self._loop is not loop:
            # A hub outlives no event loop (tests run several); start afresh.
            self._subscriptions.clear()
            self._by_session.clear()
            self._watched.clear()
        self._loop = loop
        self.cursors.clear()
        self._pending.clear()
        self._lagging.clear()
        self.listening = False
        self._last_full = time.monotonic()
        self._kick = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="steward-events")
        # A task of its own context: created inside a request, it must not run its
        # thread-sensitive work on that request's thread, which ends with the request.
        self._task = loop.create_task(self._run(), context=contextvars.Context())

    def _stop_if_idle(self) -> None:
        self._idle_handle = None
        if not self._subscriptions and self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        listener = asyncio.create_task(self._listen(self)) if self._listen else None
        executor = self._executor
        try:
            while True:
                due = await self._next_due()
                if not due:
                    continue
                try:
                    await self._refresh(due)
                except Exception:
                    log.exception("steward events: could not read the cursors; retrying")
                    self._pending.update(due)
                    self._not_before = time.monotonic() + self.poll_seconds
        finally:
            if listener is not None:
                listener.cancel()
                await asyncio.gather(listener, return_exceptions=True)
            if self._task is None or self._task is asyncio.current_task():
                # (Unless a new run already started after an idle stop: the state is its.)
                self.listening = False
                self.cursors.clear()
                self._lagging.clear()
            await asyncio.shield(self._close(executor))

    async def _close(self, executor) -> None:
        from django.db import connections

        try:
            await asyncio.get_running_loop().run_in_executor(executor, connections.close_all)
        finally:
            executor.shutdown(wait=False)

    async def _next_due(self) -> set[str]:
        """Wait until some collections are due for a look, and name them."""
        while True:
            now = time.monotonic()
            polling = self._listen is None or not self.listening
            full_at = self._last_full + (self.poll_seconds if polling else self.recheck_seconds)
            due_at = full_at
            if self._lagging:
                due_at = min(due_at, self._last_compute + self.poll_seconds)
            if self._pending:
                due_at = min(due_at, self._last_compute + self.coalesce_seconds)
            due_at = max(due_at, self._not_before)
            if due_at <= now:
                break
            self._kick.clear()
            try:
                async with asyncio.timeout(due_at - now):
                    await self._kick.wait()
            except TimeoutError:
                pass
        due = self._pending | self._lagging
        if now >= full_at:
            self._last_full = now
            due |= self._watched.keys()
        self._pending = set()
        return due & self._watched.keys()

    async def _refresh(self, collections) -> None:
        names = sorted(collections)
        self._last_compute = time.monotonic()
        loop = asyncio.get_running_loop()
        cursors, held_back = await loop.run_in_executor(self._executor, self._compute, names)
        self.computes += 1
        watched = self._watched.keys()
        self._lagging = (self._lagging - set(names)) | (set(held_back) & watched)
        changed = set()
        for name, cursor in cursors.items():
            if name in watched and (name not in self.cursors or self.cursors[name] != cursor):
                self.cursors[name] = cursor
                changed.add(name)
        if changed:
            for subscription in self._subscriptions.values():
                if not changed.isdisjoint(subscription.collections):
                    subscription.woken.set()
