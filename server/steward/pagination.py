"""Pages of lists: the page shape, the `limit` parameter, and id-ordered pages for lists
that only grow (an account's notes). Delta feeds of mirrored collections page on database
stamps instead, in feeds.py.
"""

from dataclasses import dataclass

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
