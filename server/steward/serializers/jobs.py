"""Background jobs."""

from rest_framework import serializers

from steward.models import Job
from steward.serializers.common import (
    ErrorSerializer,
    StrictCharField,
    StrictIntegerField,
    StrictSerializer,
    UserRefSerializer,
)


class JobRetryRequestSerializer(StrictSerializer):
    kind = StrictCharField(max_length=64, required=False, allow_blank=True, default="")
    status = serializers.ChoiceField(
        choices=[Job.Status.FAILED, Job.Status.CANCELLED], required=False, default="failed"
    )
    max_jobs = StrictIntegerField(min_value=1, max_value=1000, required=False, default=100)


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


class JobRetryResultSerializer(serializers.Serializer):
    retried = JobSerializer(many=True)


class JobConflictSerializer(ErrorSerializer):
    current_job = JobSerializer()
