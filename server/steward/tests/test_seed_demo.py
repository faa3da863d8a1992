"""seed_demo: what it creates, that it tops up instead of duplicating, that its bulk
writes are the rows the app's own code paths write, and that its audit history has the
shape of the events the services write."""

import random
from datetime import timedelta
from io import StringIO

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

import steward
from forum.models import Comment, Post
from forum.seed import audit as seeded_audit
from forum.seed import content
from steward import signals
from steward.accounts.sync import refresh_account
from steward.models import (
    Account,
    AuditEvent,
    Decision,
    Item,
    Job,
    Queue,
    ReasonTemplate,
    Report,
    Suspension,
)
from steward.operations import serialize_item
from steward.permissions import roles_of
from steward.services.accounts import account_action, add_account_note
from steward.services.items import claim_item, decide_item, release_claim
from steward.services.jobs import retry_job
from steward.tests.conftest import make_job


def seed(*args):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_seed_demo_creates_users_queues_and_items(db):
    output = seed("--items", "40")
    assert "moderator / moderator-demo" in output
    for role in ["moderator", "support", "admin"]:
        user = authenticate(username=role, password=f"{role}-demo")
        assert user is not None
        assert roles_of(user) == [role]
    assert list(Queue.objects.values_list("name", "priority")) == [
        ("Reported posts", 10),
        ("Spam", 5),
        ("New accounts", 1),
    ]
    assert Item.objects.count() == 40
    assert Report.objects.count() >= 40
    bodies = "".join(Item.objects.values_list("body_html", flat=True))
    for hostile in [
        "<script>",
        "onerror=",
        "javascript:",
        "<svg onload",
        "http://127.0.0.1:9/x.png",
    ]:
        assert hostile in bodies
    assert ReasonTemplate.objects.filter(scope="decision").exists()


def test_seed_demo_twice_does_not_crash_or_duplicate(db):
    seed("--items", "20")
    output = seed("--items", "20", "--password", "PW")
    assert "already exist" in output
    assert Item.objects.count() == 20
    assert authenticate(username="support", password="PW") is not None
    seed("--items", "10", "--reset")
    assert Item.objects.count() == 10


def test_seed_demo_tops_up_audit_and_jobs(db):
    output = seed("--items", "10", "--audit", "500", "--jobs", "30")
    assert "audit events." in output  # up to 500, with those the seeding itself wrote
    assert AuditEvent.objects.count() == 500
    assert Job.objects.count() == 33  # 30 finished or cancelled, 3 pending and enqueued
    statuses = set(Job.objects.values_list("status", flat=True))
    assert statuses == {"succeeded", "failed", "cancelled", "pending"}
    failed = Job.objects.filter(status="failed", backend="tasks").first()
    assert "Traceback (most recent call last)" in failed.last_traceback
    # The seeded history (the content's own seeding claims nothing): by staff, in order.
    events = list(AuditEvent.objects.filter(action="item.claim").order_by("id"))
    assert len(events) > 3
    assert all(e.actor_username in {"admin", "moderator"} for e in events)
    assert events[0].created_at <= events[-1].created_at
    seed("--items", "10", "--audit", "500", "--jobs", "30")
    assert AuditEvent.objects.count() == 500
    assert Job.objects.count() == 33


# The bulk seed writes what the app itself writes.


def seed_through_services(plan, moderator):
    """The reference: the same plan through the app's own paths, as seed_demo ran it
    before it wrote in bulk: the user signals make the accounts, `steward.report` opens
    and joins items, `decide_item` decides."""
    now = timezone.now()
    user_model = get_user_model()
    password = make_password(content.MEMBER_PASSWORD)
    trusted, _ = Group.objects.get_or_create(name="trusted")
    users = user_model.objects.bulk_create(
        [
            user_model(
                username=f"member{n:04d}",
                first_name="Member",
                last_name=str(n),
                email=f"member{n:04d}(at)example.com"
                if n % 13 == 5
                else f"member{n:04d}@example.com",
                password=password,
                date_joined=now - timedelta(days=joined),
                last_login=now - timedelta(minutes=seen),
            )
            for n, (joined, seen) in enumerate(plan.members)
        ]
    )
    trusted.user_set.add(*[u for n, u in enumerate(users) if n % 7 == 0])
    for n, user in enumerate(users):
        account = refresh_account(user, now)
        if n % 17 == 0:
            Suspension.objects.create(
                account=account,
                ends_at=now + timedelta(days=3),
                reason_code="repeat-offender",
                deactivated_user=True,
            )
            user.is_active = False
            user.save(update_fields=["is_active"])
    posts = Post.objects.bulk_create(
        [
            Post(
                author=users[author],
                title=content.post_text(plan, n)[0],
                body_html=content.post_text(plan, n)[1],
                created_at=now - timedelta(minutes=minutes),
            )
            for n, (_, _, _, author, minutes) in enumerate(plan.posts)
        ]
    )
    comments = {}
    for n, (author, body) in sorted(plan.comments.items()):
        comments[n] = Comment.objects.create(post=posts[n], author=users[author], body_html=body)
    for n, post in enumerate(posts):
        target = comments.get(n, post)
        for reason, note, reporter in plan.reports[n]:
            result = steward.report(target, reason=reason, reporter=users[reporter], note=note)
        if n in plan.decisions:
            decide_item(moderator, result.item.pk, plan.decisions[n], "", "", 1, serialize_item)


def content_rows():
    """Every row the content seed writes, without ids, keys and times (which differ from
    run to run), objects named by their item's rank (items open in the plan's order)."""
    items = list(Item.objects.select_related("queue", "author", "object_type").order_by("id"))
    rank = {item.pk: n for n, item in enumerate(items)}
    rank_of_object = {item.object_key: n for n, item in enumerate(items)}
    comments = {str(c.pk): c for c in Comment.objects.all()}
    decisions = {d.pk: d for d in Decision.objects.all()}

    def url(item):
        if item.object_key in comments:
            post = str(comments[item.object_key].post_id)
            return item.url.replace(post, "<post>").replace(f"-{item.object_key}", "-<key>")
        return item.url.replace(item.object_key, "<key>")

    def data(event):
        values = dict(event.data)
        if "object_key" in values:
            values["object_key"] = rank_of_object[values["object_key"]]
        if "decision_id" in values:
            values["decision_id"] = rank[decisions[values["decision_id"]].item_id]
        return values

    members = get_user_model().objects.filter(username__startswith="member")
    member_accounts = Account.objects.filter(username__startswith="member")
    posts = Post.all_objects.select_related("author")
    return {
        "users": sorted(
            (u.username, u.first_name, u.last_name, u.email, u.is_active)
            + (u.check_password(content.MEMBER_PASSWORD),)
            + tuple(sorted(u.groups.values_list("name", flat=True)))
            for u in members
        ),
        "accounts": sorted(
            (a.username, a.email, a.display_name, a.roles, a.is_active, a.status)
            + (a.suspended_until is not None, a.deleted_at, a.feed_seq > 0)
            + (a.user_key == str(members.get(username=a.username).pk),)
            for a in member_accounts
        ),
        "suspensions": sorted(
            (s.account.username, s.reason_code, s.deactivated_user, s.ended_at)
            + (s.ends_at - s.starts_at > timedelta(days=2, hours=23),)
            for s in Suspension.objects.select_related("account")
        ),
        "items": [
            (item.queue.slug, item.object_type.model, item.title, item.body_html, url(item))
            + (item.author.username, item.state, item.version, item.claimed_by_id)
            + (item.object_deleted_at, item.feed_seq > 0)
            for item in items
        ],
        "reports": sorted(
            (rank[r.item_id], r.reason, r.note, r.reporter.username)
            for r in Report.objects.select_related("reporter")
        ),
        "decisions": sorted(
            (rank[d.item_id], d.action, d.actor.username, d.reason_code, d.note, d.base_version)
            for d in decisions.values()
        ),
        "posts": sorted(
            (p.title, p.body_html, p.author.username, p.hidden, p.hidden_reason, p.locked)
            + (rank_of_object.get(str(p.pk)),)
            for p in posts
        ),
        "comments": sorted(
            (rank_of_object[str(c.pk)], c.body_html, c.author.username, c.hidden)
            for c in comments.values()
        ),
        "audit": [
            (e.actor_username, e.action, e.target_type, rank[int(e.target_id)], data(e))
            + (e.feed_seq > 0,)
            for e in AuditEvent.objects.order_by("id")
        ],
        "times": all(
            item.created_at == obj.created_at
            and all(r.created_at <= item.updated_at for r in item.reports.all())
            for item in items
            for obj in [comments.get(item.object_key) or posts.get(pk=item.object_key)]
        ),
    }


def test_the_bulk_seed_writes_the_rows_the_app_writes(db, django_capture_on_commit_callbacks):
    seed("--items", "0")
    content.reset_content()  # staff users and queues only
    AuditEvent.objects.all().delete()  # the members' deletion ended their suspensions
    moderator = get_user_model().objects.get(username="moderator")
    # Seed 10 decides all three ways, one of them a removal of a comment.
    plan = content.plan_content(random.Random(10), 70)
    assert len(plan.comments) == 8 and len(plan.decisions) == 7
    heard = {"reported": 0, "opened": 0, "decided": 0}

    def on_reported(sender, opened, **kwargs):
        heard["reported"] += 1
        heard["opened"] += opened

    def on_decided(sender, **kwargs):
        heard["decided"] += 1

    signals.reported.connect(on_reported)
    signals.decided.connect(on_decided)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            content.seed_content(random.Random(10), 70, moderator)
    finally:
        signals.reported.disconnect(on_reported)
        signals.decided.disconnect(on_decided)
    in_bulk = content_rows()
    assert heard == {"reported": Report.objects.count(), "opened": 70, "decided": 7}

    Decision.objects.all().delete()
    Report.objects.all().delete()
    content.reset_content()
    AuditEvent.objects.all().delete()
    seed_through_services(plan, moderator)
    through_services = content_rows()
    assert in_bulk["times"] and through_services["times"]
    for table in in_bulk:
        assert in_bulk[table] == through_services[table], table
    assert {row[1] for row in in_bulk["items"]} == {"post", "comment"}
    assert {row[6] for row in in_bulk["items"]} == {"open", "approved", "removed", "ignored"}
    assert any(row[3] for row in in_bulk["posts"])  # a removal hid its post
    assert any(row[3] for row in in_bulk["comments"])  # and one its comment


def test_seeded_history_has_the_shape_of_what_the_services_write(db, make_account):
    """Every action of the seeded audit history beside the same action done for real:
    the same kind of actor, target type and data keys, and the same value types."""
    seed("--items", "10", "--audit", "400", "--jobs", "5")
    seeded = {event.action: event for event in AuditEvent.objects.order_by("id")}
    last_seeded = AuditEvent.objects.order_by("-id").first().pk
    admin = get_user_model().objects.get(username="admin")
    item = Item.objects.filter(state="open").first()
    account = make_account()
    job = make_job("failed")
    with transaction.atomic():
        claim_item(admin, item.pk, serialize_item)
        release_claim(admin, item.pk, serialize_item)
        decide_item(admin, item.pk, "remove", "spam", "Removed as spam.", 1, serialize_item)
        steward.report(Post.objects.create(author=account.user, title="t", body_html="b"), "spam")
        add_account_note(admin, account.pk, "A note")
        account_action(admin, account.pk, "suspend", "repeat-offender", "", 72)
        retry_job(admin, job.pk)
    real = {event.action: event for event in AuditEvent.objects.filter(pk__gt=last_seeded)}
    assert set(seeded) == set(seeded_audit.CYCLE) <= set(real)
    for action, event in seeded.items():
        model = real[action]
        assert (bool(event.actor_id), event.target_type) == (
            bool(model.actor_id),
            model.target_type,
        ), action
        assert list(event.data) == list(model.data), action
        for key, value in event.data.items():
            if value is not None and model.data[key] is not None:
                assert type(value) is type(model.data[key]), (action, key)
    # The targets are rows of the database.
    assert Item.objects.filter(pk=int(seeded["item.claim"].target_id)).exists()
    assert Account.objects.filter(pk=int(seeded["account.note"].target_id)).exists()
    assert Job.objects.filter(pk=int(seeded["job.retry"].target_id)).exists()
