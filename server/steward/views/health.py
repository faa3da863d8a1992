"""Health checks for load balancers and process supervisors: unauthenticated and cheap.

`health/live` answers while the process serves requests at all and touches nothing else:
use it to restart a stuck process. `health/ready` also asks the database for one row: use
it to send traffic only to processes that can serve it. A failed check answers 503 with
the API's error body. Neither needs the job brokers: a broker that is down is reported per
request (503 job_backend_unavailable) and never makes a web process unready.
"""

from django.db import DatabaseError, connection
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from steward.errors import StewardError
from steward.serializers.common import ErrorSerializer
from steward.serializers.health import HealthLiveSerializer, HealthReadySerializer
from steward.views.base import StewardAPIView


class DatabaseUnavailable(StewardError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "database_unavailable"
    default_detail = "The database did not answer; this process cannot serve requests now."


class HealthView(StewardAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response


class LiveView(HealthView):
    @extend_schema(
        operation_id="health_live",
        description="Liveness: 200 while this process serves requests. Touches neither the "
        "database nor any broker, so a database outage does not make a supervisor restart "
        "every process.",
        responses={200: HealthLiveSerializer},
        auth=[],
    )
    def get(self, request):
        return Response({"status": "ok"})


class ReadyView(HealthView):
    @extend_schema(
        operation_id="health_ready",
        description="Readiness: 200 when this process's database answers a query, else 503 "
        "database_unavailable. Route traffic only to processes that are ready.",
        responses={
            200: HealthReadySerializer,
            503: OpenApiResponse(
                ErrorSerializer, description="database_unavailable: the database did not answer."
            ),
        },
        auth=[],
    )
    def get(self, request):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except DatabaseError as error:
            raise DatabaseUnavailable() from error
        return Response({"status": "ok", "database": "ok"})
