"""The audit log: every mutation writes its event in its own transaction."""

from steward.feeds import feed_page
from steward.models import AuditEvent
from steward.pagination import Page


def record_audit(actor, action: str, target_type: str, target_id, data: dict) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor,
        actor_username=actor.get_username() if actor else "",
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        data=data,
    )


def list_audit(
    filters: dict,
    after_id: int | None,
    cursor: str | None,
    limit: int,
    values=None,
) -> Page:
    """The audit feed: (feed_seq, id) pages under the horizon, like every delta feed.

    `after_id` is only a filter (events with a larger id), kept for clients that paged by
    id; paging by id alone misses events whose transaction commits after a larger id's.
    A page is a first page, with `total`, when it has neither a cursor nor an after_id.
    With `values` (see feeds.feed_page), rows are dicts.
    """
    queryset = AuditEvent.objects.all()
    if filters.get("actor"):
        queryset = queryset.filter(actor_username=filters["actor"])
    for name in ("action", "target_type", "target_id"):
        if filters.get(name):
            queryset = queryset.filter(**{name: filters[name]})
    if filters.get("created_after"):
        queryset = queryset.filter(created_at__gt=filters["created_after"])
    if filters.get("created_before"):
        queryset = queryset.filter(created_at__lt=filters["created_before"])
    if after_id:
        queryset = queryset.filter(id__gt=after_id)
    return feed_page(
        queryset, cursor, limit, param="cursor", count_total=not after_id, values=values
    )
