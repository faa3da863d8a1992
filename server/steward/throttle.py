"""Sign-in throttling: failed logins counted per username and per client address.

Each key (a username, or a client address) may fail STEWARD_LOGIN_MAX_FAILURES_PER_USER
(default 5) or STEWARD_LOGIN_MAX_FAILURES_PER_ADDRESS (default 50) times within
STEWARD_LOGIN_WINDOW_SECONDS (default 900). The failure that reaches the limit locks the
key for STEWARD_LOGIN_LOCKOUT_SECONDS (default 300), doubled for every lockout in a row
and capped at a day; a day without failures forgets the streak. While a key is locked,
login answers 429 too_many_attempts with Retry-After and never checks the password, so a
locked account cannot be used as an oracle. A successful login clears its username's
record (not its address's: one valid account must not unlock guessing at others).

Unknown usernames are counted like real ones, so the throttle does not reveal which
accounts exist. The counts live in the database (LoginThrottle), shared by every web
process; `steward_sweep` deletes records that have been quiet for a day.

The client address is REMOTE_ADDR, or, behind STEWARD_TRUSTED_PROXY_COUNT proxies that
each append to X-Forwarded-For, the address the outermost of them saw. IPv6 addresses
count per /64, the block one client usually holds.
"""

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from steward.errors import TooManyAttempts
from steward.models import LoginThrottle

# How long a lockout may last at most, and how long a key must stay quiet for its streak
# of lockouts (and its record) to be forgotten.
MAX_LOCKOUT = timedelta(days=1)
FORGET_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class Limits:
    per_user: int
    per_address: int
    window: timedelta
    lockout: timedelta


def limits() -> Limits:
    return Limits(
        per_user=int(getattr(settings, "STEWARD_LOGIN_MAX_FAILURES_PER_USER", 5)),
        per_address=int(getattr(settings, "STEWARD_LOGIN_MAX_FAILURES_PER_ADDRESS", 50)),
        window=timedelta(seconds=int(getattr(settings, "STEWARD_LOGIN_WINDOW_SECONDS", 900))),
        lockout=timedelta(seconds=int(getattr(settings, "STEWARD_LOGIN_LOCKOUT_SECONDS", 300))),
    )


def username_key(username: str) -> str:
    # Case variants of one name count together: authentication backends that ignore case
    # would otherwise give each spelling its own allowance.
    return username.strip().casefold()[:255]


def client_address(request) -> str:
    """The address to count a request's failures under (see the module docstring)."""
    meta = request.META
    address = meta.get("REMOTE_ADDR", "") or ""
    proxies = int(getattr(settings, "STEWARD_TRUSTED_PROXY_COUNT", 0))
    if proxies > 0:
        hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [hop for hop in hops if hop]
        # Each trusted proxy appends the address it saw; anything further left was written
        # by the client and proves nothing. Too few hops: the request did not come through
        # the proxies as configured, so only the peer's own address can be trusted.
        if len(hops) >= proxies:
            address = hops[-proxies]
    return normalized_address(address)


def normalized_address(address: str) -> str:
    try:
        parsed = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return address.strip()[:255] or "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def check(username: str, address: str | None, now: datetime | None = None) -> None:
    """Raise TooManyAttempts while the username or the address is locked out."""
    now = now or timezone.now()
    keys = Q(scope=LoginThrottle.Scope.USERNAME, key=username_key(username))
    if address is not None:
        keys |= Q(scope=LoginThrottle.Scope.ADDRESS, key=address)
    locked = list(
        LoginThrottle.objects.filter(keys, locked_until__gt=now).values_list(
            "scope", "locked_until"
        )
    )
    if not locked:
        return
    scope, until = max(locked, key=lambda row: row[1])
    wait = max(1, math.ceil((until - now).total_seconds()))
    who = (
        "for this account" if scope == LoginThrottle.Scope.USERNAME else "from your network address"
    )
    raise TooManyAttempts(
        f"Too many sign-in attempts {who}. Try again in {describe_wait(wait)}.", wait=wait
    )


def record_failure(username: str, address: str | None, now: datetime | None = None) -> None:
    now = now or timezone.now()
    current = limits()
    _count(LoginThrottle.Scope.USERNAME, username_key(username), current.per_user, current, now)
    if address is not None:
        _count(LoginThrottle.Scope.ADDRESS, address, current.per_address, current, now)


def record_success(username: str) -> None:
    LoginThrottle.objects.filter(
        scope=LoginThrottle.Scope.USERNAME, key=username_key(username)
    ).delete()


def purge_quiet_records(now: datetime | None = None) -> int:
    """Delete the records of keys that are not locked and have not failed for a day."""
    now = now or timezone.now()
    quiet = LoginThrottle.objects.filter(last_failure_at__lt=now - FORGET_AFTER).filter(
        Q(locked_until__isnull=True) | Q(locked_until__lte=now)
    )
    deleted, _ = quiet.delete()
    return deleted


def describe_wait(seconds: int) -> str:
    """'4 minutes', rounded up, as a person would say it."""
    if seconds < 60:
        amount, unit = seconds, "second"
    elif seconds < 90 * 60:
        amount, unit = math.ceil(seconds / 60), "minute"
    else:
        amount, unit = math.ceil(seconds / 3600), "hour"
    return f"{amount} {unit}" if amount == 1 else f"{amount} {unit}s"


def _count(scope: str, key: str, limit: int, current: Limits, now: datetime) -> None:
    """One more failure for the key, in a transaction that holds the key's row, so
    failures racing in other processes are all counted."""
    with transaction.atomic():
        row = _locked_row(scope, key, now)
        if now - row.last_failure_at > FORGET_AFTER:
            row.lockouts = 0
        if now - row.window_started_at >= current.window:
            row.failures = 0
            row.window_started_at = now
        row.failures += 1
        row.last_failure_at = now
        if limit > 0 and row.failures >= limit:
            row.locked_until = now + min(current.lockout * 2 ** min(row.lockouts, 16), MAX_LOCKOUT)
            row.lockouts += 1
            row.failures = 0
            row.window_started_at = now
        row.save()


def _locked_row(scope: str, key: str, now: datetime) -> LoginThrottle:
    row = LoginThrottle.objects.select_for_update().filter(scope=scope, key=key).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            return LoginThrottle.objects.create(
                scope=scope, key=key, window_started_at=now, last_failure_at=now
            )
    except IntegrityError:
        # Another process created it first; wait for its transaction and count on top.
        return LoginThrottle.objects.select_for_update().get(scope=scope, key=key)
