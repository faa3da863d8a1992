"""The database stamps every INSERT and UPDATE of a mirrored table with `feed_seq`.

Delta feeds page on (feed_seq, id) (feeds.py). The stamp is written by the database, not
by Python, so every write path is covered: Steward's services, bulk `.update()`, the Django
admin, the job worker, the product's own code and raw SQL. A stamp read from the web
process's clock before the write commits is not safe: a transaction stamped earlier can
commit later, behind a cursor a client has already passed.

PostgreSQL: a BEFORE INSERT OR UPDATE trigger sets feed_seq to the writing transaction's id,
`pg_current_xact_id()` (64 bits including the epoch, so it never wraps). The rows of one
transaction share a stamp and their id orders them. A transaction gets its id at its first
write, and while it runs its id is at or above `pg_snapshot_xmin(pg_current_snapshot())`;
a feed that serves only stamps below that horizon therefore never passes a row that a
running transaction may still commit.

SQLite: there are no transaction ids, but writers are serialized by the database lock.
AFTER INSERT and AFTER UPDATE triggers bump a one-row clock table (`steward_feed_clock`)
and write its value into the row, inside the write lock, so stamp order is commit order.
(SQLite's BEFORE triggers cannot change NEW, hence the second UPDATE.) The UPDATE
trigger's WHEN clause skips exactly the trigger's own stamping write, which moves feed_seq
from another value to the clock's current one; any other write leaves feed_seq as it was
(the ORM writes back the value it read) or sets some other value, and gets a new stamp.
Django rebuilds a SQLite table for most schema changes, which drops its triggers, so
`restore_sqlite_triggers` (connected to post_migrate) puts back any that are missing.

Rows that existed before the stamps were introduced are committed, so any stamps below
every later one will do (`stamp_existing_rows`): on PostgreSQL they keep 0 and their id
orders them; on SQLite they take their id, since SQLite's index search for a row
comparison uses only its first column, and a million rows tied at 0 would make each page
scan from the start of the tie.
"""

from django.db import NotSupportedError

FEED_TABLES = (
    "steward_account",
    "steward_auditevent",
    "steward_item",
    "steward_job",
    "steward_queue",
    "steward_reasontemplate",
)

PG_TRIGGER = "steward_feed_seq"
PG_FUNCTION = "steward_stamp_feed_seq"
SQLITE_CLOCK = "steward_feed_clock"


def install(connection, tables=FEED_TABLES) -> None:
    """Create the stamping triggers (and SQLite's clock); safe to run again. A migration
    passes the tables as they were named at its point in history."""
    with connection.cursor() as cursor:
        for statement in _install_statements(connection, tables):
            cursor.execute(statement)


def stamp_existing_rows(connection, tables=FEED_TABLES) -> None:
    """Before `install`, for rows written before stamps existed (see the module's doc)."""
    _check_vendor(connection)
    if connection.vendor != "sqlite":
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"UPDATE {quote(table)} SET feed_seq = id")


def uninstall(connection, tables=FEED_TABLES) -> None:
    """Drop the triggers of `tables` (and, for all of them, the function and the clock)."""
    with connection.cursor() as cursor:
        for statement in _uninstall_statements(connection, tables):
            cursor.execute(statement)


def uninstall_table(connection, table: str) -> None:
    """Drop one table's stamping triggers, before a migration renames the table."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP TRIGGER IF EXISTS {PG_TRIGGER} ON {quote(table)}")
        else:
            for name in _sqlite_trigger_names(table):
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def missing_triggers(connection) -> list[str]:
    """Names of the stamping triggers that should exist and do not."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE t.tgname = %s AND c.relnamespace = to_regnamespace(current_schema())",
                [PG_TRIGGER],
            )
            present = {f"{table}.{PG_TRIGGER}" for (table,) in cursor.fetchall()}
            expected = [f"{table}.{PG_TRIGGER}" for table in FEED_TABLES]
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            present = {name for (name,) in cursor.fetchall()}
            expected = [name for table in FEED_TABLES for name in _sqlite_trigger_names(table)]
    return [name for name in expected if name not in present]


def restore_sqlite_triggers(using="default", **kwargs) -> None:
    """post_migrate: put back triggers a SQLite table rebuild dropped (PostgreSQL keeps
    triggers across ALTER TABLE). Does nothing before the stamping migration has run."""
    from django.db import connections

    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [SQLITE_CLOCK]
        )
        if cursor.fetchone() is None:
            return
    if missing_triggers(connection):
        install(connection)


def _check_vendor(connection):
    if connection.vendor not in ("postgresql", "sqlite"):
        raise NotSupportedError(
            f"Steward's delta feeds need database-side stamps, written for PostgreSQL and "
            f"SQLite; {connection.vendor} is not supported."
        )


def _sqlite_trigger_names(table):
    return (f"{table}_feed_seq_insert", f"{table}_feed_seq_update")


def _install_statements(connection, tables):
    _check_vendor(connection)
    quote = connection.ops.quote_name
    if connection.vendor == "postgresql":
        yield f"""
            CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                NEW.feed_seq := pg_current_xact_id()::text::bigint;
                RETURN NEW;
            END
            $$"""
        for table in tables:
            yield (
                f"CREATE OR REPLACE TRIGGER {PG_TRIGGER} BEFORE INSERT OR UPDATE ON {quote(table)} "
                f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()"
            )
        return
    yield (
        f"CREATE TABLE IF NOT EXISTS {SQLITE_CLOCK} "
        "(id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL)"
    )
    # Start above every stamp already written, should the clock ever be created again.
    highest = " UNION ALL ".join(f"SELECT MAX(feed_seq) AS m FROM {quote(t)}" for t in tables)
    yield (
        f"INSERT OR IGNORE INTO {SQLITE_CLOCK} (id, value) "
        f"SELECT 1, COALESCE(MAX(m), 0) FROM ({highest})"
    )
    clock = f"(SELECT value FROM {SQLITE_CLOCK} WHERE id = 1)"
    for table in tables:
        insert_name, update_name = _sqlite_trigger_names(table)
        stamp = (
            f"UPDATE {SQLITE_CLOCK} SET value = value + 1 WHERE id = 1; "
            f"UPDATE {quote(table)} SET feed_seq = {clock} WHERE id = NEW.id;"
        )
        yield (
            f"CREATE TRIGGER IF NOT EXISTS {insert_name} AFTER INSERT ON {quote(table)} "
            f"BEGIN {stamp} END"
        )
        yield (
            f"CREATE TRIGGER IF NOT EXISTS {update_name} AFTER UPDATE ON {quote(table)} "
            f"WHEN NEW.feed_seq IS OLD.feed_seq OR NEW.feed_seq IS NOT {clock} "
            f"BEGIN {stamp} END"
        )


def _uninstall_statements(connection, tables):
    _check_vendor(connection)
    quote = connection.ops.quote_name
    if connection.vendor == "postgresql":
        for table in tables:
            yield f"DROP TRIGGER IF EXISTS {PG_TRIGGER} ON {quote(table)}"
        yield f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()"
        return
    for table in tables:
        for name in _sqlite_trigger_names(table):
            yield f"DROP TRIGGER IF EXISTS {name}"
    yield f"DROP TABLE IF EXISTS {SQLITE_CLOCK}"
