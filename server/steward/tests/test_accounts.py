"""Accounts are the product's users: search, detail, history, notes and the four actions,
each audited, each reaching the real user (sign-in, sessions, Django's reset mail)."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from steward.models import Account, AccountNote, AuditEvent, Item, Job, Suspension
from steward.tests.conftest import PASSWORD, commits, run_db_worker

ACCOUNTS = "/api/v1/accounts"


def act(client, account, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(f"{ACCOUNTS}/{account.id}/actions", body, format="json", **headers)


def signed_in(account) -> Client:
    """A browser signed in to the product as the account's user (a database session)."""
    browser = Client()
    assert browser.login(username=account.username, password=PASSWORD)
    return browser


def is_signed_in(browser) -> bool:
    """Whether the browser's session still authenticates its user."""
    from django.contrib.auth import get_user
    from django.http import HttpRequest

    request = HttpRequest()
    request.session = browser.session
    return get_user(request).is_authenticated


@commits
def test_search_finds_by_username_email_and_status(support_client, make_account):
    make_account("alice", email="alice@example.com")
    make_account("bob")
    make_account("carol", suspended=True)
    found = support_client.get(ACCOUNTS, {"q": "ALI"}).json()
    assert [a["username"] for a in found["results"]] == ["alice"]
    assert found["has_more"] is False
    by_mail = support_client.get(ACCOUNTS, {"q": "alice@"}).json()
    assert [a["username"] for a in by_mail["results"]] == ["alice"]
    suspended = support_client.get(ACCOUNTS, {"status": "suspended"}).json()
    assert [a["username"] for a in suspended["results"]] == ["carol"]


def test_detail_is_the_users_status_groups_dates_and_counts(
    support_client, make_account, make_item
):
    account = make_account("dave", first_name="Dave", last_name="Jones")
    for name in ["trusted", "beta"]:
        account.user.groups.add(Group.objects.get_or_create(name=name)[0])
    make_item(author=account, reports=["spam", "nsfw"])
    make_item(author=account, state=Item.State.REMOVED)
    AccountNote.objects.create(account=account, body="hi")
    body = support_client.get(f"{ACCOUNTS}/{account.id}").json()
    assert body["username"] == "dave"
    assert body["display_name"] == "Dave Jones"
    assert body["status"] == "active"
    assert body["roles"] == ["beta", "trusted"]
    assert body["joined_at"] is not None
    assert body["counts"] == {"items": 2, "removed_items": 1, "reports_received": 2, "notes": 1}


def test_accounts_follow_their_users_without_anything_on_the_user_table(make_account):
    account = make_account("erin")
    user = account.user
    user.email = "erin@example.com"
    user.save()
    account.refresh_from_db()
    assert account.email == "erin@example.com"
    user.is_active = False
    user.save()
    assert Account.objects.get(pk=account.pk).status == "inactive"
    user.delete()
    gone = Account.objects.get(pk=account.pk)
    assert (gone.status, gone.username) == ("deleted", "erin")


def test_missing_account_is_404(support_client):
    response = support_client.get(f"{ACCOUNTS}/999999")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_suspend_stops_sign_in_ends_every_session_and_schedules_its_end(
    support_client, make_account, django_capture_on_commit_callbacks
):
    account = make_account()
    browsers = [signed_in(account), signed_in(account)]
    assert all(is_signed_in(b) for b in browsers)
    with django_capture_on_commit_callbacks(execute=True):
        response = act(
            support_client,
            account,
            {"action": "suspend", "duration_hours": 48, "reason_code": "spam"},
        )
    assert response.status_code == 200, response.content
    assert response.json()["account"]["status"] == "suspended"
    user = get_user_model().objects.get(pk=account.user.pk)
    assert user.is_active is False
    assert not any(is_signed_in(b) for b in browsers)
    assert not Session.objects.filter(
        session_key__in=[b.session.session_key for b in browsers]
    ).exists()
    assert Client().login(username=account.username, password=PASSWORD) is False
    suspension = Suspension.objects.get(account=account)
    assert suspension.ends_at - timezone.now() > timedelta(hours=47)
    event = AuditEvent.objects.get(action="account.suspend")
    assert event.target_type == "account" and event.target_id == str(account.id)
    assert event.data["duration_hours"] == 48 and event.data["reason_code"] == "spam"
    end_job = Job.objects.get(pk=event.data["end_job_id"])
    assert (end_job.kind, end_job.status) == ("end_suspension", "pending")


@pytest.mark.django_db(transaction=True)
def test_a_suspension_ends_by_itself_when_its_time_is_up(support_client, make_account):
    from django_tasks_db.models import DBTaskResult

    account = make_account()
    act(support_client, account, {"action": "suspend", "duration_hours": 1})
    end_job = Job.objects.get(kind="end_suspension")
    run_db_worker()  # not due yet: the job waits for the suspension's end
    assert Job.objects.get(pk=end_job.pk).status == "pending"
    past = timezone.now() - timedelta(seconds=1)
    Suspension.objects.filter(account=account).update(ends_at=past)
    DBTaskResult.objects.filter(pk=end_job.task_id).update(run_after=past)
    run_db_worker()
    assert Job.objects.get(pk=end_job.pk).status == "succeeded"
    assert get_user_model().objects.get(pk=account.user.pk).is_active is True
    assert Account.objects.get(pk=account.pk).status == "active"
    assert Suspension.objects.get(account=account).end_reason == "expired"
    assert Client().login(username=account.username, password=PASSWORD) is True
    assert AuditEvent.objects.filter(action="account.suspension_ended").count() == 1


def test_the_sweep_ends_suspensions_whose_job_never_ran(make_account):
    account = make_account(suspended=True)
    Suspension.objects.filter(account=account).update(ends_at=timezone.now() - timedelta(1))
    call_command("steward_sweep", verbosity=0)
    assert Account.objects.get(pk=account.pk).status == "active"
    assert get_user_model().objects.get(pk=account.user.pk).is_active is True


def test_suspend_without_duration_is_indefinite(support_client, make_account):
    account = make_account()
    body = act(support_client, account, {"action": "suspend"}).json()
    assert body["account"]["status"] == "suspended"
    assert body["account"]["suspended_until"] is None
    assert not Job.objects.filter(kind="end_suspension").exists()


def test_reactivate_and_reactivating_an_active_account_is_409(support_client, make_account):
    account = make_account(suspended=True)
    body = act(support_client, account, {"action": "reactivate"}).json()
    assert body["account"]["status"] == "active"
    assert get_user_model().objects.get(pk=account.user.pk).is_active is True
    again = act(support_client, account, {"action": "reactivate"})
    assert again.status_code == 409
    assert again.json()["code"] == "conflict"


def test_a_user_the_product_deactivated_itself_stays_inactive_after_a_suspension(
    support_client, make_account
):
    account = make_account(is_active=False)
    assert Account.objects.get(pk=account.pk).status == "inactive"
    act(support_client, account, {"action": "suspend"})
    act(support_client, account, {"action": "reactivate"})
    assert get_user_model().objects.get(pk=account.user.pk).is_active is False
    assert Account.objects.get(pk=account.pk).status == "inactive"


def test_the_product_reactivating_the_user_ends_the_suspension(support_client, make_account):
    account = make_account()
    act(support_client, account, {"action": "suspend"})
    user = get_user_model().objects.get(pk=account.user.pk)
    user.is_active = True
    user.save()
    assert Account.objects.get(pk=account.pk).status == "active"
    assert Suspension.objects.get(account=account).end_reason == "reactivated_in_product"


def test_force_logout_ends_every_session_but_sign_in_still_works(
    support_client, make_account, django_capture_on_commit_callbacks
):
    account = make_account()
    browsers = [signed_in(account), signed_in(account)]
    with django_capture_on_commit_callbacks(execute=True):
        body = act(support_client, account, {"action": "force_logout"}).json()
    assert body["account"]["sessions_revoked_at"] is not None
    assert body["job"] is None
    assert not any(is_signed_in(b) for b in browsers)
    assert Client().login(username=account.username, password=PASSWORD) is True
    assert AuditEvent.objects.filter(action="account.force_logout").count() == 1


def test_force_logout_calls_the_products_token_hooks(
    support_client, make_account, settings, django_capture_on_commit_callbacks
):
    settings.STEWARD_SESSION_HOOKS = ["steward.tests.test_accounts.record_hook"]
    account = make_account()
    HOOKED.clear()
    with django_capture_on_commit_callbacks(execute=True):
        act(support_client, account, {"action": "force_logout"})
    assert [account.user.pk] == HOOKED


HOOKED = []


def record_hook(user):
    HOOKED.append(user.pk)
    return 1


def test_password_reset_is_a_background_job(support_client, make_account):
    account = make_account(email="reset@example.com")
    body = act(support_client, account, {"action": "send_password_reset"}).json()
    job = Job.objects.get(pk=body["job"]["id"])
    assert (job.kind, job.status, job.backend) == ("send_password_reset", "pending", "tasks")
    assert job.created_by_id == support_client.user.pk
    event = AuditEvent.objects.get(action="account.send_password_reset")
    assert event.data["job_id"] == job.id


@pytest.mark.django_db(transaction=True)
def test_the_reset_job_sends_djangos_own_reset_mail(support_client, make_account, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    account = make_account(email="reset@example.com")
    make_account(email="reset@example.com")  # another user with the same address
    act(support_client, account, {"action": "send_password_reset"})
    run_db_worker()
    assert [m.to for m in mail.outbox] == [["reset@example.com"]]
    assert "/accounts/reset/" in mail.outbox[0].body
    assert account.username in mail.outbox[0].body


@pytest.mark.parametrize(
    "user_fields,words",
    [
        ({"email": ""}, "has no email address"),
        ({"email": "ops(at)example.com"}, "is not valid"),
        ({"email": "x@example.com", "is_active": False}, "only to active users"),
        ({"email": "x@example.com", "password": None}, "no password to reset"),
    ],
)
def test_no_reset_mail_can_reach_the_user_says_why(
    support_client, make_account, user_fields, words
):
    account = make_account(**{"password": PASSWORD, **user_fields})
    response = act(support_client, account, {"action": "send_password_reset"})
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "no_eligible_address"
    assert words in response.json()["message"]
    assert not Job.objects.filter(kind="send_password_reset").exists()


def test_duration_only_for_suspend(support_client, make_account):
    response = act(support_client, make_account(), {"action": "force_logout", "duration_hours": 2})
    assert response.status_code == 400
    assert "duration_hours" in response.json()["fields"]


@pytest.mark.parametrize("hours", [0, -1, 10**9, "2", 1.5, True])
def test_bad_durations_are_400(support_client, make_account, hours):
    response = act(support_client, make_account(), {"action": "suspend", "duration_hours": hours})
    assert response.status_code == 400
    assert "duration_hours" in response.json()["fields"]


def test_action_replays_with_idempotency_key(support_client, make_account):
    account = make_account()
    first = act(support_client, account, {"action": "suspend", "duration_hours": 1}, key="k1")
    second = act(support_client, account, {"action": "suspend", "duration_hours": 1}, key="k1")
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert AuditEvent.objects.filter(action="account.suspend").count() == 1


def test_audit_failure_rolls_back_the_action(support_client, make_account, monkeypatch):
    from steward.services import accounts as services

    account = make_account()

    def boom(*args, **kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(services, "record_audit", boom)
    response = act(support_client, account, {"action": "suspend"})
    assert response.status_code == 500
    assert Account.objects.get(pk=account.pk).status == "active"
    assert get_user_model().objects.get(pk=account.user.pk).is_active is True
    assert not Suspension.objects.exists()


def test_acting_on_a_deleted_user_is_409(support_client, make_account):
    account = make_account()
    account.user.delete()
    response = act(support_client, account, {"action": "force_logout"})
    assert response.status_code == 409


def test_notes_add_list_and_audit(support_client, make_account):
    account = make_account()
    url = f"{ACCOUNTS}/{account.id}/notes"
    created = support_client.post(url, {"body": "Called them."}, format="json")
    assert created.status_code == 201, created.content
    note = created.json()
    assert note["body"] == "Called them."
    assert note["author"]["username"] == support_client.user.username
    assert note["account"] == account.id
    page = support_client.get(url).json()
    assert [n["id"] for n in page["results"]] == [note["id"]]
    assert AuditEvent.objects.get(action="account.note").data["note_id"] == note["id"]
    blank = support_client.post(url, {"body": "   "}, format="json")
    assert blank.status_code == 400 and "body" in blank.json()["fields"]


def test_history_lists_decisions_on_their_content_and_account_events(
    support_client, moderator_client, make_account, make_item
):
    account = make_account()
    item = make_item(author=account)
    moderator_client.post(
        f"/api/v1/items/{item.id}/decisions",
        {"action": "remove", "reason_code": "spam", "base_version": 1},
        format="json",
    )
    act(support_client, account, {"action": "suspend", "duration_hours": 24})
    history = support_client.get(f"{ACCOUNTS}/{account.id}/history").json()
    assert [d["action"] for d in history["decisions"]] == ["remove"]
    assert history["decisions"][0]["item_title"] == item.title
    assert [e["action"] for e in history["account_events"]] == ["account.suspend"]


@commits
def test_accounts_delta_feed_sees_actions_and_user_changes(support_client, make_account):
    first, second = make_account(), make_account()
    page = support_client.get(ACCOUNTS, {"updated_after": "", "limit": 1}).json()
    assert page["has_more"] is True
    rest = support_client.get(ACCOUNTS, {"updated_after": page["next_cursor"]}).json()
    seen = [a["id"] for a in page["results"] + rest["results"]]
    assert seen[-2:] == [first.id, second.id]
    act(support_client, first, {"action": "force_logout"})
    changed = support_client.get(ACCOUNTS, {"updated_after": rest["next_cursor"]}).json()
    assert [a["id"] for a in changed["results"]] == [first.id]
    second.user.groups.add(Group.objects.get_or_create(name="trusted")[0])
    moved = support_client.get(ACCOUNTS, {"updated_after": changed["next_cursor"]}).json()
    assert [(a["id"], a["roles"]) for a in moved["results"]] == [(second.id, ["trusted"])]


@commits
def test_suspension_moves_the_authors_items_in_the_items_feed(
    support_client, moderator_client, make_account, make_item
):
    account = make_account()
    item = make_item(author=account)
    make_item()
    cursor = moderator_client.get("/api/v1/items").json()["next_cursor"]
    act(support_client, account, {"action": "suspend", "duration_hours": 1})
    changed = moderator_client.get("/api/v1/items", {"updated_after": cursor}).json()
    assert [(i["id"], i["author"]["status"]) for i in changed["results"]] == [
        (item.id, "suspended")
    ]


@commits
def test_a_decision_moves_the_authors_account_in_the_accounts_feed(
    support_client, moderator_client, make_account, make_item
):
    author = make_account()
    item = make_item(author=author)
    make_account()  # a later row, so the cursor sits past the author
    cursor = support_client.get(ACCOUNTS).json()["next_cursor"]
    decided = moderator_client.post(
        f"/api/v1/items/{item.id}/decisions",
        {"action": "remove", "base_version": 1},
        format="json",
    )
    assert decided.status_code == 201
    changed = support_client.get(ACCOUNTS, {"updated_after": cursor}).json()
    assert [(a["id"], a["counts"]["removed_items"]) for a in changed["results"]] == [(author.id, 1)]


def test_sessions_from_before_steward_are_indexed_once_and_then_end(
    support_client, make_account, django_capture_on_commit_callbacks
):
    from steward.models import UserSession

    account = make_account()
    browser = signed_in(account)
    UserSession.objects.all().delete()  # as if the session predates Steward
    call_command("steward_index_sessions", verbosity=0)
    assert UserSession.objects.filter(account=account).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        act(support_client, account, {"action": "force_logout"})
    assert not is_signed_in(browser)
