"""Account rows follow the product's users.

Every change to a user reaches its Account row through signals (post_save, post_delete,
group changes, sign-ins), which copies what the adapter describes and so moves the row in
the accounts feed: the feed's stamps are on Steward's table, never on the product's.
Changes that send no signal (QuerySet.update, raw SQL) reach it at the next save or at
`manage.py steward_sweep`, which refreshes every account.

A user the product activates again while Steward's suspension is in force was reactivated
in the product: the suspension ends there, audited.
"""

import logging

from django.db import IntegrityError, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from steward.accounts.adapter import get_adapter
from steward.models import Account, Suspension

logger = logging.getLogger("steward.accounts")


def account_status(deleted: bool, is_active: bool, suspension) -> str:
    if deleted:
        return Account.Status.DELETED
    if suspension is not None:
        return Account.Status.SUSPENDED
    return Account.Status.ACTIVE if is_active else Account.Status.INACTIVE


def open_suspension(account) -> Suspension | None:
    return account.suspensions.filter(ended_at__isnull=True).order_by("-id").first()


def account_fields(view) -> dict:
    """What an Account row copies from the adapter's view of its user."""
    return {
        "username": view.username,
        "email": view.email,
        "display_name": view.display_name,
        "roles": view.roles,
        "is_active": view.is_active,
        "joined_at": view.joined_at,
        "last_seen_at": view.last_seen_at,
        "deleted_at": None,
    }


def refresh_account(user, now=None) -> Account:
    """The user's Account row, created or brought up to date (moving it in the feed
    only when something it shows changed)."""
    now = now or timezone.now()
    adapter = get_adapter()
    key = adapter.key(user)
    view = adapter.describe(user)
    account = Account.objects.filter(user_key=key).first()
    if account is None:
        try:
            with transaction.atomic():
                status = account_status(False, view.is_active, None)
                return Account.objects.create(
                    user_key=key, status=status, updated_at=now, **account_fields(view)
                )
        except IntegrityError:
            account = Account.objects.get(user_key=key)
    suspension = open_suspension(account)
    if suspension is not None and view.is_active:
        end_suspension(suspension, Suspension.EndReason.REACTIVATED_IN_PRODUCT, None, now)
        suspension = None
    changed = _changed_fields(account, view, suspension)
    if changed:
        Account.objects.filter(pk=account.pk).update(updated_at=now, **changed)
        account.refresh_from_db()
    return account


REFRESH_CHUNK = 1000


def refresh_accounts(users, now=None) -> int:
    """`refresh_account` for many users (the sweep): their views, Account rows and open
    suspensions read a chunk at a time, and only a user whose row is missing or differs
    goes through `refresh_account`, in a transaction of its own. Returns how many users
    were looked at. One user at a time, a sweep of 200,000 accounts outlasted its period."""
    adapter = get_adapter()
    looked = 0
    chunk = []
    for user in users:
        chunk.append(user)
        if len(chunk) == REFRESH_CHUNK:
            looked += _refresh_chunk(adapter, chunk, now)
            chunk = []
    if chunk:
        looked += _refresh_chunk(adapter, chunk, now)
    return looked


def _refresh_chunk(adapter, users, now) -> int:
    keys = [adapter.key(user) for user in users]
    views = adapter.describe_many(users)
    accounts = {a.user_key: a for a in Account.objects.filter(user_key__in=keys)}
    suspended = {}
    for suspension in Suspension.objects.filter(
        account__in=accounts.values(), ended_at__isnull=True
    ).order_by("id"):
        suspended[suspension.account_id] = suspension  # the newest open one wins
    for user, key, view in zip(users, keys, views, strict=True):
        account = accounts.get(key)
        if account is not None:
            suspension = suspended.get(account.pk)
            # A user active again under a suspension was reactivated in the product:
            # refresh_account ends the suspension.
            reactivated = suspension is not None and view.is_active
            if not reactivated and not _changed_fields(account, view, suspension):
                continue
        with transaction.atomic():
            refresh_account(user, now)
    return len(users)


def _changed_fields(account, view, suspension) -> dict:
    """What the Account row shows that differs from its user's view and open suspension."""
    fields = account_fields(view)
    fields["status"] = account_status(False, view.is_active, suspension)
    fields["suspended_until"] = suspension.ends_at if suspension else None
    return {name: value for name, value in fields.items() if getattr(account, name) != value}


def account_for(user) -> Account:
    """The user's Account row as it is (signals keep it fresh); created when missing."""
    account = Account.objects.filter(user_key=get_adapter().key(user)).first()
    return account if account is not None else refresh_account(user)


def touch_account(account_id, now=None) -> None:
    """Move an account in the feed (its counts or history changed)."""
    Account.objects.filter(pk=account_id).update(updated_at=now or timezone.now())


def end_suspension(suspension, reason, ended_by, now=None) -> None:
    """End a suspension and record it (the caller refreshes the account)."""
    from steward.services.audit import record_audit

    now = now or timezone.now()
    ended = Suspension.objects.filter(pk=suspension.pk, ended_at__isnull=True).update(
        ended_at=now, ended_by=ended_by, end_reason=reason
    )
    if ended:
        record_audit(
            ended_by,
            "account.suspension_ended",
            "account",
            suspension.account_id,
            {"suspension_id": suspension.pk, "reason": reason},
        )


def mark_deleted(user) -> None:
    now = timezone.now()
    account = Account.objects.filter(user_key=get_adapter().key(user)).first()
    if account is None:
        return
    suspension = open_suspension(account)
    if suspension is not None:
        end_suspension(suspension, Suspension.EndReason.USER_DELETED, None, now)
    Account.objects.filter(pk=account.pk).update(
        status=Account.Status.DELETED,
        deleted_at=now,
        suspended_until=None,
        is_active=False,
        updated_at=now,
    )


def _guarded(function, *args):
    """A user save must not fail because Steward could not follow it: the savepoint keeps
    the product's transaction usable, and the error is logged (steward_sweep repairs)."""
    try:
        with transaction.atomic():
            function(*args)
    except Exception:
        logger.exception("Steward could not update the account of a changed user")


def _on_user_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        _guarded(refresh_account, instance)


def _on_user_deleted(sender, instance, **kwargs):
    _guarded(mark_deleted, instance)


def _on_groups_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    user_model = get_adapter().user_model()
    if not reverse:
        _guarded(refresh_account, instance)
        return
    # From the group's side: every user added or removed (all of them on a clear).
    users = user_model._base_manager.filter(pk__in=pk_set) if pk_set else model.objects.none()
    for user in users:
        _guarded(refresh_account, user)


def connect() -> None:
    from django.contrib.auth.signals import user_logged_in

    from steward.accounts.sessions import record_session

    user_model = get_adapter().user_model()
    post_save.connect(_on_user_saved, sender=user_model, dispatch_uid="steward_account_save")
    post_delete.connect(_on_user_deleted, sender=user_model, dispatch_uid="steward_account_delete")
    groups = getattr(user_model, "groups", None)
    if groups is not None and hasattr(groups, "through"):
        m2m_changed.connect(
            _on_groups_changed, sender=groups.through, dispatch_uid="steward_account_groups"
        )
    user_logged_in.connect(record_session, dispatch_uid="steward_account_sessions")
