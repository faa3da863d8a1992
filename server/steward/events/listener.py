"""PostgreSQL: the hub's one LISTEN connection per server process (psycopg 3, async).

It reads notifications of `steward_changed` (notify.py) and hands each table name to the
hub. When the connection drops it tells the hub (which then polls), reconnects with a
growing pause, and tells the hub again once LISTEN is active, since notifications sent
meanwhile are lost. A connection that silently died is found by a `SELECT 1` after
PING_SECONDS without notifications.
"""

import asyncio
import logging

import psycopg
from django.db import connections

from steward.events.notify import CHANNEL

log = logging.getLogger("steward.events")

PING_SECONDS = 30.0
APPLICATION_NAME = "steward-events-listener"
# Django's connection parameters that are not libpq's, or are for its own sync cursors.
_DJANGO_ONLY = ("cursor_factory", "context")


def connection_params(alias: str = "default") -> dict:
    """libpq parameters of settings.DATABASES[alias], as Django would connect."""
    params = connections[alias].get_connection_params()
    for name in _DJANGO_ONLY:
        params.pop(name, None)
    params.setdefault("application_name", APPLICATION_NAME)
    return params


async def listen(hub, alias: str = "default") -> None:
    """Run until cancelled: LISTEN, forward notifications, reconnect when needed."""
    pause = 0.5
    while True:
        try:
            params = connection_params(alias)
            async with await psycopg.AsyncConnection.connect(autocommit=True, **params) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                pause = 0.5
                hub.listener_ready()
                while True:
                    async for notification in conn.notifies(timeout=PING_SECONDS):
                        hub.notified(notification.payload)
                    await conn.execute("SELECT 1")
        except (psycopg.Error, OSError) as error:
            if hub.listening:
                log.warning("steward events: LISTEN connection lost (%s); polling meanwhile", error)
            hub.listener_lost()
        await asyncio.sleep(pause)
        pause = min(pause * 2, 10.0)
