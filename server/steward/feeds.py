"""Delta feeds that never skip a committed row.

Every mirrored table carries `feed_seq`, which the database writes on every INSERT and
UPDATE (feed_stamps.py). A feed pages on the pair (feed_seq, id) with
    WHERE (feed_seq, id) > (cursor's feed_seq, cursor's id) ORDER BY feed_seq, id
so every row is served once however many share a stamp (all rows of one transaction do),
and a row that changes again moves to the end of its feed.

A page serves only rows below a horizon under which no transaction can still commit:
  - PostgreSQL stamps are transaction ids. `pg_snapshot_xmin(pg_current_snapshot())` is
    the oldest transaction id still running; every smaller id has committed or aborted,
    and a transaction not yet holding an id will get a larger one. Rows stamped below it
    are final, so a cursor below it can never be passed by a later commit. The horizon is
    a subquery of the page's own statement, so it is read from the snapshot that reads
    the rows. The price: while one write transaction stays open, feeds hold back what
    later transactions commit until it ends (they are delayed, never lost).
  - SQLite needs no horizon: stamps are taken inside the write lock, so a reader that
    sees a stamp sees every smaller one, and a write in progress is invisible until it
    commits with a stamp above every committed one.

Cursors are opaque to clients: urlsafe base64 (unpadded) of "2|<feed_seq>|<id>". A cursor
of the first format, "<ISO updated_at>|<id>", restarts its feed from the beginning (a
first page, with `total`): a client that mirrored a feed before the upgrade reads it
again once and converges, with no change on its side.
"""

import base64
import binascii
import re
from datetime import datetime

from django.db import connections
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

from steward.errors import validation_error
from steward.pagination import Page

CURSOR_VERSION = "2"
NOT_A_CURSOR = "This is not a cursor returned by this server."
_NUMBER = re.compile(r"\d{1,18}")
# The oldest transaction id still running (as a bigint, like the stamps).
PG_HORIZON = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"


def feed_page(
    queryset,
    cursor: str | None,
    limit: int,
    field: str = "feed_seq",
    param: str = "updated_after",
    count_total: bool = True,
    values=None,
) -> Page:
    """One page of `queryset` after `cursor`, ordered by (field, id), under the horizon.

    `field` is feed_seq or an annotation of stamps (the queues feed). `param` names the
    query parameter that carried the cursor, for error messages. Without a cursor (or
    with an old-format one) the page is a first page and counts the whole feed. With
    `values`, a function turning the ordered queryset into a values() queryset that
    selects `field` and id among its columns (serializers.feed_rows.Columns.select), the
    page's rows are those dicts instead of model instances.
    """
    position = decode_cursor(cursor, param) if cursor else None
    queryset = below_horizon(queryset, field)
    total = None
    if position is None:
        if count_total:
            total = queryset.count()
    else:
        queryset = queryset.filter(_after(queryset, field, position))
    queryset = queryset.order_by(field, "id")
    if values is not None:
        queryset = values(queryset)
    rows = list(queryset[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if rows:
        last = rows[-1]
        if values is None:
            next_cursor = encode_cursor(getattr(last, field), last.id)
        else:
            next_cursor = encode_cursor(last[field], last["id"])
    return Page(rows, next_cursor, has_more, total)


def newest_cursor(queryset, field: str = "feed_seq") -> str | None:
    """The cursor of the last row the feed serves now (what a poke announces), or None."""
    newest = (
        below_horizon(queryset, field).order_by(f"-{field}", "-id").values_list(field, "id").first()
    )
    return encode_cursor(*newest) if newest else None


def below_horizon(queryset, field: str = "feed_seq"):
    """Only rows no transaction still running can be ordered before."""
    if connections[queryset.db].vendor == "postgresql":
        horizon = RawSQL(PG_HORIZON, [])  # noqa: S611 - a constant
        return queryset.filter(**{f"{field}__lt": horizon})
    # SQLite: no horizon needed (see the module's docstring).
    return queryset


def encode_cursor(feed_seq: int, row_id: int) -> str:
    raw = f"{CURSOR_VERSION}|{feed_seq}|{row_id}"
    return base64.urlsafe_b64encode(raw.encode("ascii")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, param: str = "updated_after") -> tuple[int, int] | None:
    """(feed_seq, id) to continue after, or None for an old-format cursor (restart)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
    except (ValueError, UnicodeError, binascii.Error):
        raise validation_error(param, NOT_A_CURSOR) from None
    parts = raw.split("|")
    if len(parts) == 3 and parts[0] == CURSOR_VERSION:
        if _NUMBER.fullmatch(parts[1]) and _NUMBER.fullmatch(parts[2]):
            return int(parts[1]), int(parts[2])
    elif len(parts) == 2 and _is_old_cursor(*parts):
        return None
    raise validation_error(param, NOT_A_CURSOR)


def _is_old_cursor(stamp: str, row_id: str) -> bool:
    """The first format: "<ISO updated_at with zone>|<id>"."""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return False
    return moment.tzinfo is not None and _NUMBER.fullmatch(row_id) is not None


def _after(queryset, field: str, position: tuple[int, int]):
    """(field, id) > position. On a column this is a row comparison, which PostgreSQL and
    SQLite answer with a range scan of the (feed_seq, id) index: a million rows sharing
    one stamp (seed_demo's audit events) page as fast as any others. An annotation (the
    queues feed, a handful of rows) compares the two parts."""
    feed_seq, row_id = position
    if field in {f.attname for f in queryset.model._meta.concrete_fields}:
        quote = connections[queryset.db].ops.quote_name
        table = quote(queryset.model._meta.db_table)
        return RawSQL(  # noqa: S611 - quoted names; the values are parameters
            f"({table}.{quote(field)}, {table}.{quote('id')}) > (%s, %s)",
            [feed_seq, row_id],
            output_field=BooleanField(),
        )
    return Q(**{f"{field}__gt": feed_seq}) | Q(**{field: feed_seq, "id__gt": row_id})
