"""The Django admin still works beside Steward: every model is registered, its pages
load, edits there move the delta feeds and reach the audit log, items are decided by admin
actions through the decision service, and the audit log is searchable by the words
Steward's audit search finds."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils import timezone

import steward
from forum.models import Post
from steward.models import AuditEvent, Decision, Item, Job
from steward.services.audit import record_audit


@pytest.fixture
def staff_browser(make_user):
    user = make_user("root", is_superuser=True, is_staff=True)
    browser = Client()
    browser.force_login(user)
    return browser


def test_every_model_is_registered():
    for model in apps.get_app_config("steward").get_models():
        assert admin.site.is_registered(model), model


@pytest.mark.parametrize("model", list(apps.get_app_config("steward").get_models()))
def test_changelists_and_add_pages_load(staff_browser, make_item, model):
    make_item()
    Job.objects.create(kind="send_email", status="failed", last_traceback="Traceback ...")
    opts = model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    assert staff_browser.get(changelist).status_code == 200
    row = model.objects.first()
    if row is not None:
        change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk])
        assert staff_browser.get(change).status_code == 200


def test_editing_an_item_in_the_admin_bumps_version_and_audits(staff_browser, make_item):
    item = make_item()
    before = item.updated_at
    url = reverse("admin:steward_item_change", args=[item.pk])
    response = staff_browser.post(
        url,
        {
            "queue": item.queue_id,
            "author": item.author_id,
            "title": "Edited title",
            "body_html": item.body_html,
            "state": "open",
            "version": item.version,
            "created_at_0": item.created_at.strftime("%Y-%m-%d"),
            "created_at_1": item.created_at.strftime("%H:%M:%S"),
            "updated_at_0": item.updated_at.strftime("%Y-%m-%d"),
            "updated_at_1": item.updated_at.strftime("%H:%M:%S"),
            "reports-TOTAL_FORMS": "0",
            "reports-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    item.refresh_from_db()
    assert item.title == "Edited title"
    assert item.version == 2
    assert item.updated_at > before
    event = AuditEvent.objects.get(action="item.admin_change")
    assert event.target_id == str(item.pk) and "title" in event.data["fields"]


# The decisions as admin actions, through the decision service.

CHANGELIST = "/admin/steward/item/"


def post_action(browser, action, items, seen=None, query="?state__exact=open"):
    """POST the changelist form as a browser does: the action, the selected rows, the Go
    button (index) and each row's hidden seen version (`seen` overrides them by item)."""
    data = {"action": action, "select_across": "0", "index": "0"}
    data["_selected_action"] = [str(item.pk) for item in items]
    for item in items:
        version = (seen or {}).get(item.pk, item.version)
        data[f"_seen_version_{item.pk}"] = str(version)
    return browser.post(CHANGELIST + query, data, follow=True)


def shown_messages(response):
    return [str(message) for message in response.context["messages"]]


def test_approve_selected_decides_through_the_service_audited(staff_browser, make_item):
    first, second = make_item(reports=["spam"]), make_item()
    response = post_action(staff_browser, "approve_selected", [first, second])
    assert response.status_code == 200
    # Redirected to the changelist it came from, with its filter, and rendered.
    assert response.redirect_chain == [(CHANGELIST + "?state__exact=open", 302)]
    assert shown_messages(response) == ["Approved 2 items."]
    for item in (first, second):
        item.refresh_from_db()
        assert (item.state, item.version) == ("approved", 2)
        decision = Decision.objects.get(item=item)
        assert (decision.action, decision.actor.username, decision.base_version) == (
            "approve",
            "root",
            1,
        )
        event = AuditEvent.objects.get(action="item.decide", target_id=str(item.pk))
        assert event.actor_username == "root"
        assert event.data["action"] == "approve"
        assert event.data["decision_id"] == decision.pk


def test_the_changelist_carries_each_rows_version_for_the_action(staff_browser, make_item):
    item = make_item()
    page = staff_browser.get(CHANGELIST).content.decode()
    assert f'<input type="hidden" name="_seen_version_{item.pk}" value="1">' in page
    for label in ["Approve", "Remove", "Escalate", "Ignore"]:
        assert f"{label} selected items" in page


def test_an_item_changed_since_the_page_was_shown_is_refused(staff_browser, make_item):
    item, other = make_item(), make_item()
    Item.objects.filter(pk=item.pk).update(version=2)  # edited meanwhile
    response = post_action(staff_browser, "remove_selected", [item, other], seen={item.pk: 1})
    shown = shown_messages(response)
    assert shown[0] == "Removed 1 item."
    assert shown[1].startswith(f"Not removed: #{item.pk}: This item changed since you saw it")
    item.refresh_from_db()
    assert (item.state, item.version) == ("open", 2)
    assert not Decision.objects.filter(item=item).exists()
    assert not AuditEvent.objects.filter(action="item.decide", target_id=str(item.pk)).exists()
    other.refresh_from_db()
    assert other.state == "removed"


def test_decided_and_claimed_items_are_refused_with_the_reason(staff_browser, make_item, make_user):
    decided = make_item(state="approved")
    claimed = make_item()
    holder = make_user("ann", roles=["moderator"])
    Item.objects.filter(pk=claimed.pk).update(
        claimed_by=holder, claim_expires_at=timezone.now() + timedelta(minutes=5)
    )
    # From the unfiltered list (the open list no longer holds the decided item).
    response = post_action(staff_browser, "escalate_selected", [decided, claimed], query="")
    assert shown_messages(response) == [
        f"Not escalated: #{decided.pk}: This item is already approved; only open items can "
        "be decided.",
        f"Not escalated: #{claimed.pk}: ann is working on this item (claimed until "
        f"{Item.objects.get(pk=claimed.pk).claim_expires_at.isoformat()}).",
    ]
    assert Item.objects.get(pk=claimed.pk).state == "open"
    assert not Decision.objects.exists()


def test_remove_runs_the_posts_own_effect(staff_browser, make_account):
    post = Post.objects.create(author=make_account().user, title="Ads", body_html="<p>buy</p>")
    item = steward.report(post, reason="spam").item
    response = post_action(staff_browser, "remove_selected", [item])
    assert shown_messages(response) == ["Removed 1 item."]
    post.refresh_from_db()
    assert post.hidden is True
    event = AuditEvent.objects.get(action="item.decide", target_id=str(item.pk))
    assert event.data["effect"] == "PostSource.remove"


def test_a_moderator_decides_here_and_support_may_not(make_user, make_item):
    moderator = Client()
    moderator.force_login(make_user("mod", roles=["moderator"], is_staff=True))
    support = Client()
    support.force_login(make_user("sup", roles=["support"], is_staff=True))
    item = make_item()
    # Support sees items (as in Steward) but is offered no decision.
    page = support.get(CHANGELIST)
    assert page.status_code == 200
    assert b"Approve selected items" not in page.content
    response = post_action(support, "approve_selected", [item])
    assert response.status_code == 200 and shown_messages(response) == []
    item.refresh_from_db()
    assert item.state == "open"
    response = post_action(moderator, "ignore_selected", [item])
    assert shown_messages(response) == ["Ignored 1 item."]
    item.refresh_from_db()
    assert item.state == "ignored"


# The audit changelist finds what Steward's audit search finds.


def test_audit_search_looks_into_the_actor_action_target_and_data(staff_browser, make_user):
    ann = make_user("ann")
    wanted = record_audit(
        ann,
        "item.decide",
        "item",
        4242,
        {"action": "remove", "reason_code": "harassment", "note": "Insults a member"},
    )
    record_audit(ann, "item.claim", "item", 17, {"expires_at": "2026-01-01T00:00:00+00:00"})
    record_audit(make_user("bob"), "account.note", "account", 9, {"body": "harassment report"})

    def found(words):
        response = staff_browser.get("/admin/steward/auditevent/", {"q": words})
        assert response.status_code == 200
        return [event.pk for event in response.context["cl"].result_list]

    assert found("insults") == [wanted.pk]  # a word of the note, any case
    assert found("harassment ann") == [wanted.pk]  # every word must match, in any field
    assert len(found("harassment")) == 2
    assert found("4242") == [wanted.pk]  # the target's id
    assert len(found("item.claim")) == 1
    page = staff_browser.get("/admin/steward/auditevent/", {"q": "harassment"}).content.decode()
    assert '<p class="paginator">\n\n2 audit events' in page
