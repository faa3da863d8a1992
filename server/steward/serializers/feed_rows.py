"""The rows of the delta feeds (items, audit events, jobs), written straight from the
database's values.

A feed page is 500 rows, and a client downloading a collection reads thousands of
pages. Building a model instance per row (and per prefetched report) and running every
column through DRF's field machinery cost most of a page's time (bench/README.md,
server-feeds), so the feeds read only the columns they serve (`values()`, joined to the
few related columns they show) and write each row with plain code.

The DRF serializers (ItemSerializer, AuditEventSerializer, JobSerializer) stay the
definition of a row: the OpenAPI contract is generated from them, single objects and
mutation answers are written by them, and tests/test_feed_rows.py checks that these
writers give exactly what they give, row for row, across the cases each handles.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connections
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from steward.content.registry import site
from steward.models import Job, Report
from steward.services import jobs as job_services


class Columns:
    """The columns a feed's rows are written from: `names` as they are, and `times`
    (datetime columns) as the text the database stores, when that text can be turned
    into DRF's output with string operations alone (see `text_times`): parsing a
    datetime in Django's time-zone-aware loader and formatting it again was most of a
    page's database time."""

    def __init__(self, names: tuple[str, ...], times: tuple[str, ...]):
        self.names = names
        self.times = times

    def select(self, queryset):
        """`queryset` as a values() queryset of these columns (feeds.feed_page calls it)."""
        if text_times(queryset.db):
            texts = {f"{name}{TEXT}": Cast(name, TextField()) for name in self.times}
            return queryset.values(*self.names, **texts)
        return queryset.values(*self.names, *self.times)


TEXT = "_text"


def text_times(alias: str) -> bool:
    """Whether datetimes read as text from this database are UTC in the form
    "YYYY-MM-DD HH:MM:SS[.ffffff][+00]" and DRF writes them in ISO 8601 UTC: PostgreSQL
    and SQLite (Django's storage format) on a UTC connection, USE_TZ on, and the
    current time zone UTC. Otherwise the feeds read datetimes as datetimes."""
    connection = connections[alias]
    output_format = api_settings.DATETIME_FORMAT
    return (
        connection.vendor in ("postgresql", "sqlite")
        and settings.USE_TZ
        and connection.timezone_name == "UTC"
        and output_format is not None
        and output_format.lower() == ISO_8601
        and timezone.get_current_timezone_name() == "UTC"
    )


def iso_from_text(text):
    """DRF's text of a UTC datetime ("2026-11-25T17:22:07.123400Z", no fraction when the
    microseconds are 0) from the database's ("2026-11-25 17:22:07.1234+00" on PostgreSQL,
    which drops trailing zeros, "2026-11-25 17:22:07.123400" on SQLite)."""
    if text is None:
        return None
    if text.endswith("+00"):
        text = text[:-3]
    dot = text.find(".", 19)
    if dot == -1:
        return f"{text[:10]}T{text[11:19]}Z"
    fraction = text[dot + 1 :].ljust(6, "0")
    if fraction == "000000":
        return f"{text[:10]}T{text[11:19]}Z"
    return f"{text[:10]}T{text[11:19]}.{fraction}Z"


def datetime_writer():
    """A function writing a datetime exactly as DRF's DateTimeField does, with the time
    zone looked up once (DRF looks it up for every value)."""
    zone = timezone.get_current_timezone()
    field = serializers.DateTimeField(default_timezone=zone)
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    if output_format is None or output_format.lower() != ISO_8601:
        return field.to_representation

    def write(value):
        if not value:
            return None
        if isinstance(value, str):
            return value
        if timezone.is_naive(value):
            return field.to_representation(value)
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return write


def time_reader(rows):
    """row, name -> DRF's text of the datetime column `name`, read the way Columns.select
    read it for these rows."""
    if rows and any(key.endswith(TEXT) for key in rows[0]):
        return lambda row, name: iso_from_text(row[name + TEXT])
    write = datetime_writer()
    return lambda row, name: write(row[name])


# Items

_USERNAME = get_user_model().USERNAME_FIELD

ITEMS = Columns(
    (
        "id",
        "feed_seq",
        "queue_id",
        "state",
        "version",
        "title",
        "body_html",
        "object_type_id",
        "object_key",
        "url",
        "object_deleted_at",
        "author_id",
        "author__username",
        "author__status",
        "claimed_by_id",
        # ClaimSerializer's UserRefSerializer reads the `username` attribute.
        "claimed_by__username",
        "claim_expires_at",
    ),
    ("created_at", "updated_at"),
)


def _object_labels():
    """(type, label) of a content type id, as ItemSerializer.get_object names them."""
    cache = {}

    def labels(object_type_id):
        if object_type_id not in cache:
            object_type = ContentType.objects.get_for_id(object_type_id)
            model = object_type.model_class()
            label = (
                site.source_for_model(model).type_label()
                if model is not None and site.is_registered(model)
                else object_type.name
            )
            cache[object_type_id] = (f"{object_type.app_label}.{object_type.model}", label)
        return cache[object_type_id]

    return labels


REPORTS = Columns(
    ("item_id", "reason", "note", "reporter_id", "reporter__username"), ("created_at",)
)


def _reports_by_item(item_ids):
    """Each item's reports, in the order ItemSerializer lists them (created_at, id)."""
    reports = {item_id: [] for item_id in item_ids}
    queryset = Report.objects.filter(item_id__in=item_ids).order_by("created_at", "id")
    rows = list(REPORTS.select(queryset))
    when = time_reader(rows)
    for row in rows:
        reporter_id = row["reporter_id"]
        reports[row["item_id"]].append(
            {
                "reason": row["reason"],
                "note": row["note"],
                "reporter": None
                if reporter_id is None
                else {"id": reporter_id, "username": row["reporter__username"]},
                "created_at": when(row, "created_at"),
            }
        )
    return reports


def item_rows(rows) -> list[dict]:
    """ItemSerializer's rows, from ITEMS.select(...) dicts."""
    when = time_reader(rows)
    write_time = datetime_writer()
    labels = _object_labels()
    reports = _reports_by_item([row["id"] for row in rows])
    now = timezone.now()
    out = []
    for row in rows:
        object_type_id = row["object_type_id"]
        if object_type_id is None:
            obj = None
        else:
            type_name, label = labels(object_type_id)
            obj = {
                "type": type_name,
                "label": label,
                "key": row["object_key"],
                "url": row["url"] or None,
                "deleted": row["object_deleted_at"] is not None,
            }
        author = None
        if row["author_id"] is not None:
            author = {
                "id": row["author_id"],
                "username": row["author__username"],
                "status": row["author__status"],
            }
        claim = None
        expires = row["claim_expires_at"]
        if row["claimed_by_id"] is not None and expires is not None and expires > now:
            claim = {
                "user": {"id": row["claimed_by_id"], "username": row["claimed_by__username"]},
                "expires_at": write_time(expires),
            }
        out.append(
            {
                "id": row["id"],
                "queue": row["queue_id"],
                "state": row["state"],
                "version": row["version"],
                "content": {"title": row["title"], "body_html": row["body_html"]},
                "object": obj,
                "author": author,
                "reports": reports[row["id"]],
                "claim": claim,
                "created_at": when(row, "created_at"),
                "updated_at": when(row, "updated_at"),
            }
        )
    return out


# Audit events

AUDIT = Columns(
    ("id", "feed_seq", "actor_id", "actor_username", "action", "target_type", "target_id", "data"),
    ("created_at",),
)


def audit_rows(rows) -> list[dict]:
    """AuditEventSerializer's rows, from AUDIT.select(...) dicts."""
    when = time_reader(rows)
    return [
        {
            "id": row["id"],
            "actor": None
            if row["actor_id"] is None
            else {"id": row["actor_id"], "username": row["actor_username"]},
            "actor_username": row["actor_username"],
            "action": row["action"],
            "target_type": row["target_type"],
            "target_id": row["target_id"],
            "created_at": when(row, "created_at"),
            "data": row["data"],
        }
        for row in rows
    ]


# Jobs

JOBS = Columns(
    (
        "id",
        "feed_seq",
        "backend",
        "kind",
        "queue",
        "status",
        "attempts",
        "payload_summary",
        "retry_blocked_reason",
        "created_by_id",
        f"created_by__{_USERNAME}",
        "last_error",
        "last_traceback",
        "result",
        "task_id",
        "payload_missing",
    ),
    ("created_at", "started_at", "finished_at", "updated_at"),
)


def job_rows(rows) -> list[dict]:
    """JobSerializer's rows, from JOBS.select(...) dicts (services.jobs.jobs_page)."""
    when = time_reader(rows)
    out = []
    for row in rows:
        blocked = job_services.blocked_reason_of(
            row["backend"], row["retry_blocked_reason"], not row["payload_missing"]
        )
        status = row["status"]
        out.append(
            {
                "id": row["id"],
                "backend": row["backend"],
                "kind": row["kind"],
                "queue": row["queue"],
                "status": status,
                "attempts": row["attempts"],
                "payload_summary": row["payload_summary"],
                "created_by": None
                if row["created_by_id"] is None
                else {"id": row["created_by_id"], "username": row[f"created_by__{_USERNAME}"]},
                "created_at": when(row, "created_at"),
                "started_at": when(row, "started_at"),
                "finished_at": when(row, "finished_at"),
                "updated_at": when(row, "updated_at"),
                "last_error": row["last_error"],
                "last_traceback": row["last_traceback"],
                "result": row["result"],
                "task_id": row["task_id"],
                "can_retry": status in job_services.RETRYABLE and not blocked,
                "retry_blocked_reason": blocked,
                "can_cancel": status == Job.Status.PENDING
                and job_services.backend_configured(row["backend"]),
            }
        )
    return out
