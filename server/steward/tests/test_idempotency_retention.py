"""Idempotency records have a stated lifetime: STEWARD_IDEMPOTENCY_RETENTION_SECONDS
(30 days unless set), told to clients by GET /me, and `steward_sweep` purges older ones
in batches. A key whose record was purged is unknown again, and an unknown key is applied:
refusing a row queued longer ago than the retention is the client's part.
"""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.utils import timezone

from steward.idempotency import DEFAULT_RETENTION_SECONDS, purge_expired_records, retention
from steward.models import IdempotencyRecord, Suspension
from steward.tests.conftest import client_for, commits

DAY = 24 * 3600


def make_records(user, ages, prefix="key"):
    """One stored answer per age (a timedelta before now), created_at set as if written then."""
    now = timezone.now()
    for index, age in enumerate(ages):
        record = IdempotencyRecord.objects.create(
            user=user, key=f"{prefix}-{index}", request_hash="0" * 64, status_code=200
        )
        IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=now - age)


def remaining_keys():
    return set(IdempotencyRecord.objects.values_list("key", flat=True))


def test_the_default_retention_is_thirty_days(settings):
    del settings.STEWARD_IDEMPOTENCY_RETENTION_SECONDS
    assert DEFAULT_RETENTION_SECONDS == 30 * DAY
    assert retention() == timedelta(days=30)


@pytest.mark.parametrize("value", [0, -5, "soon", None])
def test_a_retention_that_is_not_a_positive_integer_is_a_configuration_error(settings, value):
    settings.STEWARD_IDEMPOTENCY_RETENTION_SECONDS = value
    with pytest.raises(ImproperlyConfigured):
        retention()


def test_records_older_than_the_retention_are_purged_and_newer_ones_kept(settings, make_user):
    settings.STEWARD_IDEMPOTENCY_RETENTION_SECONDS = 30 * DAY
    user = make_user()
    make_records(user, [timedelta(days=31), timedelta(days=30, minutes=1)], prefix="old")
    make_records(user, [timedelta(days=29, hours=23), timedelta(0)], prefix="new")

    assert purge_expired_records() == 2
    assert remaining_keys() == {"new-0", "new-1"}
    assert purge_expired_records() == 0


def test_purging_deletes_in_batches_until_nothing_expired_is_left(settings, make_user):
    settings.STEWARD_IDEMPOTENCY_RETENTION_SECONDS = DAY
    user = make_user()
    make_records(user, [timedelta(days=2, minutes=n) for n in range(7)], prefix="old")
    make_records(user, [timedelta(hours=1)], prefix="new")

    assert purge_expired_records(batch_size=3) == 7
    assert remaining_keys() == {"new-0"}


def test_a_purged_key_is_unknown_again_and_its_request_is_applied(settings, make_user, make_item):
    """The server cannot tell a purged key from a new one: this is why a client refuses to
    resend an action older than the retention instead of pushing it."""
    settings.STEWARD_IDEMPOTENCY_RETENTION_SECONDS = DAY
    user = make_user(roles=["moderator"])
    client = client_for(user)
    item = make_item()
    body = {"action": "escalate", "reason_code": "spam", "base_version": item.version}
    first = client.post(
        f"/api/v1/items/{item.id}/decisions", body, format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert first.status_code == 201, first.json()
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(days=2))

    assert purge_expired_records() == 1
    again = client.post(
        f"/api/v1/items/{item.id}/decisions", body, format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    # Not a replay of the first answer: the request was evaluated afresh.
    assert again.status_code == 409
    assert again.json()["code"] == "stale_version"


def test_me_tells_the_client_the_retention(settings, make_user):
    settings.STEWARD_IDEMPOTENCY_RETENTION_SECONDS = 45 * DAY
    response = client_for(make_user()).get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["idempotency_retention_seconds"] == 45 * DAY


def test_the_sweep_ends_due_suspensions_and_purges_expired_records(
    settings, make_user, make_account
):
    settings.STEWARD_IDEMPOTENCY_RETENTION_SECONDS = DAY
    account = make_account(suspended=True)
    Suspension.objects.filter(account=account).update(ends_at=timezone.now() - timedelta(1))
    make_records(make_user(), [timedelta(days=3), timedelta(minutes=5)])

    out = StringIO()
    call_command("steward_sweep", "--skip-accounts", stdout=out)

    assert "Ended 1 suspensions" in out.getvalue()
    assert "purged 1 idempotency records" in out.getvalue()
    account.user.refresh_from_db()
    assert account.user.is_active
    assert remaining_keys() == {"key-1"}


@commits
def test_the_sweep_loops_with_every_until_it_is_told_to_stop(settings, make_user, monkeypatch):
    """--every sweeps, waits, sweeps again; a failed sweep is logged and the loop goes on
    (a process runner would stop the whole stack if the clock exited)."""
    from steward.management.commands import steward_sweep

    settings.STEWARD_IDEMPOTENCY_RETENTION_SECONDS = DAY
    make_records(make_user(), [timedelta(days=3)])
    runs = []

    def sweep(self, skip_accounts):
        runs.append(skip_accounts)
        if len(runs) == 1:
            raise RuntimeError("the database went away")
        if len(runs) == 3:
            steward_sweep.signal.raise_signal(steward_sweep.signal.SIGTERM)
        return original(self, skip_accounts)

    original = steward_sweep.Command.sweep
    monkeypatch.setattr(steward_sweep.Command, "sweep", sweep)
    out = StringIO()
    call_command("steward_sweep", "--skip-accounts", "--every", "0.01", stdout=out)

    assert runs == [True, True, True]
    assert out.getvalue().count("purged") == 2
    assert remaining_keys() == set()
