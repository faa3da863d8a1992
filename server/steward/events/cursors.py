"""What a poke names: each collection's newest cursor, under the feeds' horizon.

A poke names the cursor of the last row its feed serves now, under the same horizon
(feeds.py): a poke never names a row the feed holds back, and a row that the horizon
releases moves the cursor, so the stream pokes for it then.

On PostgreSQL a committed row can be held back by an older transaction that is still
running, and that transaction may never notify when it ends (it may have written nothing
Steward mirrors, or be in another database of the cluster). `compute` therefore also says
which collections have rows held back, so the hub looks at them again until they are
released.
"""

from django.db import close_old_connections, connection

from steward.feeds import PG_HORIZON, decode_cursor, newest_cursor
from steward.models import Account, AuditEvent, Item, Job, ReasonTemplate
from steward.permissions import has_permission_code
from steward.services import items as item_services

CURSOR_NAMES = ("accounts", "audit", "items", "jobs", "queues", "reason_templates")

CURSORS = {
    "items": lambda: newest_cursor(Item.objects.all()),
    "queues": lambda: newest_cursor(item_services.queue_queryset(), field="changed_seq"),
    "reason_templates": lambda: newest_cursor(ReasonTemplate.objects.all()),
    "accounts": lambda: newest_cursor(Account.objects.all()),
    "audit": lambda: newest_cursor(AuditEvent.objects.all()),
    "jobs": lambda: newest_cursor(Job.objects.all()),
}

# The tables whose writes can move each collection's cursor (what a NOTIFY names).
TABLES = {
    "items": ("steward_item",),
    "queues": ("steward_queue", "steward_item"),
    "reason_templates": ("steward_reasontemplate",),
    "accounts": ("steward_account",),
    "audit": ("steward_auditevent",),
    "jobs": ("steward_job",),
}


def collections_of_table(table: str) -> set[str]:
    """The collections a write to `table` can move; every one for a name it does not know,
    so an unexpected notification errs on the side of looking."""
    names = {name for name, tables in TABLES.items() if table in tables}
    return names or set(CURSOR_NAMES)


def visible_collections(user) -> list[str]:
    collections = ["reason_templates"]
    if has_permission_code(user, "items.view"):
        collections += ["items", "queues"]
    if has_permission_code(user, "accounts.view"):
        collections.append("accounts")
    if has_permission_code(user, "audit.view"):
        collections.append("audit")
    if has_permission_code(user, "jobs.view"):
        collections.append("jobs")
    return sorted(collections)


def moved_forward(previous: str | None, current: str | None) -> bool:
    """Whether `current` names rows past `previous`. The newest row a feed serves can
    step back (it changed again, and its new stamp waits above the horizon); that brings
    nothing new, so it is no reason to poke. Every row the horizon releases later sorts
    after everything served before it, so a forward move misses nothing."""
    if current is None:
        return False
    return previous is None or decode_cursor(current) > decode_cursor(previous)


def snapshot(collections) -> dict:
    """{collection: cursor} as the feeds serve them now."""
    return {name: CURSORS[name]() for name in collections}


def held_back(collections) -> set[str]:
    """Those of `collections` with committed rows the horizon still holds back (always
    none on SQLite, which needs no horizon). One statement: an index probe per table."""
    if connection.vendor != "postgresql":
        return set()
    tables = sorted({table for name in collections for table in TABLES[name]})
    if not tables:
        return set()
    quote = connection.ops.quote_name
    probes = " UNION ALL ".join(
        f"SELECT %s WHERE EXISTS (SELECT 1 FROM {quote(table)} "  # noqa: S608 - quoted names
        f"WHERE feed_seq >= ({PG_HORIZON}))"
        for table in tables
    )
    with connection.cursor() as cursor:
        cursor.execute(probes, tables)
        waiting = {table for (table,) in cursor.fetchall()}
    return {name for name in collections if waiting.intersection(TABLES[name])}


def compute(collections) -> tuple[dict, set[str]]:
    """The hub's one look at the database, on its own thread: the cursors of
    `collections` and those of them with rows held back. Connections are recycled as at
    the edges of a request (CONN_MAX_AGE, broken connections)."""
    close_old_connections()
    try:
        # Held back first: a row still held back when the cursors are read was committed
        # before that, so it is held back here too (the horizon only rises) and gets looked
        # at again; a row committed after this probe notifies after it.
        waiting = held_back(collections)
        return snapshot(collections), waiting
    finally:
        close_old_connections()
