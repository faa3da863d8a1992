"""Queues, items, decisions, claims and reason templates."""

from django.utils import timezone
from rest_framework import serializers

from steward.content.registry import site
from steward.models import Decision, Item, Queue, ReasonTemplate, Report
from steward.serializers.common import (
    ErrorSerializer,
    StrictCharField,
    StrictIntegerField,
    StrictSerializer,
    UserRefSerializer,
)


class DecisionRequestSerializer(StrictSerializer):
    action = serializers.ChoiceField(choices=Decision.Action.choices)
    reason_code = StrictCharField(max_length=64, required=False, allow_blank=True, default="")
    note = StrictCharField(
        max_length=4000, required=False, allow_blank=True, default="", trim_whitespace=False
    )
    base_version = StrictIntegerField(min_value=0, max_value=2**31 - 1)


class QueueSerializer(serializers.ModelSerializer):
    open_count = serializers.IntegerField()
    oldest_open_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.SerializerMethodField()

    class Meta:
        model = Queue
        fields = ["id", "slug", "name", "priority", "open_count", "oldest_open_at", "updated_at"]

    def get_updated_at(self, queue) -> str:
        """The later of the queue's own change and the last change of one of its items."""
        latest = queue.updated_at
        items_latest = getattr(queue, "items_updated_at", None)
        if items_latest is not None and items_latest > latest:
            latest = items_latest
        return serializers.DateTimeField().to_representation(latest)


class ItemContentSerializer(serializers.Serializer):
    title = serializers.CharField()
    body_html = serializers.CharField(help_text="UNTRUSTED user HTML, stored as submitted.")


class AuthorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    status = serializers.CharField()


class ReportSerializer(serializers.ModelSerializer):
    reason = serializers.CharField(help_text="The product's reason code (spam, harassment, ...).")
    reporter = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = ["reason", "note", "reporter", "created_at"]

    def get_reporter(self, report) -> UserRefSerializer(allow_null=True):
        """The reporting account (null: anonymous)."""
        if report.reporter_id is None:
            return None
        return {"id": report.reporter_id, "username": report.reporter.username}


class ItemObjectSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="The model, as app_label.model (e.g. forum.post).")
    label = serializers.CharField(help_text="What staff call it (e.g. post).")
    key = serializers.CharField(help_text="Its primary key, as text (integers, UUIDs, ...).")
    url = serializers.CharField(
        allow_null=True, help_text="The object on the product's public site, when it has one."
    )
    deleted = serializers.BooleanField(help_text="The object was deleted from the product.")


class ClaimSerializer(serializers.Serializer):
    user = UserRefSerializer()
    expires_at = serializers.DateTimeField()


class ItemSerializer(serializers.ModelSerializer):
    content = serializers.SerializerMethodField()
    author = AuthorSerializer(
        allow_null=True, help_text="The account that wrote it; null for anonymous content."
    )
    state = serializers.ChoiceField(
        choices=Item.State.choices,
        help_text="deleted: the object was deleted from the product while the item was open.",
    )
    object = serializers.SerializerMethodField()
    reports = ReportSerializer(many=True)
    claim = serializers.SerializerMethodField()

    class Meta:
        model = Item
        fields = [
            "id",
            "queue",
            "state",
            "version",
            "content",
            "object",
            "author",
            "reports",
            "claim",
            "created_at",
            "updated_at",
        ]

    def get_content(self, item) -> ItemContentSerializer:
        return {"title": item.title, "body_html": item.body_html}

    def get_object(self, item) -> ItemObjectSerializer(allow_null=True):
        """The product's object the item is about; null for items from before the registry."""
        if item.object_type_id is None:
            return None
        object_type = item.object_type
        model = object_type.model_class()
        label = (
            site.source_for_model(model).type_label()
            if model is not None and site.is_registered(model)
            else object_type.name
        )
        return {
            "type": f"{object_type.app_label}.{object_type.model}",
            "label": label,
            "key": item.object_key,
            "url": item.url or None,
            "deleted": item.object_deleted_at is not None,
        }

    def get_claim(self, item) -> ClaimSerializer(allow_null=True):
        if item.claimed_by_id is None or item.claim_expires_at is None:
            return None
        if item.claim_expires_at <= timezone.now():
            return None
        return ClaimSerializer({"user": item.claimed_by, "expires_at": item.claim_expires_at}).data


class DecisionSerializer(serializers.ModelSerializer):
    actor = UserRefSerializer(allow_null=True)

    class Meta:
        model = Decision
        fields = [
            "id",
            "item",
            "action",
            "reason_code",
            "note",
            "base_version",
            "actor",
            "created_at",
        ]


class DecisionResultSerializer(serializers.Serializer):
    decision = DecisionSerializer()
    item = ItemSerializer()


class ConflictSerializer(ErrorSerializer):
    current = ItemSerializer()


class ClaimResultSerializer(serializers.Serializer):
    claim = ClaimSerializer(allow_null=True)
    item = ItemSerializer()


class ReasonTemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReasonTemplate
        fields = [
            "id",
            "scope",
            "code",
            "label",
            "text",
            "actions",
            "position",
            "active",
            "updated_at",
        ]
