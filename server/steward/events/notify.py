"""PostgreSQL: every write to a mirrored table notifies `steward_changed`, at its commit.

A statement-level trigger (AFTER INSERT OR UPDATE ... FOR EACH STATEMENT) runs
`pg_notify('steward_changed', <table name>)`. Like the feed_seq stamps (feed_stamps.py) it
lives in the database, so every write path notifies: Steward's services, bulk `.update()`,
the admin, the job workers, the product's code and raw SQL. PostgreSQL delivers a
transaction's notifications only when it commits, and a listener sees them only once that
commit is visible to it, so a poke never precedes its commit and a rolled-back write pokes
nobody. Identical notifications of one transaction are folded into one, and a statement
fires the trigger once however many rows it writes, so a bulk write costs one
notification per table. A statement that matches no row still fires it: the hub then
recomputes and finds nothing new.

SQLite has no NOTIFY; there the hub polls (hub.py).
"""

CHANNEL = "steward_changed"
PG_FUNCTION = "steward_notify_changed"
PG_TRIGGER = "steward_notify_changed"


def install(connection, tables) -> None:
    """Create the function and one trigger per table; safe to run again."""
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
                RETURN NULL;
            END
            $$"""
        )
        for table in tables:
            cursor.execute(
                f"CREATE OR REPLACE TRIGGER {PG_TRIGGER} AFTER INSERT OR UPDATE ON "
                f"{quote(table)} FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()"
            )


def uninstall(connection, tables) -> None:
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DROP TRIGGER IF EXISTS {PG_TRIGGER} ON {quote(table)}")
        cursor.execute(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()")


def tables_with_trigger(connection) -> set[str]:
    """The tables of the current schema that carry the notifying trigger."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = %s AND c.relnamespace = to_regnamespace(current_schema())",
            [PG_TRIGGER],
        )
        return {table for (table,) in cursor.fetchall()}
