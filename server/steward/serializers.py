"""Serializers: strict request validation and the response shapes of the contract.

Request serializers reject unknown fields and wrong JSON types (a string where an integer
belongs, a number where a string belongs) with a readable message per field.
"""

from django.utils import timezone
from rest_framework import serializers

from steward.models import (
    AuditEvent,
    Decision,
    Item,
    Job,
    Member,
    MemberNote,
    Queue,
    ReasonTemplate,
    Report,
)
from steward.permissions import permissions_of, roles_of


class StrictCharField(serializers.CharField):
    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"not_an_integer": "Must be an integer."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("not_an_integer")
        return super().to_internal_value(data)


class StrictSerializer(serializers.Serializer):
    """Rejects members of the request body that the endpoint does not know."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": ["The request body must be a JSON object."]}
            )
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class ErrorSerializer(serializers.Serializer):
    """The body of every error response."""

    code = serializers.CharField(help_text="Stable snake_case code, e.g. validation_error.")
    message = serializers.CharField(help_text="A sentence a person can act on.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per request field; {} when the error is not about fields.",
    )


# Requests


class LoginRequestSerializer(StrictSerializer):
    username = StrictCharField(max_length=150)
    password = StrictCharField(max_length=1024, trim_whitespace=False)


class RefreshRequestSerializer(StrictSerializer):
    refresh_token = StrictCharField(max_length=512)


class LogoutRequestSerializer(StrictSerializer):
    refresh_token = StrictCharField(max_length=512, required=False)


class DecisionRequestSerializer(StrictSerializer):
    action = serializers.ChoiceField(choices=Decision.Action.choices)
    reason_code = StrictCharField(max_length=64, required=False, allow_blank=True, default="")
    note = StrictCharField(
        max_length=4000, required=False, allow_blank=True, default="", trim_whitespace=False
    )
    base_version = StrictIntegerField(min_value=0, max_value=2**31 - 1)


class AccountActionRequestSerializer(StrictSerializer):
    action = serializers.ChoiceField(
        choices=["suspend", "reactivate", "force_logout", "send_password_reset"]
    )
    duration_hours = StrictIntegerField(
        min_value=1,
        max_value=24 * 365 * 10,
        required=False,
        allow_null=True,
        default=None,
        help_text="Suspension length; null suspends until reactivated. Only for suspend.",
    )
    reason_code = StrictCharField(max_length=64, required=False, allow_blank=True, default="")
    note = StrictCharField(
        max_length=4000, required=False, allow_blank=True, default="", trim_whitespace=False
    )

    def validate(self, attrs):
        if attrs.get("duration_hours") is not None and attrs["action"] != "suspend":
            raise serializers.ValidationError(
                {"duration_hours": ["Only a suspension takes a duration."]}
            )
        return attrs


class AccountNoteRequestSerializer(StrictSerializer):
    body = StrictCharField(max_length=10000, trim_whitespace=False)

    def validate_body(self, value):
        if not value.strip():
            raise serializers.ValidationError("Must not be blank.")
        return value


class JobRetryRequestSerializer(StrictSerializer):
    kind = StrictCharField(max_length=64, required=False, allow_blank=True, default="")
    status = serializers.ChoiceField(
        choices=[Job.Status.FAILED, Job.Status.CANCELLED], required=False, default="failed"
    )
    max_jobs = StrictIntegerField(min_value=1, max_value=1000, required=False, default=100)


class EmptyRequestSerializer(StrictSerializer):
    """Operations that take no arguments still reject unknown ones."""


# Responses


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.SerializerMethodField()
    roles = serializers.SerializerMethodField()
    permissions = serializers.SerializerMethodField()

    def get_display_name(self, user) -> str:
        return user.get_full_name() or user.get_username()

    def get_roles(self, user) -> list[str]:
        return roles_of(user)

    def get_permissions(self, user) -> list[str]:
        return permissions_of(user)


class TokenResponseSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    access_expires_at = serializers.DateTimeField()
    refresh_token = serializers.CharField()
    user = MeSerializer()


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


class QueueListSerializer(serializers.Serializer):
    results = QueueSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)


class ItemContentSerializer(serializers.Serializer):
    title = serializers.CharField()
    body_html = serializers.CharField(help_text="UNTRUSTED user HTML, stored as submitted.")


class AuthorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    status = serializers.CharField()


class ReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = Report
        fields = ["reason", "note", "created_at"]


class ClaimSerializer(serializers.Serializer):
    user = UserRefSerializer()
    expires_at = serializers.DateTimeField()


class ItemSerializer(serializers.ModelSerializer):
    content = serializers.SerializerMethodField()
    author = AuthorSerializer()
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
            "author",
            "reports",
            "claim",
            "created_at",
            "updated_at",
        ]

    def get_content(self, item) -> ItemContentSerializer:
        return {"title": item.title, "body_html": item.body_html}

    def get_claim(self, item) -> ClaimSerializer(allow_null=True):
        if item.claimed_by_id is None or item.claim_expires_at is None:
            return None
        if item.claim_expires_at <= timezone.now():
            return None
        return ClaimSerializer({"user": item.claimed_by, "expires_at": item.claim_expires_at}).data


class ItemPageSerializer(serializers.Serializer):
    results = ItemSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)
    has_more = serializers.BooleanField()
    total = serializers.IntegerField(
        allow_null=True,
        required=False,
        help_text="Rows in the whole feed; on the first page (no cursor) only.",
    )


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


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "actor",
            "actor_username",
            "action",
            "target_type",
            "target_id",
            "created_at",
            "data",
        ]

    def get_actor(self, event) -> UserRefSerializer(allow_null=True):
        if event.actor_id is None:
            return None
        return {"id": event.actor_id, "username": event.actor_username}


class AuditPageSerializer(serializers.Serializer):
    results = AuditEventSerializer(many=True)
    next_cursor = serializers.CharField(
        allow_null=True,
        help_text="Opaque cursor of the page's last event: pass it as `cursor` for the next "
        "page. Null when the page is empty (keep the cursor you had).",
    )
    has_more = serializers.BooleanField()
    total = serializers.IntegerField(
        allow_null=True,
        required=False,
        help_text="Events in the whole feed; on a first page (no cursor, no after_id) only.",
    )


class ReasonTemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReasonTemplate
        fields = ["id", "scope", "code", "label", "text", "actions", "position", "updated_at"]


class ReasonTemplateListSerializer(serializers.Serializer):
    results = ReasonTemplateSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)


class ClaimResultSerializer(serializers.Serializer):
    claim = ClaimSerializer(allow_null=True)
    item = ItemSerializer()


class QueuePageSerializer(serializers.Serializer):
    results = QueueSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)
    has_more = serializers.BooleanField()
    total = serializers.IntegerField(
        allow_null=True,
        required=False,
        help_text="Rows in the whole feed; on the first page (no cursor) only.",
    )


class ReasonTemplateDeltaSerializer(serializers.ModelSerializer):
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


class ReasonTemplatePageSerializer(serializers.Serializer):
    results = ReasonTemplateDeltaSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)
    has_more = serializers.BooleanField()
    total = serializers.IntegerField(
        allow_null=True,
        required=False,
        help_text="Rows in the whole feed; on the first page (no cursor) only.",
    )


class AccountCountsSerializer(serializers.Serializer):
    items = serializers.IntegerField()
    removed_items = serializers.IntegerField()
    reports_received = serializers.IntegerField()
    notes = serializers.IntegerField()


class AccountSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()
    counts = serializers.SerializerMethodField()

    class Meta:
        model = Member
        fields = [
            "id",
            "username",
            "display_name",
            "email",
            "status",
            "roles",
            "joined_at",
            "last_seen_at",
            "suspended_until",
            "sessions_revoked_at",
            "counts",
            "updated_at",
        ]

    def get_status(self, member) -> str:
        return member.effective_status()

    def get_counts(self, member) -> AccountCountsSerializer:
        return {
            "items": getattr(member, "items_count", 0),
            "removed_items": getattr(member, "removed_items_count", 0),
            "reports_received": getattr(member, "reports_received_count", 0),
            "notes": getattr(member, "notes_count", 0),
        }


class AccountPageSerializer(serializers.Serializer):
    results = AccountSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)
    has_more = serializers.BooleanField()
    total = serializers.IntegerField(
        allow_null=True,
        required=False,
        help_text="Rows in the whole feed; on the first page (no cursor) only.",
    )


class AccountNoteSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()

    class Meta:
        model = MemberNote
        fields = ["id", "account", "author", "body", "created_at"]
        extra_kwargs = {}

    account = serializers.IntegerField(source="member_id")

    def get_author(self, note) -> UserRefSerializer(allow_null=True):
        if note.author_id is None:
            return None
        return {"id": note.author_id, "username": note.author_username}


class AccountNotePageSerializer(serializers.Serializer):
    results = AccountNoteSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)
    has_more = serializers.BooleanField()
    total = serializers.IntegerField(
        allow_null=True,
        required=False,
        help_text="Rows in the whole feed; on the first page (no cursor) only.",
    )


class HistoryDecisionSerializer(DecisionSerializer):
    item_title = serializers.CharField(source="item.title")

    class Meta(DecisionSerializer.Meta):
        fields = [*DecisionSerializer.Meta.fields, "item_title"]


class AccountHistorySerializer(serializers.Serializer):
    decisions = HistoryDecisionSerializer(many=True)
    account_events = AuditEventSerializer(many=True)


class JobSerializer(serializers.ModelSerializer):
    created_by = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "status",
            "attempts",
            "payload_summary",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "updated_at",
            "last_error",
            "last_traceback",
            "result",
        ]

    def get_created_by(self, job) -> UserRefSerializer(allow_null=True):
        if job.created_by_id is None:
            return None
        return {"id": job.created_by_id, "username": job.created_by.get_username()}


class AccountActionResultSerializer(serializers.Serializer):
    account = AccountSerializer()
    job = JobSerializer(allow_null=True)


class JobPageSerializer(serializers.Serializer):
    results = JobSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)
    has_more = serializers.BooleanField()
    total = serializers.IntegerField(
        allow_null=True,
        required=False,
        help_text="Rows in the whole feed; on the first page (no cursor) only.",
    )


class JobRetryResultSerializer(serializers.Serializer):
    retried = JobSerializer(many=True)


class JobConflictSerializer(ErrorSerializer):
    current_job = JobSerializer()


class MutationOperationSerializer(StrictSerializer):
    idempotency_key = StrictCharField(max_length=255)
    op = serializers.ChoiceField(
        choices=[
            "decide_item",
            "claim_item",
            "release_item",
            "account_action",
            "add_account_note",
            "retry_job",
            "cancel_job",
        ]
    )
    target_id = StrictIntegerField(min_value=1, max_value=2**63 - 1)
    args = serializers.DictField(required=False, default=dict)


class MutationBatchRequestSerializer(StrictSerializer):
    operations = MutationOperationSerializer(many=True, allow_empty=False, max_length=100)


class MutationResultSerializer(serializers.Serializer):
    idempotency_key = serializers.CharField()
    status = serializers.IntegerField(help_text="The HTTP status the single endpoint returns.")
    body = serializers.JSONField(help_text="The single endpoint's body, or its error body.")


class MutationBatchResultSerializer(serializers.Serializer):
    results = MutationResultSerializer(many=True)
