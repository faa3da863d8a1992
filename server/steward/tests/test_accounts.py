"""Accounts: search, detail, history, notes and the four actions, each audited."""

from datetime import timedelta

import pytest
from django.utils import timezone

from steward.models import AuditEvent, Item, Job, Member, MemberNote
from steward.tests.conftest import commits

ACCOUNTS = "/api/v1/accounts"


def act(client, member, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(f"{ACCOUNTS}/{member.id}/actions", body, format="json", **headers)


@commits
def test_search_finds_by_username_email_and_status(support_client, make_member):
    alice = make_member("alice")
    alice.email = "alice@example.com"
    alice.save()
    make_member("bob")
    make_member("carol", status=Member.Status.SUSPENDED)
    found = support_client.get(ACCOUNTS, {"q": "ALI"}).json()
    assert [a["username"] for a in found["results"]] == ["alice"]
    assert found["has_more"] is False
    by_mail = support_client.get(ACCOUNTS, {"q": "alice@"}).json()
    assert [a["username"] for a in by_mail["results"]] == ["alice"]
    suspended = support_client.get(ACCOUNTS, {"status": "suspended"}).json()
    assert [a["username"] for a in suspended["results"]] == ["carol"]


def test_detail_has_status_roles_dates_and_counts(support_client, make_member, make_item):
    member = make_member("dave")
    member.roles = ["member", "trusted"]
    member.save()
    make_item(author=member, reports=["spam", "nsfw"])
    make_item(author=member, state=Item.State.REMOVED)
    MemberNote.objects.create(member=member, body="hi")
    body = support_client.get(f"{ACCOUNTS}/{member.id}").json()
    assert body["username"] == "dave"
    assert body["status"] == "active"
    assert body["roles"] == ["member", "trusted"]
    assert body["counts"] == {"items": 2, "removed_items": 1, "reports_received": 2, "notes": 1}
    for field in ["joined_at", "last_seen_at", "suspended_until", "updated_at"]:
        assert field in body


def test_missing_account_is_404(support_client):
    response = support_client.get(f"{ACCOUNTS}/999999")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_suspend_with_duration_writes_audit_and_expires(support_client, make_member):
    member = make_member()
    response = act(
        support_client, member, {"action": "suspend", "duration_hours": 48, "reason_code": "spam"}
    )
    assert response.status_code == 200, response.content
    account = response.json()["account"]
    assert account["status"] == "suspended"
    member.refresh_from_db()
    assert member.suspended_until - timezone.now() > timedelta(hours=47)
    assert member.sessions_revoked_at is not None
    event = AuditEvent.objects.get(action="account.suspend")
    assert event.target_type == "account" and event.target_id == str(member.id)
    assert event.data["duration_hours"] == 48 and event.data["reason_code"] == "spam"
    # Once the end passes, the account reads as active without anyone acting.
    Member.objects.filter(pk=member.pk).update(suspended_until=timezone.now() - timedelta(1))
    assert support_client.get(f"{ACCOUNTS}/{member.id}").json()["status"] == "active"


def test_suspend_without_duration_is_indefinite(support_client, make_member):
    member = make_member()
    body = act(support_client, member, {"action": "suspend"}).json()
    assert body["account"]["status"] == "suspended"
    assert body["account"]["suspended_until"] is None


def test_reactivate_and_reactivating_an_active_account_is_409(support_client, make_member):
    member = make_member(status=Member.Status.SUSPENDED)
    assert act(support_client, member, {"action": "reactivate"}).json()["account"]["status"] == (
        "active"
    )
    again = act(support_client, member, {"action": "reactivate"})
    assert again.status_code == 409
    assert again.json()["code"] == "conflict"


def test_force_logout_marks_sessions_revoked(support_client, make_member):
    member = make_member()
    body = act(support_client, member, {"action": "force_logout"}).json()
    assert body["account"]["sessions_revoked_at"] is not None
    assert body["job"] is None
    assert AuditEvent.objects.filter(action="account.force_logout").count() == 1


def test_password_reset_is_a_background_job(support_client, make_member):
    member = make_member()
    body = act(support_client, member, {"action": "send_password_reset"}).json()
    job = Job.objects.get(pk=body["job"]["id"])
    assert job.kind == "send_password_reset"
    assert job.created_by_id == support_client.user.pk
    assert job.status == "pending"
    assert job.task_id and job.backend == "tasks"
    event = AuditEvent.objects.get(action="account.send_password_reset")
    assert event.data["job_id"] == job.id


def test_duration_only_for_suspend(support_client, make_member):
    response = act(support_client, make_member(), {"action": "force_logout", "duration_hours": 2})
    assert response.status_code == 400
    assert "duration_hours" in response.json()["fields"]


@pytest.mark.parametrize("hours", [0, -1, 10**9, "2", 1.5, True])
def test_bad_durations_are_400(support_client, make_member, hours):
    response = act(support_client, make_member(), {"action": "suspend", "duration_hours": hours})
    assert response.status_code == 400
    assert "duration_hours" in response.json()["fields"]


def test_action_replays_with_idempotency_key(support_client, make_member):
    member = make_member()
    first = act(support_client, member, {"action": "suspend", "duration_hours": 1}, key="k1")
    second = act(support_client, member, {"action": "suspend", "duration_hours": 1}, key="k1")
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert AuditEvent.objects.filter(action="account.suspend").count() == 1


def test_audit_failure_rolls_back_the_action(support_client, make_member, monkeypatch):
    from steward.services import accounts as services

    member = make_member()

    def boom(*args, **kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(services, "record_audit", boom)
    response = act(support_client, member, {"action": "suspend"})
    assert response.status_code == 500
    member.refresh_from_db()
    assert member.status == "active"


def test_notes_add_list_and_audit(support_client, make_member):
    member = make_member()
    url = f"{ACCOUNTS}/{member.id}/notes"
    created = support_client.post(url, {"body": "Called them."}, format="json")
    assert created.status_code == 201, created.content
    note = created.json()
    assert note["body"] == "Called them."
    assert note["author"]["username"] == support_client.user.username
    assert note["account"] == member.id
    page = support_client.get(url).json()
    assert [n["id"] for n in page["results"]] == [note["id"]]
    assert AuditEvent.objects.get(action="account.note").data["note_id"] == note["id"]
    blank = support_client.post(url, {"body": "   "}, format="json")
    assert blank.status_code == 400 and "body" in blank.json()["fields"]


def test_history_lists_decisions_on_their_content_and_account_events(
    support_client, moderator_client, make_member, make_item
):
    member = make_member()
    item = make_item(author=member)
    moderator_client.post(
        f"/api/v1/items/{item.id}/decisions",
        {"action": "remove", "reason_code": "spam", "base_version": 1},
        format="json",
    )
    act(support_client, member, {"action": "suspend", "duration_hours": 24})
    history = support_client.get(f"{ACCOUNTS}/{member.id}/history").json()
    assert [d["action"] for d in history["decisions"]] == ["remove"]
    assert history["decisions"][0]["item_title"] == item.title
    assert [e["action"] for e in history["account_events"]] == ["account.suspend"]


@commits
def test_accounts_delta_feed_sees_actions(support_client, make_member):
    first, second = make_member(), make_member()
    page = support_client.get(ACCOUNTS, {"updated_after": "", "limit": 1}).json()
    assert page["has_more"] is True
    rest = support_client.get(ACCOUNTS, {"updated_after": page["next_cursor"]}).json()
    assert [a["id"] for a in page["results"] + rest["results"]] == [first.id, second.id]
    act(support_client, first, {"action": "force_logout"})
    changed = support_client.get(ACCOUNTS, {"updated_after": rest["next_cursor"]}).json()
    assert [a["id"] for a in changed["results"]] == [first.id]


@commits
def test_suspension_moves_the_authors_items_in_the_items_feed(
    support_client, moderator_client, make_member, make_item
):
    member = make_member()
    item = make_item(author=member)
    make_item()
    cursor = moderator_client.get("/api/v1/items").json()["next_cursor"]
    act(support_client, member, {"action": "suspend", "duration_hours": 1})
    changed = moderator_client.get("/api/v1/items", {"updated_after": cursor}).json()
    assert [(i["id"], i["author"]["status"]) for i in changed["results"]] == [
        (item.id, "suspended")
    ]


@commits
def test_a_decision_moves_the_authors_account_in_the_accounts_feed(
    support_client, moderator_client, make_member, make_item
):
    author = make_member()
    item = make_item(author=author)
    make_member()  # a later row, so the cursor sits past the author
    cursor = support_client.get(ACCOUNTS).json()["next_cursor"]
    decided = moderator_client.post(
        f"/api/v1/items/{item.id}/decisions",
        {"action": "remove", "base_version": 1},
        format="json",
    )
    assert decided.status_code == 201
    changed = support_client.get(ACCOUNTS, {"updated_after": cursor}).json()
    assert [(a["id"], a["counts"]["removed_items"]) for a in changed["results"]] == [(author.id, 1)]
