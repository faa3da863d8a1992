from django.db import migrations

from steward.events import notify

# The mirrored tables, as named at this point in history (see steward/events/notify.py).
TABLES = (
    "steward_account",
    "steward_auditevent",
    "steward_item",
    "steward_job",
    "steward_queue",
    "steward_reasontemplate",
)


def install(apps, schema_editor):
    notify.install(schema_editor.connection, TABLES)


def uninstall(apps, schema_editor):
    notify.uninstall(schema_editor.connection, TABLES)


class Migration(migrations.Migration):
    # Live-update pokes travel by LISTEN/NOTIFY on PostgreSQL; nothing changes on SQLite.

    dependencies = [
        ("steward", "0008_idempotency_retention"),
    ]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
