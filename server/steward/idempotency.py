"""Idempotency-Key handling for mutations.

The first response (status and body) to a successful mutation sent with a key is stored
in IdempotencyRecord, in the same transaction as the mutation itself, so either both are
committed or neither. A later request with the same user and key:
  - and the same method, path and body: gets the stored response, nothing is applied;
  - with anything different: gets 422 idempotency_key_reused.
Errors are not stored: an error applies nothing, so a retry simply re-evaluates.

A stored answer is looked up before permissions and validation (`stored_response`, called
by the views' permission check and by each batch entry): the action was applied, and
only its answer was lost, so it replays even if the user's roles or the rules changed
since. Authentication still comes first: records belong to a user.

Two racing requests with one key are settled by the unique (user, key) constraint: the
loser's INSERT fails (on PostgreSQL after waiting for the winner to commit), and it
replays the winner's stored response. On SQLite, IMMEDIATE transactions serialize the
two requests outright.

Records have a stated lifetime, STEWARD_IDEMPOTENCY_RETENTION_SECONDS (default 30 days),
and `steward_sweep` purges older ones (`purge_expired_records`). A key whose record was
purged is unknown, and an unknown key is simply applied: so a client must not resend an
action it queued longer ago than the retention (GET /me tells it the number); it shows
such an action as refused instead. Since a record is created after its action was queued,
a client that keeps to that rule always finds the record of anything it resends.
"""

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone

from steward.errors import IdempotencyKeyReused, validation_error
from steward.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
DEFAULT_RETENTION_SECONDS = 30 * 24 * 3600
# Rows deleted per statement (and per transaction) when purging: a short statement never
# holds its row locks for long on PostgreSQL, nor the write lock on SQLite.
PURGE_BATCH_SIZE = 1000


def retention() -> timedelta:
    """How long a stored answer is kept: STEWARD_IDEMPOTENCY_RETENTION_SECONDS.

    Any positive number is honoured (tests use seconds). Keep it at least as long as a
    refresh token lives (STEWARD_REFRESH_TOKEN_TTL, 30 days by default): a client can sit
    offline, signed in, with queued actions that long, and it refuses those older than this.
    """
    raw = getattr(settings, "STEWARD_IDEMPOTENCY_RETENTION_SECONDS", DEFAULT_RETENTION_SECONDS)
    try:
        seconds = int(raw)
    except (TypeError, ValueError):
        seconds = 0
    if seconds <= 0:
        raise ImproperlyConfigured(
            f"STEWARD_IDEMPOTENCY_RETENTION_SECONDS must be a positive integer, not {raw!r}."
        )
    return timedelta(seconds=seconds)


def purge_expired_records(now=None, batch_size: int = PURGE_BATCH_SIZE) -> int:
    """Delete the records older than the retention, oldest first, `batch_size` rows per
    statement, each batch committed on its own. Returns how many were deleted.

    A record still being written (status 0, inside its mutation's transaction) is newer
    than any cutoff, so it is never touched.
    """
    cutoff = (now or timezone.now()) - retention()
    expired = IdempotencyRecord.objects.filter(created_at__lt=cutoff)
    deleted = 0
    while True:
        ids = list(expired.order_by("created_at").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return deleted
        with transaction.atomic():
            count, _ = IdempotencyRecord.objects.filter(pk__in=ids).delete()
        deleted += count
        if len(ids) < batch_size:
            return deleted


def request_hash(request) -> str:
    body = request.data if isinstance(request.data, (dict, list)) else None
    return hash_parts(request.method, request.path, body)


def hash_parts(method: str, path: str, body) -> str:
    """The request's identity. A batch operation hashes as its single request would, so a
    key first sent alone and then inside a batch (or the reverse) still replays."""
    payload = {"method": method, "path": path, "body": body}
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class Replay(Exception):
    """Raised by a view's permission check to answer with a stored response at once."""

    def __init__(self, status_code: int, body):
        super().__init__(status_code)
        self.status_code = status_code
        self.body = body


def stored_response(user, key: str, digest: str) -> tuple[int, dict] | None:
    """The stored answer to an earlier request with this key, if one committed; a 422 when
    the key was used for a different request; None when the key is new (or malformed,
    which the full path then rejects)."""
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        return None
    record = IdempotencyRecord.objects.filter(user=user, key=key).exclude(status_code=0).first()
    if record is None:
        return None
    if record.request_hash != digest:
        raise IdempotencyKeyReused()
    return record.status_code, record.response_body


def replay_before_checks(request) -> None:
    """For a mutation view's permission check: raise Replay when the request's key has a
    stored answer. Does nothing for anonymous or keyless requests."""
    key = request.headers.get(HEADER)
    if key is None or not request.user or not request.user.is_authenticated:
        return
    stored = stored_response(request.user, key, request_hash(request))
    if stored is not None:
        raise Replay(*stored)


def run_idempotent(request, perform: Callable[[], tuple[int, dict]]) -> tuple[int, dict, bool]:
    """Run `perform` (which returns (status, body) or raises) at most once per key.

    Returns (status, body, replayed). The caller's mutation and the record share one
    transaction.
    """
    key = request.headers.get(HEADER)
    if key is None:
        with transaction.atomic():
            status, body = perform()
        return status, body, False
    return run_idempotent_key(request.user, key, request_hash(request), perform, HEADER)


def run_idempotent_key(user, key, digest, perform, field=HEADER) -> tuple[int, dict, bool]:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise validation_error(field, f"Must be 1 to {MAX_KEY_LENGTH} characters.")
    with transaction.atomic():
        existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if existing is None:
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        user=user, key=key, request_hash=digest, status_code=0
                    )
            except IntegrityError:
                existing = IdempotencyRecord.objects.get(user=user, key=key)
        if existing is not None:
            if existing.request_hash != digest:
                raise IdempotencyKeyReused()
            return existing.status_code, existing.response_body, True
        status, body = perform()
        record.status_code = status
        record.response_body = body
        record.save(update_fields=["status_code", "response_body"])
        return status, body, False
