"""Accounts of the product: search, detail, history, notes and actions.

Every mutation writes its AuditEvent in the same transaction as the change itself.
"""

from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone
from rest_framework.exceptions import NotFound

from steward.errors import Conflict
from steward.feeds import feed_page
from steward.jobs import own as own_jobs
from steward.models import AuditEvent, Decision, Item, Job, Member, MemberNote
from steward.pagination import Page, id_page
from steward.services.audit import record_audit


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
        job = own_jobs.enqueue(
            "send_password_reset",
            {"account_id": member.pk},
            created_by=user,
            summary=f"Password reset mail to {member.username}",
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


def send_password_reset_mail(account_id: int):
    from django.core.mail import send_mail

    member = Member.objects.get(pk=account_id)
    send_mail("Reset your password", "Follow the link.", None, [member.email])
    return {"sent_to": member.email}


def end_expired_suspension(suspension_id: int):
    return None
