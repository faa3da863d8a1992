"""Background jobs of the product, from every job backend."""

from rest_framework import serializers

from steward.models import Job, JobRun
from steward.serializers.common import (
    ErrorSerializer,
    StrictCharField,
    StrictIntegerField,
    StrictSerializer,
    UserRefSerializer,
)
from steward.services import jobs as job_services

# The most jobs one POST /jobs/retry retries (bench/README.md, jobs-scale: 100,000 in
# one action within the 10 s goal).
MAX_RETRY_MATCHING = 100_000


class JobRetryRequestSerializer(StrictSerializer):
    kind = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    backend = StrictCharField(max_length=64, required=False, allow_blank=True, default="")
    status = serializers.ChoiceField(
        choices=[Job.Status.FAILED, Job.Status.CANCELLED], required=False, default="failed"
    )
    max_jobs = StrictIntegerField(
        min_value=1, max_value=MAX_RETRY_MATCHING, required=False, default=100
    )


class JobSerializer(serializers.ModelSerializer):
    created_by = serializers.SerializerMethodField()
    backend = serializers.CharField(
        help_text="The job backend's name in STEWARD_JOB_BACKENDS (e.g. celery, tasks); "
        "legacy for jobs recorded before Steward used the product's backends."
    )
    kind = serializers.CharField(
        help_text="The task: a Celery task name, or a django-tasks task's name."
    )
    queue = serializers.CharField(help_text="The queue it was sent to, when known.")
    task_id = serializers.CharField(help_text="The backend's id of the latest run.")
    can_retry = serializers.SerializerMethodField()
    retry_blocked_reason = serializers.SerializerMethodField()
    can_cancel = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "backend",
            "kind",
            "queue",
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
            "task_id",
            "can_retry",
            "retry_blocked_reason",
            "can_cancel",
        ]

    def get_created_by(self, job) -> UserRefSerializer(allow_null=True):
        if job.created_by_id is None:
            return None
        return {"id": job.created_by_id, "username": job.created_by.get_username()}

    def get_retry_blocked_reason(self, job) -> str:
        """Why the job can never be retried ("" when a failed or cancelled run can be)."""
        return job_services.retry_blocked_reason(job)

    def get_can_retry(self, job) -> bool:
        return job.status in job_services.RETRYABLE and not self.get_retry_blocked_reason(job)

    def get_can_cancel(self, job) -> bool:
        return job_services.can_cancel(job)


class JobRunSerializer(serializers.ModelSerializer):
    retry_of = serializers.SerializerMethodField()
    created_by = serializers.SerializerMethodField()

    class Meta:
        model = JobRun
        fields = [
            "number",
            "task_id",
            "status",
            "retry_of",
            "created_by",
            "enqueued_at",
            "started_at",
            "finished_at",
            "error",
            "traceback",
        ]

    def get_retry_of(self, run) -> int | None:
        """The number of the run this one retried, when staff retried the job."""
        return run.retry_of.number if run.retry_of_id else None

    def get_created_by(self, run) -> UserRefSerializer(allow_null=True):
        if run.created_by_id is None:
            return None
        return {"id": run.created_by_id, "username": run.created_by.get_username()}


class JobArgumentsSerializer(serializers.Serializer):
    args = serializers.ListField(child=serializers.JSONField())
    kwargs = serializers.DictField(child=serializers.JSONField())


class JobDetailSerializer(JobSerializer):
    arguments = serializers.SerializerMethodField()
    runs = serializers.SerializerMethodField()

    class Meta(JobSerializer.Meta):
        fields = [*JobSerializer.Meta.fields, "arguments", "runs"]

    def get_arguments(self, job) -> JobArgumentsSerializer(allow_null=True):
        """The exact arguments a retry sends; null when they could not be stored."""
        return job.payload

    def get_runs(self, job) -> JobRunSerializer(many=True):
        runs = job.runs.select_related("retry_of", "created_by").order_by("number")
        return JobRunSerializer(runs, many=True).data


class SkippedJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()


class JobRetryResultSerializer(serializers.Serializer):
    retried = serializers.IntegerField(help_text="How many jobs were retried.")
    retried_ids = serializers.ListField(
        child=serializers.IntegerField(), help_text="The retried jobs, by id, ascending."
    )
    remaining = serializers.IntegerField(
        help_text="Matching jobs not tried because the request reached its time limit "
        "(0 when it went through them all)."
    )
    skipped = SkippedJobSerializer(
        many=True,
        help_text="Matching jobs not retried, with why (job_not_retryable, or "
        "job_backend_unavailable, which stops the run there).",
    )


class JobConflictSerializer(ErrorSerializer):
    current_job = JobSerializer()
