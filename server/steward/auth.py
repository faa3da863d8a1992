"""Opaque bearer tokens, stored hashed.

Login creates a token family (one session) with a short-lived access token and a
long-lived refresh token. Only sha256 hashes of tokens are stored, so a database leak
does not leak sessions. Refreshing marks the presented refresh token used, issues a new
pair in the same family and links the token to its successor. Presenting a used refresh
token again means it was stolen or replayed, so the whole family is revoked, with one
exception: the answer to a refresh can be lost (the laptop sleeps, the client aborts the
request), and the client then retries with the token it still holds. Within
STEWARD_REFRESH_REUSE_GRACE_SECONDS of the rotation, while the successor has never been
used, such a retry supersedes the successor (presenting it later counts as reuse) and
issues a new pair in the same family. Logout revokes the family, which also kills its
access tokens.

A family also ends, whatever its refreshes, STEWARD_SESSION_MAX_AGE_SECONDS after its
login (access and refresh tokens never outlive it), and when the user's password changes
by any path that saves the user (set_password and save, the admin, the product's forms):
a pre_save/post_save pair on the user model compares the stored hash.

Login is throttled per username and per client address before the password is checked
(throttle.py).

Settings: STEWARD_ACCESS_TOKEN_TTL (seconds, default 900), STEWARD_REFRESH_TOKEN_TTL
(seconds, default 30 days), STEWARD_REFRESH_REUSE_GRACE_SECONDS (default 60; 0 turns
the grace off) and STEWARD_SESSION_MAX_AGE_SECONDS (default 30 days).
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication

from steward import throttle
from steward.errors import InvalidCredentials, NotAuthenticated, TokenExpired, TokenReused
from steward.models import AccessToken, RefreshToken, TokenFamily

ACCESS_PREFIX = "stw_at_"
REFRESH_PREFIX = "stw_rt_"


def access_token_ttl() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "STEWARD_ACCESS_TOKEN_TTL", 15 * 60)))


def refresh_token_ttl() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "STEWARD_REFRESH_TOKEN_TTL", 30 * 24 * 3600)))


def refresh_reuse_grace() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "STEWARD_REFRESH_REUSE_GRACE_SECONDS", 60)))


def session_max_age() -> timedelta:
    return timedelta(
        seconds=int(getattr(settings, "STEWARD_SESSION_MAX_AGE_SECONDS", 30 * 24 * 3600))
    )


def family_ends_at(family: TokenFamily) -> datetime:
    """When the session ends at the latest, however often it is refreshed."""
    return family.created_at + session_max_age()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass
class IssuedTokens:
    user: object
    access_token: str
    access_expires_at: datetime
    refresh_token: str


def _issue_pair(family: TokenFamily, now: datetime, replacing: RefreshToken | None = None):
    """A new access and refresh token in `family`, linked as the successor of `replacing`."""
    access = ACCESS_PREFIX + secrets.token_urlsafe(32)
    refresh = REFRESH_PREFIX + secrets.token_urlsafe(32)
    ends_at = family_ends_at(family)
    access_expires_at = min(now + access_token_ttl(), ends_at)
    AccessToken.objects.create(
        family=family, token_hash=hash_token(access), expires_at=access_expires_at
    )
    successor = RefreshToken.objects.create(
        family=family,
        token_hash=hash_token(refresh),
        expires_at=min(now + refresh_token_ttl(), ends_at),
        rotated_from=replacing,
    )
    if replacing is not None:
        RefreshToken.objects.filter(pk=replacing.pk).update(replaced_by=successor)
    return IssuedTokens(family.user, access, access_expires_at, refresh)


def login(username: str, password: str, address: str | None = None) -> IssuedTokens:
    """A new session for the user, unless the username or the client `address` (see
    throttle.client_address; None counts the username only) is locked out: then 429,
    without checking the password."""
    throttle.check(username, address)
    user = authenticate(username=username, password=password)
    if user is None or not user.is_active:
        throttle.record_failure(username, address)
        raise InvalidCredentials()
    throttle.record_success(username)
    with transaction.atomic():
        family = TokenFamily.objects.create(user=user)
        return _issue_pair(family, timezone.now())


def refresh(refresh_token: str) -> IssuedTokens:
    now = timezone.now()
    reused = False
    with transaction.atomic():
        row = (
            RefreshToken.objects.select_related("family__user")
            .filter(token_hash=hash_token(refresh_token))
            .first()
        )
        if row is None:
            raise NotAuthenticated("This refresh token is not valid. Sign in again.")
        family = row.family
        if family.revoked_at is not None:
            raise NotAuthenticated("This session has ended. Sign in again.")
        if row.expires_at <= now or family_ends_at(family) <= now:
            raise NotAuthenticated("This refresh token has expired. Sign in again.")
        if not family.user.is_active:
            raise NotAuthenticated("This account is disabled.")
        if row.rotated_from_id is not None:
            # Serializes this use against a retry of the predecessor (_retry_allowed).
            RefreshToken.objects.select_for_update().filter(pk=row.rotated_from_id).first()
        # The conditional UPDATE is the lock: of two concurrent refreshes with the same
        # token, exactly one marks it used; the other sees zero rows.
        marked = RefreshToken.objects.filter(
            pk=row.pk, used_at__isnull=True, superseded_at__isnull=True
        ).update(used_at=now)
        if marked:
            if row.rotated_from_id is not None:
                # The pair that reached the client is this one: the siblings a retry of
                # the predecessor issued are dead from now on.
                RefreshToken.objects.filter(
                    rotated_from_id=row.rotated_from_id,
                    used_at__isnull=True,
                    superseded_at__isnull=True,
                ).exclude(pk=row.pk).update(superseded_at=now)
            return _issue_pair(family, now, replacing=row)
        if _retry_allowed(row.pk, now):
            return _issue_pair(family, now, replacing=row)
        revoke_family(family, "refresh_reused", now)
        reused = True
    # Raised outside the transaction so the revocation is committed, not rolled back.
    if reused:
        raise TokenReused()
    raise AssertionError("unreachable")


def _retry_allowed(token_id: int, now: datetime) -> bool:
    """For a retry with a token already rotated: allowed within the grace window, while
    none of the tokens it was rotated to has been used. The retry gets one more sibling;
    the earlier ones stay valid, because the client may hold any of them: an answer
    thought lost may have arrived, and a request delayed in the network may be the one
    that arrives last. The first sibling used retires the others, and presenting a
    retired one later is reuse.

    The token is locked and read again after the failed conditional UPDATE, so it reflects
    a rotation that committed meanwhile, and a sibling's first use (which locks it too)
    cannot slip in between the check and the new pair.
    """
    token = (
        RefreshToken.objects.select_for_update()
        .filter(pk=token_id)
        .values("used_at", "superseded_at")[0]
    )
    grace = refresh_reuse_grace()
    if (
        token["superseded_at"] is not None
        or token["used_at"] is None
        or grace <= timedelta(0)
        or now - token["used_at"] > grace
    ):
        return False
    return not RefreshToken.objects.filter(rotated_from_id=token_id, used_at__isnull=False).exists()


def revoke_family(family: TokenFamily, reason: str, now: datetime | None = None) -> None:
    TokenFamily.objects.filter(pk=family.pk, revoked_at__isnull=True).update(
        revoked_at=now or timezone.now(), revoked_reason=reason
    )


def logout(refresh_token: str | None, access_token_family: TokenFamily | None) -> None:
    """Revoke the session named by the refresh token, or else by the access token used."""
    family = None
    if refresh_token:
        row = (
            RefreshToken.objects.select_related("family")
            .filter(token_hash=hash_token(refresh_token))
            .first()
        )
        family = row.family if row else None
    if family is None:
        family = access_token_family
    if family is not None:
        revoke_family(family, "logout")


class BearerTokenAuthentication(BaseAuthentication):
    """DRF authentication from `Authorization: Bearer <access token>`.

    request.auth is the AccessToken row (its family is the session). No header means
    anonymous, which the permission classes then turn into 401 not_authenticated.
    """

    keyword = "Bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        parts = header.split()
        if len(parts) != 2 or parts[0].lower() != self.keyword.lower():
            raise NotAuthenticated("The Authorization header must be 'Bearer <access token>'.")
        row = (
            AccessToken.objects.select_related("family__user")
            .filter(token_hash=hash_token(parts[1]))
            .first()
        )
        if row is None or row.family.revoked_at is not None:
            raise NotAuthenticated()
        now = timezone.now()
        if row.expires_at <= now or family_ends_at(row.family) <= now:
            raise TokenExpired()
        user = row.family.user
        if not user.is_active:
            raise NotAuthenticated("This account is disabled.")
        return user, row

    def authenticate_header(self, request):
        return f'{self.keyword} realm="steward"'


def revoke_user_sessions(user, reason: str) -> int:
    """Revoke every open session of `user`, with one audit event; returns how many."""
    from steward.services.audit import record_audit

    now = timezone.now()
    with transaction.atomic():
        revoked = TokenFamily.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=now, revoked_reason=reason
        )
        if revoked:
            record_audit(
                None,
                "user.sessions_revoked",
                "user",
                user.pk,
                {"reason": reason, "sessions": revoked, "username": user.get_username()},
            )
    return revoked


def _note_password_change(sender, instance, raw=False, using=None, update_fields=None, **kwargs):
    """pre_save of the user model: remember whether this save changes the password hash.

    The stored hash is read only when the save can write the password (not a save with
    update_fields without it, as Django's own last_login update is), so sign-ins pay
    nothing.
    """
    instance._steward_password_changed = False
    if raw or instance._state.adding or instance.pk is None:
        return
    if update_fields is not None and "password" not in update_fields:
        return
    if "password" in instance.get_deferred_fields():
        return
    stored = (
        sender._base_manager.using(using or "default")
        .filter(pk=instance.pk)
        .values_list("password", flat=True)
        .first()
    )
    instance._steward_password_changed = stored is not None and stored != instance.password


def _end_sessions_on_password_change(sender, instance, created=False, raw=False, **kwargs):
    """post_save of the user model: a new password ends the user's Steward sessions, in
    the save's own transaction. An error here fails the save: a password change that
    left stolen sessions alive would be worse than one that has to be retried."""
    if getattr(instance, "_steward_password_changed", False):
        instance._steward_password_changed = False
        revoke_user_sessions(instance, "password_changed")


def connect_password_change_hook() -> None:
    user_model = get_user_model()
    if not any(field.name == "password" for field in user_model._meta.concrete_fields):
        return
    pre_save.connect(
        _note_password_change, sender=user_model, dispatch_uid="steward_password_change_pre"
    )
    post_save.connect(
        _end_sessions_on_password_change,
        sender=user_model,
        dispatch_uid="steward_password_change_post",
    )
