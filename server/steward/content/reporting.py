"""Content comes in through `report`, and open items follow their objects.

`report(obj, reason, reporter, note)` opens an item for the object, or adds a report to its
open item. Two reports at once cannot open two items: a partial unique index allows one
open item per object, and the report that loses the race joins the winner's item.

While an item is open, an edit of its object refreshes the snapshot when something shown
changed (title, body, link, author) and bumps the item's version, so a moderator deciding
on what they saw before gets a stale_version conflict. Deleting the object closes its open
item as `deleted` (audited) and marks its closed items, so staff see the object is gone.
"""

import logging
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from steward import signals
from steward.accounts.sync import account_for
from steward.content.registry import site
from steward.models import Item, Queue, Report
from steward.services.audit import record_audit

logger = logging.getLogger("steward.content")

MAX_REASON = 32


@dataclass
class ReportResult:
    item: Item
    report: Report
    # Whether this report opened the item (False: it joined the open one).
    opened: bool


def snapshot(source, obj, account_of=account_for) -> dict:
    """What the item shows of the object: the Source's view of it, bounded. `account_of`
    finds the author's Account (a seed that holds them all passes a dictionary lookup)."""
    author = source.author(obj)
    return {
        "title": str(source.title(obj) or "")[:300],
        "body_html": str(source.body_html(obj) or ""),
        "url": str(source.url(obj) or "")[:2000],
        "author_id": account_of(author).pk if author is not None else None,
    }


def new_item(source, obj, object_type, key, queue, now, account_of=account_for) -> Item:
    """The item (unsaved) that a first report opens on `obj`, in `queue`."""
    return Item(
        queue=queue,
        object_type=object_type,
        object_key=key,
        created_at=source.created_at(obj) or now,
        updated_at=now,
        **snapshot(source, obj, account_of),
    )


def opened_event_data(object_type, key, reason) -> dict:
    """The data of the item.open audit event."""
    return {"object_type": object_type.natural_key(), "object_key": key, "reason": reason}


def object_ref(obj) -> tuple[ContentType, str]:
    return ContentType.objects.get_for_model(obj, for_concrete_model=True), str(obj.pk)


def report(obj, reason: str, reporter=None, note: str = "") -> ReportResult:
    """Report `obj` (an instance of a registered model) for `reason`, by `reporter` (a user,
    or None for anonymous reports). The same reporter reporting the same open item again
    adds nothing and gets their first report back."""
    source = site.source_for(obj)
    if obj.pk is None or obj._state.adding:
        raise ValueError("Save the object before reporting it: Steward points at its key.")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
        raise ValueError(f"The reason must be a code of 1 to {MAX_REASON} characters.")
    if reporter is not None and not getattr(reporter, "is_authenticated", True):
        reporter = None  # AnonymousUser
    now = timezone.now()
    with transaction.atomic():
        object_type, key = object_ref(obj)
        reporter_account = account_for(reporter) if reporter is not None else None
        item, opened = _open_item(source, obj, object_type, key, reason, now)
        existing = (
            Report.objects.filter(item=item, reporter=reporter_account).first()
            if reporter_account is not None
            else None
        )
        if existing is not None:
            return ReportResult(item, existing, False)
        new_report = Report.objects.create(
            item=item, reason=reason.strip(), note=note, reporter=reporter_account, created_at=now
        )
        if not opened:
            Item.objects.filter(pk=item.pk).update(updated_at=now)
        result = ReportResult(item, new_report, opened)
        transaction.on_commit(
            lambda: signals.reported.send_robust(
                sender=type(obj), obj=obj, item=item, report=new_report, opened=opened
            ),
            robust=True,
        )
    return result


def _open_item(source, obj, object_type, key, reason, now) -> tuple[Item, bool]:
    open_items = Item.objects.select_for_update().filter(
        object_type=object_type, object_key=key, state=Item.State.OPEN
    )
    item = open_items.first()
    if item is not None:
        return item, False
    slug = source.get_queue(obj, reason)
    queue, _ = Queue.objects.get_or_create(
        slug=slug, defaults={"name": slug.replace("-", " ").replace("_", " ").capitalize()}
    )
    item = new_item(source, obj, object_type, key, queue, now)
    try:
        with transaction.atomic():
            item.save(force_insert=True)
    except IntegrityError:
        # Another report opened it first; join that item.
        return open_items.get(), False
    record_audit(None, "item.open", "item", item.pk, opened_event_data(object_type, key, reason))
    return item, True


def refresh_snapshot(obj) -> Item | None:
    """After an edit: refresh the open item's snapshot if what it shows changed."""
    source = site.source_for(obj)
    object_type, key = object_ref(obj)
    item = (
        Item.objects.select_for_update()
        .filter(object_type=object_type, object_key=key, state=Item.State.OPEN)
        .first()
    )
    if item is None:
        return None
    fresh = snapshot(source, obj)
    changed = {name: value for name, value in fresh.items() if getattr(item, name) != value}
    if not changed:
        return item
    now = timezone.now()
    Item.objects.filter(pk=item.pk).update(version=F("version") + 1, updated_at=now, **changed)
    record_audit(
        None,
        "item.object_changed",
        "item",
        item.pk,
        {"fields": sorted(changed), "version": item.version + 1},
    )
    return item


def close_for_deleted_object(obj) -> None:
    object_type, key = object_ref(obj)
    now = timezone.now()
    items = Item.objects.filter(object_type=object_type, object_key=key)
    for item in items.select_for_update().filter(state=Item.State.OPEN):
        Item.objects.filter(pk=item.pk).update(
            state=Item.State.DELETED,
            version=F("version") + 1,
            object_deleted_at=now,
            claimed_by=None,
            claim_expires_at=None,
            updated_at=now,
        )
        record_audit(
            None,
            "item.object_deleted",
            "item",
            item.pk,
            {"object_type": object_type.natural_key(), "object_key": key},
        )
    items.filter(object_deleted_at__isnull=True).update(object_deleted_at=now, updated_at=now)


def object_saved(sender, instance, created=False, raw=False, **kwargs):
    if not created and not raw:
        _guarded(refresh_snapshot, instance)


def object_deleted(sender, instance, **kwargs):
    _guarded(close_for_deleted_object, instance)


def _guarded(function, obj):
    """The product's save or delete must not fail because Steward could not follow it:
    the savepoint keeps its transaction usable, and the error is logged."""
    try:
        with transaction.atomic():
            function(obj)
    except Exception:
        logger.exception("Steward could not follow a change of %r", obj)
