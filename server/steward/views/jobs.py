"""Background jobs: the list, one job, retry, retry all matching, cancel."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from steward import services
from steward.errors import validation_error
from steward.models import Job
from steward.pagination import parse_limit
from steward.permissions import CanActOnJobs, CanViewJobs
from steward.schema import IDEMPOTENCY_KEY, LIMIT, UPDATED_AFTER, errors
from steward.serializers.common import page_of
from steward.serializers.jobs import (
    JobConflictSerializer,
    JobRetryRequestSerializer,
    JobRetryResultSerializer,
    JobSerializer,
)
from steward.views.base import (
    StewardAPIView,
    choice_param,
    idempotent_response,
    page_response,
    run_operation,
)


def _job_filters(request):
    return {
        "kind": choice_param(request, "kind", services.JOB_KINDS),
        "status": choice_param(request, "status", Job.Status.values),
    }


class JobListView(StewardAPIView):
    permission_classes = [IsAuthenticated, CanViewJobs]

    @extend_schema(
        operation_id="jobs_list",
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, enum=list(services.JOB_KINDS)),
            OpenApiParameter("status", OpenApiTypes.STR, enum=list(Job.Status.values)),
            UPDATED_AFTER,
            LIMIT,
        ],
        responses={200: page_of(JobSerializer), **errors(400, 401, 403)},
    )
    def get(self, request):
        filters = _job_filters(request)
        limit = parse_limit(request.query_params.get("limit"))
        page = services.jobs_page(filters, request.query_params.get("updated_after"), limit)
        return page_response(JobSerializer, page)


class JobDetailView(StewardAPIView):
    permission_classes = [IsAuthenticated, CanViewJobs]

    @extend_schema(
        operation_id="jobs_retrieve", responses={200: JobSerializer, **errors(401, 403, 404)}
    )
    def get(self, request, job_id):
        return Response(JobSerializer(services.get_job(job_id)).data)


class JobRetryView(StewardAPIView):
    replays_idempotency_keys = True
    permission_classes = [IsAuthenticated, CanActOnJobs]

    @extend_schema(
        operation_id="jobs_retry",
        parameters=[IDEMPOTENCY_KEY],
        request=None,
        responses={
            200: JobSerializer,
            **errors(400, 401, 403, 404, 422),
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
        parameters=[IDEMPOTENCY_KEY],
        request=None,
        responses={
            200: JobSerializer,
            **errors(400, 401, 403, 404, 422),
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
        parameters=[IDEMPOTENCY_KEY],
        request=JobRetryRequestSerializer,
        responses={200: JobRetryResultSerializer, **errors(400, 401, 403, 422)},
    )
    def post(self, request):
        serializer = JobRetryRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data["kind"] and data["kind"] not in services.JOB_KINDS:
            raise validation_error("kind", f"Must be one of: {', '.join(services.JOB_KINDS)}.")

        def perform():
            jobs = services.retry_jobs_matching(
                request.user, {"kind": data["kind"], "status": data["status"]}, data["max_jobs"]
            )
            return status.HTTP_200_OK, {"retried": JobSerializer(jobs, many=True).data}

        return idempotent_response(request, perform)
