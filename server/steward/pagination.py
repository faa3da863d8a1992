"""Keyset pagination.

DRF's CursorPagination positions on the first ordering field only and resolves ties with
an offset, which can skip or repeat rows when many share one updated_at. The delta feed
instead pages on the pair (updated_at, id) with
    WHERE updated_at > t OR (updated_at = t AND id > i) ORDER BY updated_at, id
so every row is seen exactly once however many share a timestamp.

A cursor is an opaque string to clients: urlsafe base64 of "<ISO updated_at>|<id>".
"""

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Q

from steward.errors import validation_error

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    has_more: bool
    # Rows in the whole feed, given on its first page only, so a client can show
    # progress while it downloads a collection for the first time.
    total: int | None = None


def encode_cursor(updated_at: datetime, row_id: int) -> str:
    raw = f"{updated_at.astimezone(UTC).isoformat()}|{row_id}"
    return base64.urlsafe_b64encode(raw.encode("ascii")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, field: str = "updated_after") -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        stamp, row_id = raw.split("|")
        moment = datetime.fromisoformat(stamp)
        if moment.tzinfo is None:
            raise ValueError("naive timestamp")
        # PostgreSQL rejects offsets beyond +-15:59; UTC is always accepted.
        moment = moment.astimezone(UTC)
        number = int(row_id)
        if number < 0:
            raise ValueError("negative id")
    except (ValueError, OverflowError, UnicodeError, binascii.Error):
        raise validation_error(field, "This is not a cursor returned by this server.") from None
    return moment, number


def parse_limit(value, field: str = "limit") -> int:
    if value in (None, ""):
        return DEFAULT_LIMIT
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise validation_error(field, "Must be an integer.") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise validation_error(field, f"Must be between 1 and {MAX_LIMIT}.")
    return limit


def keyset_page(queryset, cursor: str | None, limit: int, field: str = "updated_at") -> Page:
    """One page of `queryset` after `cursor`, ordered by (field, id) ascending.

    `field` may be an annotation (the queues feed pages on the later of a queue's own
    change and its items' last change).
    """
    total = None
    if cursor:
        moment, row_id = decode_cursor(cursor)
        queryset = queryset.filter(
            Q(**{f"{field}__gt": moment}) | Q(**{field: moment, "id__gt": row_id})
        )
    else:
        total = queryset.count()
    rows = list(queryset.order_by(field, "id")[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(getattr(rows[-1], field), rows[-1].id) if rows else None
    return Page(rows, next_cursor, has_more, total)


def id_page(queryset, after_id: int | None, limit: int) -> Page:
    """One page of `queryset` with id > after_id, ascending id; the cursor is the last id."""
    total = None
    if after_id:
        queryset = queryset.filter(id__gt=after_id)
    else:
        total = queryset.count()
    rows = list(queryset.order_by("id")[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = str(rows[-1].id) if rows else None
    return Page(rows, next_cursor, has_more, total)
