"""Background jobs: the list, one job, retry, retry all matching, cancel."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from steward.models import Job
from steward.pagination import parse_limit
from steward.permissions import CanActOnJobs, CanViewJobs
from steward.schema import IDEMPOTENCY_KEY, LIMIT, UPDATED_AFTER, errors
from steward.serializers import feed_rows
from steward.serializers.common import page_of
from steward.serializers.jobs import (
    JobConflictSerializer,
    JobDetailSerializer,
    JobRetryRequestSerializer,
    JobRetryResultSerializer,
    JobSerializer,
)
from steward.services import jobs as job_services
from steward.views.base import (
    StewardAPIView,
    choice_param,
    idempotent_response,
    rows_page_response,
    run_operation,
)


def _job_filters(request):
    params = request.query_params
    return {
        "kind": (params.get("kind") or "")[:200] or None,
        "status": choice_param(request, "status", Job.Status.values),
        "backend": (params.get("backend") or "")[:64] or None,
    }


JOB_FILTERS = [
    OpenApiParameter("kind", OpenApiTypes.STR, description="The task name, exactly."),
    OpenApiParameter("status", OpenApiTypes.STR, enum=list(Job.Status.values)),
    OpenApiParameter(
        "backend", OpenApiTypes.STR, description="A job backend's name, e.g. celery or tasks."
    ),
]


class JobListView(StewardAPIView):
    permission_classes = [IsAuthenticated, CanViewJobs]

    @extend_schema(
        operation_id="jobs_list",
        description="Every backend's jobs in one delta feed, each naming its backend.",
        parameters=[*JOB_FILTERS, UPDATED_AFTER, LIMIT],
        responses={200: page_of(JobSerializer), **errors(400, 401, 403)},
    )
    def get(self, request):
        filters = _job_filters(request)
        limit = parse_limit(request.query_params.get("limit"))
        cursor = request.query_params.get("updated_after")
        page = job_services.jobs_page(filters, cursor, limit, values=feed_rows.JOBS.select)
        return rows_page_response(feed_rows.job_rows, page)


class JobDetailView(StewardAPIView):
    permission_classes = [IsAuthenticated, CanViewJobs]

    @extend_schema(
        operation_id="jobs_retrieve",
        responses={200: JobDetailSerializer, **errors(401, 403, 404)},
    )
    def get(self, request, job_id):
        return Response(JobDetailSerializer(job_services.get_job(job_id)).data)


class JobRetryView(StewardAPIView):
    replays_idempotency_keys = True
    permission_classes = [IsAuthenticated, CanActOnJobs]

    @extend_schema(
        operation_id="jobs_retry",
        description="Runs the job again on its backend, with the same task and the exact "
        "same arguments, as a new run of the same job (linked to the failed run): the job "
        "is pending again. 422 job_not_retryable when it never can be (arguments not "
        "stored as JSON, backend not configured, task gone); 503 job_backend_unavailable "
        "when the broker did not take it (nothing applied: send it again later).",
        parameters=[IDEMPOTENCY_KEY],
        request=None,
        responses={
            200: JobSerializer,
            **errors(400, 401, 403, 404, 422, 503),
            409: OpenApiResponse(JobConflictSerializer, description="The job is not retryable."),
        },
    )
    def post(self, request, job_id):
        return run_operation(request, "retry_job", job_id)


class JobCancelView(StewardAPIView):
    replays_idempotency_keys = True
    permission_classes = [IsAuthenticated, CanActOnJobs]

    @extend_schema(
        operation_id="jobs_cancel",
        description="Stops a pending job before it starts (django-tasks-db: its waiting "
        "row; Celery: a revoke). 409 when it started already; 422 job_not_cancellable "
        "when its backend cannot stop pending jobs.",
        parameters=[IDEMPOTENCY_KEY],
        request=None,
        responses={
            200: JobSerializer,
            **errors(400, 401, 403, 404, 422, 503),
            409: OpenApiResponse(JobConflictSerializer, description="The job is not pending."),
        },
    )
    def post(self, request, job_id):
        return run_operation(request, "cancel_job", job_id)


class JobRetryMatchingView(StewardAPIView):
    replays_idempotency_keys = True
    permission_classes = [IsAuthenticated, CanActOnJobs]

    @extend_schema(
        operation_id="jobs_retry_matching",
        description="Retries every failed (or cancelled) job matching the filter, up to "
        "max_jobs (100,000 at most), in one transaction: each as POST /jobs/<id>/retry "
        "would (its exact task and arguments, a new run, its own job.retry audit event), "
        "plus one job.retry_matching event. Answers with how many were retried, their "
        "ids, the jobs skipped with why, and how many matching jobs are left when it "
        "stopped at its time limit (STEWARD_RETRY_MATCHING_MAX_SECONDS, 20 s): send the "
        "same request again (with a new Idempotency-Key) for those.",
        parameters=[IDEMPOTENCY_KEY],
        request=JobRetryRequestSerializer,
        responses={200: JobRetryResultSerializer, **errors(400, 401, 403, 422)},
    )
    def post(self, request):
        serializer = JobRetryRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data

        def perform():
            filters = {"kind": data["kind"], "status": data["status"], "backend": data["backend"]}
            retried, skipped, remaining = job_services.retry_jobs_matching(
                request.user, filters, data["max_jobs"]
            )
            body = {
                "retried": len(retried),
                "retried_ids": retried,
                "skipped": skipped,
                "remaining": remaining,
            }
            return status.HTTP_200_OK, body

        return idempotent_response(request, perform)
