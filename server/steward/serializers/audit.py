"""The audit log."""

from rest_framework import serializers

from steward.models import AuditEvent
from steward.serializers.common import UserRefSerializer


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
