"""The feeds write their rows from database values (serializers/feed_rows.py); the DRF
serializers stay the definition. These tests write the same rows both ways and compare
the JSON bytes, over the cases each writer handles, with datetimes read as text and as
datetimes, and once through the API."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db.models import JSONField, Value
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

import steward
from forum.models import Post
from steward.models import AuditEvent, Item, Job, Report
from steward.serializers import feed_rows
from steward.serializers.audit import AuditEventSerializer
from steward.serializers.items import ItemSerializer
from steward.serializers.jobs import JobSerializer
from steward.services.items import item_queryset
from steward.services.jobs import with_payload_missing
from steward.tests.conftest import commits

pytestmark = pytest.mark.django_db

WHOLE_SECOND = datetime(2026, 11, 25, 17, 22, 7, tzinfo=UTC)
TENTH = datetime(2026, 11, 25, 17, 22, 7, 100000, tzinfo=UTC)
ODD = datetime(2026, 11, 25, 17, 22, 7, 123456, tzinfo=UTC)


def rendered(data):
    return JSONRenderer().render(data)


@pytest.fixture(params=["times as text", "times as datetimes"])
def time_mode(request, monkeypatch):
    if request.param == "times as datetimes":
        monkeypatch.setattr(feed_rows, "text_times", lambda alias: False)
    else:
        assert feed_rows.text_times("default")  # PostgreSQL and SQLite both read text
    return request.param


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-11-25 17:22:07+00", "2026-11-25T17:22:07Z"),
        ("2026-11-25 17:22:07.1+00", "2026-11-25T17:22:07.100000Z"),
        ("2026-11-25 17:22:07.123456+00", "2026-11-25T17:22:07.123456Z"),
        ("2026-11-25 17:22:07", "2026-11-25T17:22:07Z"),
        ("2026-11-25 17:22:07.000100", "2026-11-25T17:22:07.000100Z"),
        ("0001-01-01 00:00:00+00", "0001-01-01T00:00:00Z"),
        (None, None),
    ],
)
def test_database_text_becomes_drf_text(text, expected):
    assert feed_rows.iso_from_text(text) == expected


def test_item_rows_are_what_item_serializer_writes(
    time_mode, make_item, make_queue, make_account, make_user
):
    queue = make_queue()
    moderator = make_user(roles=["moderator"])
    reporter = make_account()
    author = make_account()
    post = Post.objects.create(author=author.user, title="On a post", body_html="<b>x</b>")
    with_object = steward.report(post, reason="spam", reporter=reporter, note="ads").item
    steward.report(post, reason="other")  # anonymous, joins the open item
    Report.objects.filter(item=with_object).update(created_at=TENTH)  # tied: id orders
    make_item(queue=queue, author=author, reports=["spam"], created_at=WHOLE_SECOND)
    make_item(
        queue=queue,
        created_at=ODD,
        updated_at=TENTH,
        claimed_by=moderator,
        claim_expires_at=timezone.now() + timedelta(minutes=5),
    )
    make_item(
        queue=queue, claimed_by=moderator, claim_expires_at=timezone.now() - timedelta(seconds=1)
    )
    gone = make_item(queue=queue, object_deleted_at=TENTH, url="https://example.com/x")
    gone.object_type_id = with_object.object_type_id
    gone.object_key = "deleted-key"
    gone.save()
    Item.objects.create(
        queue=queue, title="no author", body_html="", created_at=ODD, updated_at=ODD
    )
    assert Item.objects.count() == 6

    fast = feed_rows.item_rows(list(feed_rows.ITEMS.select(Item.objects.order_by("id"))))
    drf = ItemSerializer(item_queryset().order_by("id"), many=True).data
    assert rendered(fast) == rendered(drf)
    assert fast[0]["object"]["label"] == "post" and len(fast[0]["reports"]) == 2


def test_audit_rows_are_what_the_audit_serializer_writes(time_mode, make_user):
    staff = make_user(roles=["support"])
    AuditEvent.objects.create(
        actor=staff, actor_username=staff.username, action="a.b", target_type="t", target_id="1"
    )
    AuditEvent.objects.create(
        actor=None,
        actor_username="",
        action="item.open",
        target_type="item",
        target_id="2",
        data={"nested": {"list": [1, 2.5, None, True], "text": "é \u2028 ok"}},
    )
    AuditEvent.objects.filter(action="a.b").update(created_at=WHOLE_SECOND)
    fast = feed_rows.audit_rows(list(feed_rows.AUDIT.select(AuditEvent.objects.order_by("id"))))
    drf = AuditEventSerializer(AuditEvent.objects.order_by("id"), many=True).data
    assert rendered(fast) == rendered(drf)


def test_job_rows_are_what_the_job_serializer_writes(time_mode, make_user):
    admin = make_user(roles=["admin"])
    common = {"kind": "build_report", "task_path": "forum.tasks.build_report"}
    Job.objects.create(kind="send_email", status="failed", payload={"to": "x"})  # legacy
    Job.objects.create(
        backend="gone", status="failed", payload={"args": [], "kwargs": {}}, **common
    )
    Job.objects.create(
        backend="tasks",
        status="pending",
        payload={"args": [1], "kwargs": {"a": "b"}},
        created_by=admin,
        created_at=WHOLE_SECOND,
        **common,
    )
    Job.objects.create(
        backend="tasks",
        status="failed",
        payload={"args": [], "kwargs": {}},
        attempts=3,
        started_at=TENTH,
        finished_at=ODD,
        last_error="TimeoutError: late",
        last_traceback="Traceback...\nTimeoutError: late",
        result={"rows": 2},
        **common,
    )
    Job.objects.create(backend="tasks", status="cancelled", payload=None, **common)
    json_null = Job.objects.create(backend="tasks", status="failed", **common)
    Job.objects.filter(pk=json_null.pk).update(payload=Value(None, JSONField()))
    Job.objects.create(
        backend="celery",
        status="failed",
        payload=None,
        retry_blocked_reason="The arguments cannot be stored as JSON exactly.",
        **common,
    )
    Job.objects.create(backend="celery", status="pending", payload={"args": [], "kwargs": {}})

    # jobs_page adds the payload_missing annotation the writer reads.
    annotated = with_payload_missing(Job.objects.order_by("id"))
    fast = feed_rows.job_rows(list(feed_rows.JOBS.select(annotated)))
    drf = JobSerializer(Job.objects.select_related("created_by").order_by("id"), many=True).data
    assert rendered(fast) == rendered(drf)
    by_backend = {row["backend"]: row for row in fast}
    assert by_backend["legacy"]["can_retry"] is False
    assert "not configured" in by_backend["gone"]["retry_blocked_reason"]
    assert sum("not recorded" in row["retry_blocked_reason"] for row in fast) == 2


@commits
def test_the_api_feeds_serve_what_the_serializers_write(admin_client, make_item, make_user):
    make_item(reports=["spam", "other"], created_at=TENTH)
    make_item(claimed_by=get_user_model().objects.first(), claim_expires_at=timezone.now())
    Job.objects.create(backend="tasks", kind="k", status="failed", payload=None)
    AuditEvent.objects.create(action="x", target_type="t", target_id="1", data={"k": [1]})

    def all_rows(path, param):
        rows, cursor = [], None
        while True:
            query = {"limit": 1, **({param: cursor} if cursor else {})}
            page = admin_client.get(path, query).json()
            rows += page["results"]
            if not page["has_more"]:
                return rows
            cursor = page["next_cursor"]

    for path, param, serializer, queryset in [
        ("/api/v1/items", "updated_after", ItemSerializer, item_queryset()),
        ("/api/v1/jobs", "updated_after", JobSerializer, Job.objects.all()),
        ("/api/v1/audit", "cursor", AuditEventSerializer, AuditEvent.objects.all()),
    ]:
        served = all_rows(path, param)
        expected = serializer(queryset.order_by("feed_seq", "id"), many=True).data
        assert served == json.loads(rendered(expected)), path
