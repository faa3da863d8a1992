"""The product's own content through the registry (the demo forum's steward.py): reports
open items on objects with UUID and integer keys, open items follow edits and deletions,
decisions act on the object in their own transaction, and the errors say what to do."""

import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

import steward
from forum.models import Comment, Post, ReportCache
from steward import signals
from steward.content.registry import AlreadyRegistered, NotRegistered, Registry, site
from steward.models import AuditEvent, Decision, Item, Report
from steward.tests.conftest import PASSWORD, commits

ITEMS = "/api/v1/items"


@pytest.fixture
def make_post(make_account):
    def make(title="A post", body="<p>hello</p>", author=None):
        author = author or make_account().user
        return Post.objects.create(author=author, title=title, body_html=body)

    return make


def decide(client, item, action, version=None):
    return client.post(
        f"{ITEMS}/{item.pk}/decisions",
        {"action": action, "base_version": version or item.version, "reason_code": "spam"},
        format="json",
    )


def test_a_report_opens_an_item_on_an_object_with_a_uuid_key(
    moderator_client, make_post, make_account
):
    post = make_post("Cheap watches", "<p>buy <b>now</b></p>")
    reporter = make_account("rita").user
    result = steward.report(post, reason="spam", reporter=reporter, note="ads")
    assert result.opened is True
    body = moderator_client.get(f"{ITEMS}/{result.item.pk}").json()
    assert body["object"] == {
        "type": "forum.post",
        "label": "post",
        "key": str(post.pk),
        "url": f"http://127.0.0.1:8000/posts/{post.pk}",
        "deleted": False,
    }
    assert body["content"] == {"title": "Cheap watches", "body_html": "<p>buy <b>now</b></p>"}
    assert body["author"]["username"] == post.author.username
    assert [(r["reason"], r["note"], r["reporter"]["username"]) for r in body["reports"]] == [
        ("spam", "ads", "rita")
    ]
    assert result.item.queue.slug == "spam"  # PostSource routes spam to its own queue
    assert AuditEvent.objects.get(action="item.open").target_id == str(result.item.pk)


def test_more_reports_join_the_open_item_and_a_reporter_counts_once(
    make_post, make_account, django_capture_on_commit_callbacks
):
    post = make_post()
    first, second = make_account().user, make_account().user
    received = []

    def receiver(sender, obj, item, report, opened, **kwargs):
        received.append((sender, obj.pk, report.reason, opened))

    signals.reported.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            opened = steward.report(post, reason="harassment", reporter=first)
            joined = steward.report(post, reason="other", reporter=second)
    finally:
        signals.reported.disconnect(receiver)
    assert received == [(Post, post.pk, "harassment", True), (Post, post.pk, "other", False)]
    again = steward.report(post, reason="other", reporter=first)
    anonymous = steward.report(post, reason="other")
    assert (joined.opened, again.opened, anonymous.opened) == (False, False, False)
    assert {joined.item.pk, again.item.pk, anonymous.item.pk} == {opened.item.pk}
    assert again.report.pk == opened.report.pk
    assert Report.objects.filter(item=opened.item).count() == 3
    assert Item.objects.count() == 1


def test_objects_with_integer_keys_work_the_same(make_post, make_account):
    post = make_post("On topic")
    comment = Comment.objects.create(post=post, author=make_account().user, body_html="rude")
    result = steward.report(comment, reason="harassment")
    assert (result.item.object_key, result.item.title) == (str(comment.pk), "Comment on “On topic”")


def test_only_one_item_per_object_can_be_open(make_post):
    from django.db import IntegrityError, transaction

    item = steward.report(make_post(), reason="spam").item
    with pytest.raises(IntegrityError), transaction.atomic():
        Item.objects.create(
            queue=item.queue,
            object_type=item.object_type,
            object_key=item.object_key,
            title="twin",
            created_at=item.created_at,
            updated_at=item.updated_at,
        )


def test_an_edit_while_open_refreshes_the_snapshot_and_a_stale_decision_conflicts(
    moderator_client, make_post
):
    post = make_post("Before", "<p>old</p>")
    item = steward.report(post, reason="other").item
    post.locked = True
    post.save()  # nothing the item shows changed
    assert Item.objects.get(pk=item.pk).version == 1
    post.body_html = "<p>new</p>"
    post.save()
    fresh = moderator_client.get(f"{ITEMS}/{item.pk}").json()
    assert (fresh["version"], fresh["content"]["body_html"]) == (2, "<p>new</p>")
    event = AuditEvent.objects.get(action="item.object_changed")
    assert event.data == {"fields": ["body_html"], "version": 2}
    stale = decide(moderator_client, item, "remove", version=1)
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale_version"
    assert stale.json()["current"]["content"]["body_html"] == "<p>new</p>"
    assert Post.all_objects.get(pk=post.pk).hidden is False


def test_deleting_the_object_closes_its_item_audited(moderator_client, make_post):
    post = make_post()
    item = steward.report(post, reason="spam").item
    earlier = steward.report(make_post(), reason="spam").item
    post.delete()
    body = moderator_client.get(f"{ITEMS}/{item.pk}").json()
    assert (body["state"], body["version"], body["object"]["deleted"]) == ("deleted", 2, True)
    assert AuditEvent.objects.get(action="item.object_deleted").target_id == str(item.pk)
    assert decide(moderator_client, Item.objects.get(pk=item.pk), "remove").status_code == 409
    assert Item.objects.get(pk=earlier.pk).state == "open"


@commits
def test_remove_hides_the_post_from_the_product_and_signals_after_commit(
    moderator_client, make_post
):
    post = make_post("Visible until removed")
    item = steward.report(post, reason="spam").item
    page = Client().get("/").content.decode()
    assert "Visible until removed" in page
    received = []

    def receiver(sender, obj, item, decision, **kwargs):
        received.append((sender, obj.pk, decision.action))

    signals.decided.connect(receiver)
    try:
        response = decide(moderator_client, item, "remove")
    finally:
        signals.decided.disconnect(receiver)
    assert response.status_code == 201, response.content
    assert Post.all_objects.get(pk=post.pk).hidden is True
    assert "Visible until removed" not in Client().get("/").content.decode()
    assert received == [(Post, post.pk, "remove")]
    event = AuditEvent.objects.get(action="item.decide")
    assert event.data["effect"] == "PostSource.remove"


def test_approve_reaches_a_post_the_default_manager_hides(moderator_client, make_post):
    post = make_post()
    decide(moderator_client, steward.report(post, reason="spam").item, "remove")
    hidden = Post.all_objects.get(pk=post.pk)
    assert hidden.hidden and not Post.objects.filter(pk=post.pk).exists()
    item = steward.report(hidden, reason="other").item  # a new item: the first is closed
    assert decide(moderator_client, item, "approve").status_code == 201
    assert Post.objects.filter(pk=post.pk).exists()


def test_an_effect_that_raises_fails_the_decision_and_applies_nothing(
    moderator_client, make_post, monkeypatch
):
    post = make_post()
    item = steward.report(post, reason="spam").item

    def broken_remove(obj, decision):
        obj.hidden = True
        obj.save()
        raise RuntimeError("the CDN purge API is down")

    monkeypatch.setattr(site.source_for_model(Post), "remove", broken_remove)
    response = decide(moderator_client, item, "remove")
    assert response.status_code == 422
    assert response.json()["code"] == "decision_effect_failed"
    assert "RuntimeError: the CDN purge API is down" in response.json()["message"]
    after = Item.objects.get(pk=item.pk)
    assert (after.state, after.version) == ("open", 1)
    assert Post.all_objects.get(pk=post.pk).hidden is False
    assert not Decision.objects.exists()
    assert not AuditEvent.objects.filter(action="item.decide").exists()


def test_a_source_can_refuse_a_decision_with_its_own_message(
    moderator_client, make_post, monkeypatch
):
    item = steward.report(make_post(), reason="spam").item

    def refuse(obj, decision):
        raise steward.DecisionRefused("Pinned announcements cannot be removed.")

    monkeypatch.setattr(site.source_for_model(Post), "remove", refuse)
    response = decide(moderator_client, item, "remove")
    assert response.status_code == 422
    assert response.json() == {
        "code": "decision_refused",
        "message": "Pinned announcements cannot be removed.",
        "fields": {},
    }


def test_a_decision_on_an_object_deleted_behind_steward_still_applies(moderator_client, make_post):
    post = make_post()
    item = steward.report(post, reason="spam").item
    Post.all_objects.filter(pk=post.pk)._raw_delete(Post.all_objects.db)  # no signals
    response = decide(moderator_client, item, "remove")
    assert response.status_code == 201
    assert response.json()["item"]["object"]["deleted"] is True


def test_reporting_an_unregistered_model_says_how_to_register_it(db):
    cache = ReportCache.objects.create(name="x")
    with pytest.raises(NotRegistered) as error:
        steward.report(cache, reason="spam")
    assert "forum.ReportCache is not registered with Steward" in str(error.value)
    assert "steward.register(ReportCache, ReportCacheSource)" in str(error.value)
    assert steward.NotRegistered is NotRegistered


def test_bad_reports_are_refused(make_post):
    with pytest.raises(ValueError, match="reason"):
        steward.report(make_post(), reason="")
    with pytest.raises(ValueError, match="Save the object"):
        steward.report(Post(title="unsaved"), reason="spam")


def test_registering_a_model_twice_is_an_error(db):
    registry = Registry()
    registry.register(ReportCache, steward.Source)
    with pytest.raises(AlreadyRegistered, match="registered with Steward twice"):
        registry.register(ReportCache, steward.Source)
    registry.unregister(ReportCache)


def test_registering_a_model_twice_stops_the_start_up_with_a_clear_error():
    env = {"DJANGO_SETTINGS_MODULE": "steward.tests.double_registration.settings", "PATH": ""}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "AlreadyRegistered" in result.stderr
    assert "forum.Post is registered with Steward twice" in result.stderr
    assert "forum.steward.PostSource" in result.stderr


def test_the_forums_report_endpoint_calls_steward(make_post, make_account):
    post = make_post("Reported through the product")
    reader = make_account("reader")
    browser = Client()
    assert browser.login(username=reader.username, password=PASSWORD)
    response = browser.post(
        f"/posts/{post.pk}/report",
        {"reason": "harassment", "note": "mean"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 201, response.content
    item = Item.objects.get(pk=response.json()["item"])
    assert item.title == "Reported through the product"
    assert item.reports.get().reporter.username == "reader"
    assert Client().post(f"/posts/{post.pk}/report", {"reason": "spam"}).status_code == 302


def test_an_author_deleted_with_their_posts_closes_the_items(make_post):
    post = make_post()
    item = steward.report(post, reason="spam").item
    get_user_model().objects.get(pk=post.author_id).delete()
    closed = Item.objects.get(pk=item.pk)
    assert (closed.state, closed.author.status) == ("deleted", "deleted")


@pytest.mark.django_db(transaction=True)
def test_reports_at_once_open_one_item(demo_stack):
    """Twelve members report one post at the same moment, each on its own connection
    (the demo's database: a SQLite file with IMMEDIATE transactions, or PostgreSQL)."""
    stack = demo_stack(items=1, seed=("--jobs", "0"))
    output = stack.shell(
        "import threading\n"
        "from django.contrib.auth import get_user_model\n"
        "from django.db import connection\n"
        "import steward\n"
        "from forum.models import Post\n"
        "from steward.models import Item, Report\n"
        "post = Post.objects.create(author=get_user_model().objects.get(username='member0000'),"
        " title='Raced', body_html='x')\n"
        "members = list(get_user_model().objects.filter(username__startswith='member'))\n"
        "start = threading.Barrier(12)\n"
        "def report(user):\n"
        "    start.wait()\n"
        "    try:\n"
        "        steward.report(post, reason='spam', reporter=user)\n"
        "    finally:\n"
        "        connection.close()\n"
        "threads = [threading.Thread(target=report, args=(members[n % len(members)],))"
        " for n in range(12)]\n"
        "[t.start() for t in threads]\n"
        "[t.join() for t in threads]\n"
        "items = Item.objects.filter(object_key=str(post.pk))\n"
        "print('ITEMS', items.count(), 'REPORTS', Report.objects.filter(item__in=items).count(),"
        " 'MEMBERS', min(len(members), 12))\n"
    )
    line = next(line for line in output.splitlines() if line.startswith("ITEMS"))
    _, items, _, reports, _, members = line.split()
    assert items == "1"
    assert reports == members
