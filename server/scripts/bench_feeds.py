"""What the feed horizon costs a write and a page, A/B in one run (medians of rounds).

    DATABASE_URL=<a THROWAWAY database> .venv/bin/python server/scripts/bench_feeds.py

It migrates and seeds that database (`seed_demo --reset`), then interleaves the two sides
of each comparison round by round:

  writes  single-row UPDATEs of items (autocommit), and decisions through
          services.decide_item (one transaction each, as the API runs them), with the
          stamping trigger enabled and disabled;
  pages   500-row pages of the items feed and of the audit feed: the former query
          (keyset over (updated_at, id) for items, ascending id for audit, on the former
          indexes, recreated here) against feeds.feed_page over (feed_seq, id) under the
          horizon. Rows are fetched as the API fetches them (items with authors, claims
          and reports); serializing them to JSON costs the same on both sides and is left out.

Knobs: BENCH_ITEMS (20000), BENCH_AUDIT (200000), BENCH_ROUNDS (5), BENCH_WRITES (400 per
round and side).
"""

import os
import statistics
import sys
import time
from pathlib import Path

SERVER = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(SERVER))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Q  # noqa: E402
from django.utils import timezone  # noqa: E402

from steward import feed_stamps, services  # noqa: E402
from steward.feeds import encode_cursor, feed_page  # noqa: E402
from steward.models import AuditEvent, Item  # noqa: E402
from steward.operations import serialize_item  # noqa: E402

ITEMS = int(os.environ.get("BENCH_ITEMS", 20000))
AUDIT = int(os.environ.get("BENCH_AUDIT", 200000))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 5))
WRITES = int(os.environ.get("BENCH_WRITES", 400))
PAGE = 500


def set_stamping(enabled: bool):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            verb = "ENABLE" if enabled else "DISABLE"
            for table in feed_stamps.FEED_TABLES:
                cursor.execute(f"ALTER TABLE {table} {verb} TRIGGER {feed_stamps.PG_TRIGGER}")
        elif enabled:
            feed_stamps.install(connection)
        else:
            for table in feed_stamps.FEED_TABLES:
                for name in feed_stamps._sqlite_trigger_names(table):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def old_items_page(cursor, limit):
    """The former keyset over (updated_at, id), as pagination.keyset_page ran it."""
    queryset = services.item_queryset()
    if cursor:
        moment, row_id = cursor
        queryset = queryset.filter(Q(updated_at__gt=moment) | Q(updated_at=moment, id__gt=row_id))
    rows = list(queryset.order_by("updated_at", "id")[: limit + 1])
    last = rows[min(limit, len(rows)) - 1] if rows else None
    return (last.updated_at, last.id) if last else None, len(rows) > limit


def old_audit_page(after_id, limit):
    queryset = AuditEvent.objects.all()
    if after_id:
        queryset = queryset.filter(id__gt=after_id)
    rows = list(queryset.order_by("id")[: limit + 1])
    return rows[min(limit, len(rows)) - 1].id if rows else None, len(rows) > limit


def walk(page_function, start, pages):
    """Per-page seconds over `pages` consecutive pages from `start`."""
    times, cursor = [], start
    for _ in range(pages):
        began = time.perf_counter()
        cursor, has_more = page_function(cursor)
        times.append(time.perf_counter() - began)
        if not has_more:
            break
    return times


def new_items(cursor):
    page = feed_page(services.item_queryset(), cursor, PAGE)
    return page.next_cursor, page.has_more


def new_audit(cursor):
    page = feed_page(AuditEvent.objects.all(), cursor, PAGE, param="cursor")
    return page.next_cursor, page.has_more


def update_items(ids):
    began = time.perf_counter()
    for item_id in ids:
        Item.objects.filter(pk=item_id).update(title="bench", updated_at=timezone.now())
    return (time.perf_counter() - began) / len(ids)


def decide_items(user, ids):
    began = time.perf_counter()
    for item_id in ids:
        with transaction.atomic():
            services.decide_item(user, item_id, "approve", "", "", 1, serialize_item)
    return (time.perf_counter() - began) / len(ids)


def median_ms(values):
    return f"{statistics.median(values) * 1000:8.3f} ms"


def main():
    print(f"{connection.vendor}: migrating and seeding {ITEMS} items, {AUDIT} audit events")
    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command(
            "seed_demo",
            "--reset",
            "--items",
            ITEMS,
            "--audit",
            AUDIT,
            "--jobs",
            0,
            "--password",
            "bench",
            stdout=quiet,
        )
    with connection.cursor() as cursor:  # the former feed index, for the former query
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS bench_item_updated ON steward_item (updated_at, id)"
        )
        cursor.execute("ANALYZE")
    admin = get_user_model().objects.get(username="admin")
    open_ids = list(Item.objects.filter(state="open", version=1).values_list("id", flat=True))
    all_ids = list(Item.objects.values_list("id", flat=True))
    results = {}
    for round_number in range(ROUNDS):
        flip = round_number % 2 == 1
        for enabled in (False, True) if flip else (True, False):
            set_stamping(enabled)
            side = "on" if enabled else "off"
            start = (round_number * 2 + enabled) * WRITES
            ids = [all_ids[n % len(all_ids)] for n in range(start, start + WRITES)]
            results.setdefault(f"update, trigger {side}", []).append(update_items(ids))
            decided, open_ids = open_ids[: WRITES // 4], open_ids[WRITES // 4 :]
            results.setdefault(f"decide, trigger {side}", []).append(decide_items(admin, decided))
        set_stamping(True)
        # Deep in the audit feed, where on PostgreSQL the seed's events share one stamp.
        deep = AuditEvent.objects.order_by("-id").values_list("feed_seq", "id")[PAGE * 4 + 1]
        for new in (False, True) if flip else (True, False):
            if new:
                pages = {
                    "items page, new": walk(new_items, None, 20),
                    "audit page, new": walk(new_audit, None, 10),
                    "audit deep page, new": walk(new_audit, encode_cursor(*deep), 4),
                }
            else:
                pages = {
                    "items page, old": walk(lambda c: old_items_page(c, PAGE), None, 20),
                    "audit page, old": walk(lambda c: old_audit_page(c, PAGE), None, 10),
                    "audit deep page, old": walk(lambda c: old_audit_page(c, PAGE), deep[1], 4),
                }
            for name, times in pages.items():
                results.setdefault(name, []).extend(times)
    print(f"rounds: {ROUNDS}, {WRITES} writes per side and round, pages of {PAGE} rows")
    for name in sorted(results):
        values = results[name]
        print(f"  {name:24} median {median_ms(values)}  ({len(values)} samples)")


if __name__ == "__main__":
    main()
