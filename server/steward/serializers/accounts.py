"""Accounts: their view, history, notes and actions."""

from rest_framework import serializers

from steward.models import Account, AccountNote
from steward.serializers.audit import AuditEventSerializer
from steward.serializers.common import (
    StrictCharField,
    StrictIntegerField,
    StrictSerializer,
    UserRefSerializer,
)
from steward.serializers.items import DecisionSerializer
from steward.serializers.jobs import JobSerializer


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


class AccountCountsSerializer(serializers.Serializer):
    items = serializers.IntegerField()
    removed_items = serializers.IntegerField()
    reports_received = serializers.IntegerField()
    notes = serializers.IntegerField()


class AccountSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()
    counts = serializers.SerializerMethodField()

    class Meta:
        model = Account
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

    def get_status(self, account) -> str:
        """active, suspended (by Steward), inactive (deactivated in the product) or deleted
        (the user is gone from the product)."""
        return account.status

    def get_counts(self, account) -> AccountCountsSerializer:
        return {
            "items": getattr(account, "items_count", 0),
            "removed_items": getattr(account, "removed_items_count", 0),
            "reports_received": getattr(account, "reports_received_count", 0),
            "notes": getattr(account, "notes_count", 0),
        }


class AccountNoteSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()

    class Meta:
        model = AccountNote
        fields = ["id", "account", "author", "body", "created_at"]
        extra_kwargs = {}

    account = serializers.IntegerField(source="account_id")

    def get_author(self, note) -> UserRefSerializer(allow_null=True):
        if note.author_id is None:
            return None
        return {"id": note.author_id, "username": note.author_username}


class HistoryDecisionSerializer(DecisionSerializer):
    item_title = serializers.CharField(source="item.title")

    class Meta(DecisionSerializer.Meta):
        fields = [*DecisionSerializer.Meta.fields, "item_title"]


class AccountHistorySerializer(serializers.Serializer):
    decisions = HistoryDecisionSerializer(many=True)
    account_events = AuditEventSerializer(many=True)


class AccountActionResultSerializer(serializers.Serializer):
    account = AccountSerializer()
    job = JobSerializer(allow_null=True)
