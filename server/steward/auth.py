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

Settings: STEWARD_ACCESS_TOKEN_TTL (seconds, default 900), STEWARD_REFRESH_TOKEN_TTL
(seconds, default 30 days) and STEWARD_REFRESH_REUSE_GRACE_SECONDS (default 60; 0 turns
the grace off).
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication

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
    access_expires_at = now + access_token_ttl()
    AccessToken.objects.create(
        family=family, token_hash=hash_token(access), expires_at=access_expires_at
    )
    successor = RefreshToken.objects.create(
        family=family, token_hash=hash_token(refresh), expires_at=now + refresh_token_ttl()
    )
    if replacing is not None:
        RefreshToken.objects.filter(pk=replacing.pk).update(replaced_by=successor)
    return IssuedTokens(family.user, access, access_expires_at, refresh)


def login(username: str, password: str) -> IssuedTokens:
    user = authenticate(username=username, password=password)
    if user is None or not user.is_active:
        raise InvalidCredentials()
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
        if row.expires_at <= now:
            raise NotAuthenticated("This refresh token has expired. Sign in again.")
        if not family.user.is_active:
            raise NotAuthenticated("This account is disabled.")
        # The conditional UPDATE is the lock: of two concurrent refreshes with the same
        # token, exactly one marks it used; the other sees zero rows.
        marked = RefreshToken.objects.filter(
            pk=row.pk, used_at__isnull=True, superseded_at__isnull=True
        ).update(used_at=now)
        if marked:
            return _issue_pair(family, now, replacing=row)
        if _supersede_unused_successor(row.pk, now):
            return _issue_pair(family, now, replacing=row)
        revoke_family(family, "refresh_reused", now)
        reused = True
    # Raised outside the transaction so the revocation is committed, not rolled back.
    if reused:
        raise TokenReused()
    raise AssertionError("unreachable")


def _supersede_unused_successor(token_id: int, now: datetime) -> bool:
    """For a retry with a token already rotated: if it was rotated within the grace window
    and its successor was never used, retire that successor and allow the retry.

    The token is read again after the failed conditional UPDATE, so it reflects a rotation
    that committed meanwhile. Retiring the successor is itself a conditional UPDATE: of
    two retries that overlap, one wins and the other sees zero rows and counts as reuse.
    """
    token = RefreshToken.objects.filter(pk=token_id).values(
        "used_at", "superseded_at", "replaced_by_id"
    )[0]
    grace = refresh_reuse_grace()
    if (
        token["superseded_at"] is not None
        or token["used_at"] is None
        or token["replaced_by_id"] is None
        or grace <= timedelta(0)
        or now - token["used_at"] > grace
    ):
        return False
    return bool(
        RefreshToken.objects.filter(
            pk=token["replaced_by_id"], used_at__isnull=True, superseded_at__isnull=True
        ).update(superseded_at=now)
    )


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
        if row.expires_at <= timezone.now():
            raise TokenExpired()
        user = row.family.user
        if not user.is_active:
            raise NotAuthenticated("This account is disabled.")
        return user, row

    def authenticate_header(self, request):
        return f'{self.keyword} realm="steward"'
