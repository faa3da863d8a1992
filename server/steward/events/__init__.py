"""GET /events: a Server-Sent Events stream of pokes, never of data.

Each event says "collection X has changed up to cursor C":

    event: changed
    data: {"collection": "items", "cursor": "<the feed's cursor of the last row it serves>"}

and the client then pulls that collection's delta feed with its own cursor. The cursor is
computed under the same horizon as the feeds (feeds.py), so a poke never names a row the
feed does not serve yet, and rows the horizon releases later move it. The stream is an
optimisation: polling the same feeds stays correct, so nothing is lost when the stream
drops, and the server keeps no per-client state beyond the open connection.

Live updates fan out per process, not per stream:
  - cursors.py: what a poke names, and the one look at the database that computes it.
  - notify.py: on PostgreSQL every write to a mirrored table notifies at its commit
    (a statement-level trigger, migration 0009).
  - listener.py: one LISTEN connection per server process (psycopg 3, async).
  - hub.py: one hub per process recomputes the cursors once for all its streams (on
    notifications, or polling on SQLite) and wakes the streams concerned; it also caps
    the streams of one session.
  - stream.py: the view, and one stream, which holds no database connection.
Under WSGI the stream sends the current cursors once and ends (stream.py).

Settings: STEWARD_EVENTS_POLL_SECONDS (1), STEWARD_EVENTS_MAX_SECONDS (300),
STEWARD_EVENTS_RECHECK_SECONDS (10), STEWARD_EVENTS_MAX_STREAMS_PER_SESSION (4).
"""

from steward.events.cursors import (
    CURSOR_NAMES,
    CURSORS,
    moved_forward,
    snapshot,
    visible_collections,
)
from steward.events.stream import EventStreamView

__all__ = [
    "CURSOR_NAMES",
    "CURSORS",
    "EventStreamView",
    "moved_forward",
    "snapshot",
    "visible_collections",
]
