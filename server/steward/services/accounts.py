"""Accounts of the product: search, detail, history, notes and actions.

Every mutation writes its AuditEvent in the same transaction as the change itself. The
actions reach the product's user through the accounts adapter: a suspension deactivates
the user and ends their sessions, and ends by itself through a job scheduled for its end
on the product's job backend (steward_sweep is the safety net); force logout ends every
session; a password reset is Django's own reset mail, sent by a background job.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import NotFound

from steward.accounts.adapter import get_adapter
from steward.accounts.sync import end_suspension, open_suspension, refresh_account
from steward.errors import Conflict, StewardError
from steward.feeds import feed_page
from steward.jobs import own as own_jobs
from steward.models import Account, AccountNote, AuditEvent, Decision, Item, Job, Suspension
from steward.pagination import Page, id_page
from steward.services.audit import record_audit


class NoEligibleAddress(StewardError):
    """422: Django's reset form would send nothing to this user; the message says why."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "no_eligible_address"
    default_detail = "No password reset mail can reach this user."


def account_queryset():
    return Account.objects.annotate(
        items_count=Count("items", distinct=True),
        removed_items_count=Count(
            "items", filter=Q(items__state=Item.State.REMOVED), distinct=True
        ),
        reports_received_count=Count("items__reports", distinct=True),
        notes_count=Count("notes", distinct=True),
    )


def get_account(account_id: int) -> Account:
    account = account_queryset().filter(pk=account_id).first()
    if account is None:
        raise NotFound(f"No account with id {account_id}.")
    return account


def accounts_page(query: str | None, status: str | None, cursor: str | None, limit: int) -> Page:
    """Search and delta feed in one: filters narrow the (feed_seq, id) keyset feed."""
    queryset = Account.objects.all()
    if query:
        queryset = queryset.filter(
            Q(username__icontains=query)
            | Q(email__icontains=query)
            | Q(display_name__icontains=query)
        )
    if status:
        queryset = queryset.filter(status=status)
    page = feed_page(queryset, cursor, limit)
    counted = {a.pk: a for a in account_queryset().filter(pk__in=[a.pk for a in page.rows])}
    page.rows = [counted[a.pk] for a in page.rows]
    return page


def account_history(account_id: int, limit: int) -> dict:
    """Decisions on the account's content and actions on the account, newest first."""
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
    return id_page(AccountNote.objects.filter(account_id=account_id), after_id, limit)


def add_account_note(user, account_id: int, body: str) -> AccountNote:
    """Must run inside a transaction. Touches the account so mirrors see the new count."""
    now = timezone.now()
    if not Account.objects.filter(pk=account_id).update(updated_at=now):
        raise NotFound(f"No account with id {account_id}.")
    note = AccountNote.objects.create(
        account_id=account_id, author=user, author_username=user.get_username(), body=body
    )
    record_audit(user, "account.note", "account", account_id, {"note_id": note.pk, "body": body})
    return note


ACCOUNT_ACTIONS = ("suspend", "reactivate", "force_logout", "send_password_reset")


def account_action(
    user, account_id: int, action: str, reason_code: str, note: str, duration_hours
) -> tuple[Account, Job | None]:
    """Suspend, reactivate, force a logout or send a password reset. Must run inside a
    transaction; the change, its audit event and any job commit together."""
    now = timezone.now()
    account = Account.objects.select_for_update().filter(pk=account_id).first()
    if account is None:
        raise NotFound(f"No account with id {account_id}.")
    adapter = get_adapter()
    product_user = adapter.get_user(account.user_key) if account.user_key else None
    if product_user is None:
        raise Conflict(
            message=f"{account.username} is no longer a user of the product, so there is "
            "nothing to act on.",
            code="conflict",
        )
    job = None
    data = {"action": action, "reason_code": reason_code, "note": note}
    if action == "suspend":
        data.update(_suspend(user, account, product_user, duration_hours, reason_code, note, now))
    elif action == "reactivate":
        suspension = open_suspension(account)
        if suspension is None:
            raise Conflict(
                message=f"{account.username} is not suspended, so there is nothing to reactivate.",
                code="conflict",
            )
        end_suspension(suspension, Suspension.EndReason.REACTIVATED, user, now)
        if suspension.deactivated_user:
            adapter.set_active(product_user, True)
    elif action == "force_logout":
        Account.objects.filter(pk=account.pk).update(sessions_revoked_at=now)
        _end_sessions_after_commit(product_user)
    elif action == "send_password_reset":
        problem = adapter.password_reset_problem(product_user)
        if problem:
            raise NoEligibleAddress(problem)
        job = own_jobs.enqueue(
            "send_password_reset",
            {"account_id": account.pk},
            created_by=user,
            summary=f"Password reset mail to {account.username}",
        )
        data["job_id"] = job.pk if job else None
    refresh_account(product_user, now)
    Account.objects.filter(pk=account.pk).update(updated_at=now)
    if action in ("suspend", "reactivate"):
        # Items embed their author's status: move them in the items feed too, so a client
        # mirroring only items still shows the new status.
        Item.objects.filter(author_id=account_id).update(updated_at=now)
    record_audit(user, f"account.{action}", "account", account_id, data)
    return get_account(account_id), job


def _suspend(staff, account, product_user, duration_hours, reason_code, note, now) -> dict:
    """A suspension (or a new end for the one in force): the user is deactivated, every
    session ends, and a job is scheduled for its end."""
    ends_at = now + timedelta(hours=duration_hours) if duration_hours else None
    suspension = open_suspension(account)
    if suspension is None:
        suspension = Suspension.objects.create(
            account=account,
            starts_at=now,
            ends_at=ends_at,
            reason_code=reason_code,
            note=note,
            created_by=staff,
            deactivated_user=bool(product_user.is_active),
        )
    else:
        Suspension.objects.filter(pk=suspension.pk).update(ends_at=ends_at)
    if product_user.is_active:
        get_adapter().set_active(product_user, False)
    Account.objects.filter(pk=account.pk).update(sessions_revoked_at=now)
    _end_sessions_after_commit(product_user)
    end_job = None
    if ends_at is not None:
        end_job = own_jobs.enqueue(
            "end_suspension",
            {"suspension_id": suspension.pk},
            created_by=staff,
            summary=f"End the suspension of {account.username}",
            run_after=ends_at,
        )
    return {
        "duration_hours": duration_hours,
        "suspended_until": ends_at.isoformat() if ends_at else None,
        "suspension_id": suspension.pk,
        "end_job_id": end_job.pk if end_job else None,
    }


def _end_sessions_after_commit(product_user):
    """Sessions end once the action is committed: a rolled-back suspension must not have
    signed anyone out, and cache-backed sessions cannot roll back."""
    transaction.on_commit(lambda: get_adapter().end_sessions(product_user), robust=True)


def end_expired_suspension(suspension_id: int) -> dict:
    """The job scheduled for a suspension's end (and the sweep): ends it if its time is up
    and it is still in force; otherwise nothing (it was lifted, or given a later end)."""
    now = timezone.now()
    with transaction.atomic():
        suspension = (
            Suspension.objects.select_for_update()
            .select_related("account")
            .filter(pk=suspension_id)
            .first()
        )
        if suspension is None or suspension.ended_at is not None:
            return {"ended": False, "reason": "not in force"}
        if suspension.ends_at is None or suspension.ends_at > now:
            return {"ended": False, "reason": "not over yet"}
        end_suspension(suspension, Suspension.EndReason.EXPIRED, None, now)
        account = suspension.account
        product_user = get_adapter().get_user(account.user_key) if account.user_key else None
        if product_user is not None:
            if suspension.deactivated_user:
                get_adapter().set_active(product_user, True)
            refresh_account(product_user, now)
        Item.objects.filter(author_id=account.pk).update(updated_at=now)
    return {"ended": True, "account_id": account.pk}


def end_all_expired_suspensions() -> int:
    due = Suspension.objects.filter(ended_at__isnull=True, ends_at__lte=timezone.now())
    return sum(bool(end_expired_suspension(pk)["ended"]) for pk in due.values_list("pk", flat=True))


def send_password_reset_mail(account_id: int) -> dict:
    """The password reset job: Django's own reset mail. Fails (with why) instead of
    silently sending nothing when the user cannot receive it."""
    account = Account.objects.get(pk=account_id)
    adapter = get_adapter()
    product_user = adapter.get_user(account.user_key) if account.user_key else None
    if product_user is None:
        raise LookupError(f"{account.username} is no longer a user of the product")
    problem = adapter.password_reset_problem(product_user)
    if problem:
        raise ValueError(problem)
    return adapter.send_password_reset(product_user)
