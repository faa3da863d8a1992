"""The sweep's account refresh: what signals missed (QuerySet.update) reaches the accounts
feed, what did not change stays where it is in the feed, and the sweep reads a chunk of
users at a time instead of a handful of queries per user."""

from datetime import timedelta
from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from steward.models import Account, Suspension


def sweep_accounts():
    out = StringIO()
    call_command("steward_sweep", stdout=out)
    return out.getvalue()


def test_the_sweep_brings_in_what_queryset_update_changed_and_moves_only_those(make_account):
    changed, untouched, deactivated = make_account(), make_account(), make_account()
    before = {a.pk: a.updated_at for a in Account.objects.all()}
    users = get_user_model().objects
    users.filter(pk=changed.user.pk).update(email="new-address@example.com")
    users.filter(pk=deactivated.user.pk).update(is_active=False)

    out = sweep_accounts()

    assert "refreshed 3 accounts" in out
    assert Account.objects.get(pk=changed.pk).email == "new-address@example.com"
    assert Account.objects.get(pk=changed.pk).updated_at > before[changed.pk]
    assert Account.objects.get(pk=deactivated.pk).status == "inactive"
    assert Account.objects.get(pk=untouched.pk).updated_at == before[untouched.pk]


def test_a_user_reactivated_in_the_product_ends_the_suspension_at_the_sweep(make_account):
    account = make_account(suspended=True)
    get_user_model().objects.filter(pk=account.user.pk).update(is_active=True)
    sweep_accounts()
    account.refresh_from_db()
    assert account.status == "active"
    assert Suspension.objects.get(account=account).end_reason == "reactivated_in_product"


def test_a_user_with_no_account_row_gets_one(make_user):
    user = make_user()
    Account.objects.filter(user_key=str(user.pk)).delete()
    sweep_accounts()
    assert Account.objects.filter(user_key=str(user.pk), username=user.username).exists()


def test_a_sweep_of_unchanged_accounts_reads_them_a_chunk_at_a_time(make_account):
    [make_account() for _ in range(59)]
    suspended = make_account(suspended=True)
    Suspension.objects.filter(account=suspended).update(ends_at=timezone.now() + timedelta(1))
    sweep_accounts()  # the row takes the suspension's end, as a signal would have
    before = {a.pk: a.updated_at for a in Account.objects.all()}
    with CaptureQueriesContext(connection) as queries:
        sweep_accounts()
    # One user at a time this was 305 queries for 60 users.
    assert len(queries) < 30, [q["sql"] for q in queries]
    assert {a.pk: a.updated_at for a in Account.objects.all()} == before
    assert Account.objects.get(pk=suspended.pk).status == "suspended"
