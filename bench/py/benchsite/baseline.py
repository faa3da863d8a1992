"""The baseline of scenario 6 (bench/py/server_feeds.py): list endpoints over Steward's
own rows as a product team writes them with DRF, a `ModelSerializer` per model, a
`ListAPIView`, and DRF's own `CursorPagination` (on the primary key, so a page never
repeats or skips a row), with the queries a careful team adds (select_related for the
foreign object shown nested, prefetch_related for the reports).

The rows carry what Steward's feeds carry (the nested author and reports of an item,
every column of an audit event or a job), so both sides move the same data. They use
Steward's own authentication and permission classes and JSON renderer, so a request
costs the same around the list on both sides. Mounted only by benchsite.urls.
"""

from rest_framework import generics, serializers
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from steward.auth import BearerTokenAuthentication
from steward.models import Account, AuditEvent, Item, Job, Report
from steward.permissions import CanViewAudit, CanViewItems, CanViewJobs

PAGE_SIZE = 500  # the page size Steward's client asks its feeds for


class ById(CursorPagination):
    page_size = PAGE_SIZE
    ordering = "id"


class AuthorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Account
        fields = ("id", "username", "status")


class ReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = Report
        fields = ("reason", "note", "reporter", "created_at")


class ItemSerializer(serializers.ModelSerializer):
    author = AuthorSerializer(read_only=True)
    reports = ReportSerializer(many=True, read_only=True)

    class Meta:
        model = Item
        fields = (
            "id",
            "queue",
            "state",
            "version",
            "title",
            "body_html",
            "object_type",
            "object_key",
            "url",
            "object_deleted_at",
            "author",
            "reports",
            "claimed_by",
            "claim_expires_at",
            "created_at",
            "updated_at",
        )


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = (
            "id",
            "actor",
            "actor_username",
            "action",
            "target_type",
            "target_id",
            "created_at",
            "data",
        )


class JobSerializer(serializers.ModelSerializer):
    class Meta:
        model = Job
        fields = (
            "id",
            "backend",
            "kind",
            "queue",
            "status",
            "attempts",
            "payload_summary",
            "retry_blocked_reason",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "updated_at",
            "last_error",
            "last_traceback",
            "result",
            "task_id",
        )


class BaselineList(generics.ListAPIView):
    authentication_classes = (BearerTokenAuthentication,)
    renderer_classes = (JSONRenderer,)
    pagination_class = ById


class ItemList(BaselineList):
    permission_classes = (IsAuthenticated, CanViewItems)
    serializer_class = ItemSerializer
    queryset = Item.objects.select_related("author").prefetch_related("reports")


class AuditList(BaselineList):
    permission_classes = (IsAuthenticated, CanViewAudit)
    serializer_class = AuditEventSerializer
    queryset = AuditEvent.objects.all()


class JobList(BaselineList):
    permission_classes = (IsAuthenticated, CanViewJobs)
    serializer_class = JobSerializer
    queryset = Job.objects.all()
