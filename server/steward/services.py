"""Steward's logic. Views parse and serialize; everything that reads or changes state
lives here, so it is testable without HTTP.

Every mutation writes its AuditEvent in the same transaction as the change itself.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, F, Max, Min, Prefetch, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from rest_framework.exceptions import NotFound

from steward import jobs as job_kinds
from steward.errors import Conflict, validation_error
from steward.feeds import feed_page
from steward.models import (
    AuditEvent,
    Decision,
    Item,
    Job,
    Member,
    MemberNote,
    Queue,
    ReasonTemplate,
    Report,
)
from steward.pagination import Page, id_page

ACTION_TO_STATE = {
    Decision.Action.APPROVE: Item.State.APPROVED,
    Decision.Action.REMOVE: Item.State.REMOVED,
    Decision.Action.ESCALATE: Item.State.ESCALATED,
    Decision.Action.IGNORE: Item.State.IGNORED,
}


def claim_ttl() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "STEWARD_CLAIM_TTL", 5 * 60)))


# Audit


def record_audit(actor, action: str, target_type: str, target_id, data: dict) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor,
        actor_username=actor.get_username() if actor else "",
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        data=data,
    )


def list_audit(filters: dict, after_id: int | None, cursor: str | None, limit: int) -> Page:
    """The audit feed: (feed_seq, id) pages under the horizon, like every delta feed.

    `after_id` is only a filter (events with a larger id), kept for clients that paged by
    id; paging by id alone misses events whose transaction commits after a larger id's.
    A page is a first page, with `total`, when it has neither a cursor nor an after_id.
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
    return feed_page(queryset, cursor, limit, param="cursor", count_total=not after_id)


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
    return Item.objects.select_related("author", "claimed_by").prefetch_related(
        Prefetch("reports", queryset=Report.objects.order_by("created_at", "id"))
    )


def get_item(item_id: int) -> Item:
    item = item_queryset().filter(pk=item_id).first()
    if item is None:
        raise NotFound(f"No item with id {item_id}.")
    return item


def list_items(queue_id: int | None, cursor: str | None, limit: int) -> Page:
    queryset = item_queryset()
    if queue_id is not None:
        if not Queue.objects.filter(pk=queue_id).exists():
            raise validation_error("queue", f"No queue with id {queue_id}.")
        queryset = queryset.filter(queue_id=queue_id)
    return feed_page(queryset, cursor, limit)


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
    Member.objects.filter(items__pk=item_id).update(updated_at=now)
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
    record_audit(
        user,
        "item.decide",
        "item",
        item_id,
        {
            "action": action,
            "reason_code": reason_code,
            "note": note,
            "decision_id": decision.pk,
            "base_version": base_version,
        },
    )
    return decision, get_item(item_id)


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


# Accounts (members of the product)


def account_queryset():
    return Member.objects.annotate(
        items_count=Count("items", distinct=True),
        removed_items_count=Count(
            "items", filter=Q(items__state=Item.State.REMOVED), distinct=True
        ),
        reports_received_count=Count("items__reports", distinct=True),
        notes_count=Count("notes", distinct=True),
    )


def get_account(account_id: int) -> Member:
    member = account_queryset().filter(pk=account_id).first()
    if member is None:
        raise NotFound(f"No account with id {account_id}.")
    return member


def accounts_page(query: str | None, status: str | None, cursor: str | None, limit: int) -> Page:
    """Search and delta feed in one: filters narrow the (feed_seq, id) keyset feed."""
    queryset = Member.objects.all()
    if query:
        queryset = queryset.filter(
            Q(username__icontains=query)
            | Q(email__icontains=query)
            | Q(display_name__icontains=query)
        )
    if status:
        queryset = queryset.filter(status=status)
    page = feed_page(queryset, cursor, limit)
    counted = {m.pk: m for m in account_queryset().filter(pk__in=[m.pk for m in page.rows])}
    page.rows = [counted[m.pk] for m in page.rows]
    return page


def account_history(account_id: int, limit: int) -> dict:
    """Decisions on the member's content and actions on the account, newest first."""
    get_account(account_id)
    decisions = (
        Decision.objects.filter(item__author_id=account_id)
        .select_related("actor", "item")
        .order_by("-id")[:limit]
    )
    actions = AuditEvent.objects.filter(target_type="account", target_id=str(account_id)).order_by(
        "-id"
    )[:limit]
    return {"decisions": list(decisions), "account_events": list(actions)}


def list_account_notes(account_id: int, after_id: int | None, limit: int) -> Page:
    get_account(account_id)
    return id_page(MemberNote.objects.filter(member_id=account_id), after_id, limit)


def add_account_note(user, account_id: int, body: str) -> MemberNote:
    """Must run inside a transaction. Touches the account so mirrors see the new count."""
    now = timezone.now()
    if not Member.objects.filter(pk=account_id).update(updated_at=now):
        raise NotFound(f"No account with id {account_id}.")
    note = MemberNote.objects.create(
        member_id=account_id, author=user, author_username=user.get_username(), body=body
    )
    record_audit(user, "account.note", "account", account_id, {"note_id": note.pk, "body": body})
    return note


ACCOUNT_ACTIONS = ("suspend", "reactivate", "force_logout", "send_password_reset")


def account_action(
    user, account_id: int, action: str, reason_code: str, note: str, duration_hours
) -> tuple[Member, Job | None]:
    """Suspend, reactivate, force a logout or send a password reset. Must run inside a
    transaction; the change, its audit event and any job commit together."""
    now = timezone.now()
    member = Member.objects.select_for_update().filter(pk=account_id).first()
    if member is None:
        raise NotFound(f"No account with id {account_id}.")
    job = None
    data = {"action": action, "reason_code": reason_code, "note": note}
    if action == "suspend":
        member.status = Member.Status.SUSPENDED
        member.suspended_until = now + timedelta(hours=duration_hours) if duration_hours else None
        # A suspended member must not keep a live session.
        member.sessions_revoked_at = now
        data["duration_hours"] = duration_hours
        data["suspended_until"] = (
            member.suspended_until.isoformat() if member.suspended_until else None
        )
    elif action == "reactivate":
        if member.effective_status(now) != Member.Status.SUSPENDED:
            raise Conflict(
                message=f"{member.username} is not suspended, so there is nothing to reactivate.",
                code="conflict",
            )
        member.status = Member.Status.ACTIVE
        member.suspended_until = None
    elif action == "force_logout":
        member.sessions_revoked_at = now
    elif action == "send_password_reset":
        job = create_job(
            user,
            "send_password_reset",
            {"account_id": member.pk},
            f"Password reset mail to {member.username}",
        )
        data["job_id"] = job.pk
    member.updated_at = now
    member.save()
    if action in ("suspend", "reactivate"):
        # Items embed their author's status: move them in the items feed too, so a client
        # mirroring only items still shows the new status.
        Item.objects.filter(author_id=account_id).update(updated_at=now)
    record_audit(user, f"account.{action}", "account", account_id, data)
    return get_account(account_id), job


# Jobs

JOB_KINDS = tuple(job_kinds.HANDLERS)


def create_job(user, kind: str, payload: dict, summary: str) -> Job:
    """Create a pending job and enqueue its first attempt. Must run inside a transaction."""
    now = timezone.now()
    job = Job.objects.create(
        kind=kind,
        payload=payload,
        payload_summary=summary[:300],
        created_by=user,
        created_at=now,
        updated_at=now,
    )
    job_kinds.enqueue_attempt(job)
    record_audit(user, "job.create", "job", job.pk, {"kind": kind, "summary": job.payload_summary})
    return job


def get_job(job_id: int) -> Job:
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"No job with id {job_id}.")
    return job


def filter_jobs(queryset, filters: dict):
    if filters.get("kind"):
        queryset = queryset.filter(kind=filters["kind"])
    if filters.get("status"):
        queryset = queryset.filter(status=filters["status"])
    if filters.get("updated_since"):
        queryset = queryset.filter(updated_at__gte=filters["updated_since"])
    return queryset


def jobs_page(filters: dict, cursor: str | None, limit: int) -> Page:
    return feed_page(filter_jobs(Job.objects.all(), filters), cursor, limit)


RETRYABLE = (Job.Status.FAILED, Job.Status.CANCELLED)


def retry_job(user, job_id: int) -> Job:
    """Make a failed or cancelled job pending again and enqueue a new attempt."""
    now = timezone.now()
    updated = Job.objects.filter(pk=job_id, status__in=RETRYABLE).update(
        status=Job.Status.PENDING, updated_at=now, finished_at=None
    )
    if not updated:
        job = get_job(job_id)
        raise Conflict(
            message=f"Job {job_id} is {job.status}; only failed or cancelled jobs can be retried.",
            code="conflict",
            extra={"current_job": job_body(job)},
        )
    job = get_job(job_id)
    job_kinds.enqueue_attempt(job)
    record_audit(user, "job.retry", "job", job_id, {"kind": job.kind, "attempts": job.attempts})
    return get_job(job_id)


def retry_jobs_matching(user, filters: dict, max_jobs: int) -> list[Job]:
    """Retry every failed (or cancelled) job matching the filter, up to max_jobs."""
    status = filters.get("status") or Job.Status.FAILED
    queryset = filter_jobs(Job.objects.filter(status__in=RETRYABLE), {**filters, "status": status})
    ids = list(queryset.order_by("id").values_list("id", flat=True)[:max_jobs])
    return [retry_job(user, job_id) for job_id in ids]


def cancel_job(user, job_id: int) -> Job:
    """Stop a pending job from starting; the worker skips it when it reaches the task."""
    now = timezone.now()
    updated = Job.objects.filter(pk=job_id, status=Job.Status.PENDING).update(
        status=Job.Status.CANCELLED, updated_at=now, finished_at=now
    )
    if not updated:
        job = get_job(job_id)
        raise Conflict(
            message=f"Job {job_id} is {job.status}; only pending jobs can be cancelled.",
            code="conflict",
            extra={"current_job": job_body(job)},
        )
    job = get_job(job_id)
    record_audit(user, "job.cancel", "job", job_id, {"kind": job.kind})
    return job


def job_body(job: Job) -> dict:
    from steward.serializers.jobs import JobSerializer

    return JobSerializer(job).data
