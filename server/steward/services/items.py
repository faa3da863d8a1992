"""Queues, items, decisions, claims and reason templates.

Every mutation writes its AuditEvent in the same transaction as the change itself.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import OperationalError, transaction
from django.db.models import Count, F, Max, Min, Prefetch, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import NotFound

from steward import signals
from steward.content.registry import site
from steward.content.source import DecisionRefused
from steward.errors import Conflict, StewardError, validation_error
from steward.feeds import feed_page
from steward.models import Account, Decision, Item, Queue, ReasonTemplate, Report
from steward.pagination import Page
from steward.services.audit import record_audit

logger = logging.getLogger("steward.content")

ACTION_TO_STATE = {
    Decision.Action.APPROVE: Item.State.APPROVED,
    Decision.Action.REMOVE: Item.State.REMOVED,
    Decision.Action.ESCALATE: Item.State.ESCALATED,
    Decision.Action.IGNORE: Item.State.IGNORED,
}


def claim_ttl() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "STEWARD_CLAIM_TTL", 5 * 60)))


# Queues


def queue_queryset():
    open_items = Q(items__state=Item.State.OPEN)
    return Queue.objects.annotate(
        open_count=Count("items", filter=open_items),
        oldest_open_at=Min("items__created_at", filter=open_items),
        items_updated_at=Max("items__updated_at"),
        # A queue changes when it or any of its items changes (its counts move), so its
        # place in the feed is the latest stamp of the two.
        changed_seq=Greatest("feed_seq", Coalesce(Max("items__feed_seq"), "feed_seq")),
    )


def list_queues():
    return queue_queryset().order_by("-priority", "id")


def queues_page(cursor: str | None, limit: int) -> Page:
    return feed_page(queue_queryset(), cursor, limit, field="changed_seq")


# Items


def item_queryset():
    return Item.objects.select_related("author", "claimed_by", "object_type").prefetch_related(
        Prefetch(
            "reports",
            queryset=Report.objects.select_related("reporter").order_by("created_at", "id"),
        )
    )


def get_item(item_id: int) -> Item:
    item = item_queryset().filter(pk=item_id).first()
    if item is None:
        raise NotFound(f"No item with id {item_id}.")
    return item


def list_items(queue_id: int | None, cursor: str | None, limit: int, values=None) -> Page:
    """A page of the items feed: Item instances with what ItemSerializer reads, or dicts
    when `values` selects columns (feeds.feed_page; serializers/feed_rows.py then reads
    the reports)."""
    queryset = item_queryset() if values is None else Item.objects.all()
    if queue_id is not None:
        if not Queue.objects.filter(pk=queue_id).exists():
            raise validation_error("queue", f"No queue with id {queue_id}.")
        queryset = queryset.filter(queue_id=queue_id)
    return feed_page(queryset, cursor, limit, values=values)


def _claim_is_held_by_other(item: Item, user, now) -> bool:
    return (
        item.claimed_by_id is not None
        and item.claimed_by_id != user.pk
        and item.claim_expires_at is not None
        and item.claim_expires_at > now
    )


def _free_or_mine(user, now) -> Q:
    return Q(claimed_by__isnull=True) | Q(claimed_by=user) | Q(claim_expires_at__lte=now)


def _claimed_conflict(item: Item, current_body: dict) -> Conflict:
    holder = item.claimed_by.get_username() if item.claimed_by else "someone else"
    until = item.claim_expires_at.isoformat() if item.claim_expires_at else "?"
    return Conflict(
        message=f"{holder} is working on this item (claimed until {until}).",
        code="claimed",
        extra={
            "holder": {"id": item.claimed_by_id, "username": holder},
            "current": current_body,
        },
    )


def decide_item(
    user, item_id: int, action: str, reason_code: str, note: str, base_version: int, serialize_item
):
    """Apply a decision if the item is still open at base_version.

    Must run inside a transaction (the caller's idempotency transaction). The conditional
    UPDATE both checks and bumps the version, so two racing decisions cannot both win.
    Returns (decision, item_after). Raises Conflict (409) with the current item otherwise.
    """
    now = timezone.now()
    new_state = ACTION_TO_STATE[action]
    # A decision changes its author's account (counts, history): move it in the accounts
    # feed. Done first so that a decision locks the member before the item, in the order
    # account actions do (the member, then the author's items), and the two cannot
    # deadlock. A conflict below rolls it back with everything else.
    Account.objects.filter(items__pk=item_id).update(updated_at=now)
    updated = (
        Item.objects.filter(pk=item_id, version=base_version, state=Item.State.OPEN)
        .filter(_free_or_mine(user, now))
        .update(
            state=new_state,
            version=F("version") + 1,
            updated_at=now,
            claimed_by=None,
            claim_expires_at=None,
        )
    )
    if not updated:
        current = get_item(item_id)
        body = serialize_item(current)
        if current.version != base_version:
            raise Conflict(
                message=(
                    f"This item changed since you saw it (you saw version {base_version}, "
                    f"it is now version {current.version}). Review it and decide again."
                ),
                code="stale_version",
                extra={"current": body},
            )
        if current.state != Item.State.OPEN:
            raise Conflict(
                message=f"This item is already {current.state}; only open items can be decided.",
                code="conflict",
                extra={"current": body},
            )
        if _claim_is_held_by_other(current, user, now):
            raise _claimed_conflict(current, body)
        raise Conflict(extra={"current": body})
    decision = Decision.objects.create(
        item_id=item_id,
        actor=user,
        action=action,
        reason_code=reason_code,
        note=note,
        base_version=base_version,
    )
    item = Item.objects.select_related("object_type").get(pk=item_id)
    obj, effect = apply_effect(item, decision, now)
    record_audit(user, "item.decide", "item", item_id, decision_event_data(decision, effect))
    sender = type(obj) if obj is not None else Item
    transaction.on_commit(
        lambda: signals.decided.send_robust(sender=sender, obj=obj, item=item, decision=decision),
        robust=True,
    )
    return decision, get_item(item_id)


def decision_event_data(decision: Decision, effect: str) -> dict:
    """The data of the item.decide audit event."""
    return {
        "action": decision.action,
        "reason_code": decision.reason_code,
        "note": decision.note,
        "decision_id": decision.pk,
        "base_version": decision.base_version,
        "effect": effect,
    }


def run_source_method(source, obj, decision: Decision) -> str:
    """The Source's method for the decision, on the locked object, in a savepoint of the
    decision's transaction; returns the effect the audit event names."""
    with transaction.atomic():
        getattr(source, decision.action)(obj, decision)
    return f"{source.__class__.__name__}.{decision.action}"


def apply_effect(item: Item, decision: Decision, now) -> tuple[object, str]:
    """Run the Source's method for the decision on the item's object, in the decision's
    transaction, with the object locked. Returns (object or None, what happened). An
    exception from the method fails the whole decision: DecisionRefused as 422
    decision_refused with the product's message, anything else as 422
    decision_effect_failed, except OperationalError (a lock timeout, a lost connection),
    which is left to answer 5xx so the client retries later."""
    if item.object_type_id is None:
        return None, "none: the item has no object"
    model = item.object_type.model_class()
    if model is None or not site.is_registered(model):
        return None, "none: the object's model is not registered"
    source = site.source_for_model(model)
    try:
        key = model._meta.pk.to_python(item.object_key)
    except ValidationError:
        key = None
    obj = model._base_manager.select_for_update().filter(pk=key).first() if key else None
    if obj is None:
        Item.objects.filter(pk=item.pk, object_deleted_at__isnull=True).update(
            object_deleted_at=now
        )
        return None, "none: the object no longer exists"
    label = f"{source.type_label()} {item.object_key}"
    try:
        effect = run_source_method(source, obj, decision)
    except DecisionRefused as refusal:
        raise StewardError(
            message=str(refusal) or f"The product refused to {decision.action} this {label}.",
            code="decision_refused",
            status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
        ) from None
    except OperationalError:
        raise
    except Exception as error:
        logger.exception("The %s effect of decision on item %s failed", decision.action, item.pk)
        raise StewardError(
            message=f"The decision was not applied: {decision.action} failed on {label} in "
            f"the product ({type(error).__name__}: {error}). Nothing changed; tell the "
            "product's developers, or decide differently.",
            code="decision_effect_failed",
            status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
        ) from None
    return obj, effect


# Claims


def claim_item(user, item_id: int, serialize_item):
    """Take or extend the lease on an open item. Must run inside a transaction.

    A claim changes updated_at (so delta feeds carry it) but not version: a moderator who
    claims then decides still holds the version they saw.
    """
    now = timezone.now()
    expires_at = now + claim_ttl()
    updated = (
        Item.objects.filter(pk=item_id, state=Item.State.OPEN)
        .filter(_free_or_mine(user, now))
        .update(claimed_by=user, claim_expires_at=expires_at, updated_at=now)
    )
    if not updated:
        current = get_item(item_id)
        body = serialize_item(current)
        if current.state != Item.State.OPEN:
            raise Conflict(
                message=f"This item is already {current.state}; only open items can be claimed.",
                code="conflict",
                extra={"current": body},
            )
        raise _claimed_conflict(current, body)
    record_audit(user, "item.claim", "item", item_id, {"expires_at": expires_at.isoformat()})
    return get_item(item_id)


def release_claim(user, item_id: int, serialize_item):
    """Give up one's own lease. Releasing an unclaimed item is a no-op that succeeds."""
    now = timezone.now()
    updated = Item.objects.filter(pk=item_id, claimed_by=user).update(
        claimed_by=None, claim_expires_at=None, updated_at=now
    )
    if not updated:
        current = get_item(item_id)
        if _claim_is_held_by_other(current, user, now):
            raise _claimed_conflict(current, serialize_item(current))
        return current
    record_audit(user, "item.release", "item", item_id, {})
    return get_item(item_id)


# Reason templates


def list_reason_templates(scope: str | None):
    queryset = ReasonTemplate.objects.filter(active=True)
    if scope:
        queryset = queryset.filter(scope=scope)
    return queryset.order_by("scope", "position", "id")


def reason_templates_page(scope: str | None, cursor: str | None, limit: int) -> Page:
    """Delta feed of templates, inactive ones included so a mirror learns of removals."""
    queryset = ReasonTemplate.objects.all()
    if scope:
        queryset = queryset.filter(scope=scope)
    return feed_page(queryset, cursor, limit)
