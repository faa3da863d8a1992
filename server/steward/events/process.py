"""The hub of this server process, built from the settings on first use."""

from django.conf import settings
from django.db import connections

from steward.events import cursors
from steward.events.hub import Hub

_hub = None


def get_hub() -> Hub:
    global _hub
    if _hub is None:
        listen = None
        if connections["default"].vendor == "postgresql":
            from steward.events.listener import listen
        _hub = Hub(
            cursors.compute,
            listen,
            cursors.collections_of_table,
            poll_seconds=float(getattr(settings, "STEWARD_EVENTS_POLL_SECONDS", 1.0)),
            recheck_seconds=float(getattr(settings, "STEWARD_EVENTS_RECHECK_SECONDS", 10.0)),
            max_per_session=int(getattr(settings, "STEWARD_EVENTS_MAX_STREAMS_PER_SESSION", 4)),
        )
    return _hub
