from io import StringIO

from django.contrib.auth import authenticate
from django.core.management import call_command

from steward.models import Item, Queue, ReasonTemplate, Report
from steward.permissions import roles_of


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
    from steward.models import AuditEvent, Job

    output = seed("--items", "10", "--audit", "500", "--jobs", "30")
    assert "audit events." in output  # up to 500, with those the seeding itself wrote
    assert AuditEvent.objects.count() == 500
    assert Job.objects.count() == 33  # 30 finished or cancelled, 3 pending and enqueued
    statuses = set(Job.objects.values_list("status", flat=True))
    assert statuses == {"succeeded", "failed", "cancelled", "pending"}
    failed = Job.objects.filter(status="failed", backend="tasks").first()
    assert "Traceback (most recent call last)" in failed.last_traceback
    events = list(AuditEvent.objects.filter(data__has_key="seq").order_by("id")[:3])
    assert all(e.actor_username in {"admin", "moderator", "support"} for e in events)
    assert events[0].created_at <= events[-1].created_at
    seed("--items", "10", "--audit", "500", "--jobs", "30")
    assert AuditEvent.objects.count() == 500
    assert Job.objects.count() == 33
