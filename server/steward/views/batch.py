"""Batches of mutations, the JSON 404 for unknown paths, and the OpenAPI document."""

from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from steward import operations
from steward.errors import exception_handler, validation_error
from steward.schema import errors
from steward.serializers.batch import (
    MutationBatchRequestSerializer,
    MutationBatchResultSerializer,
)
from steward.views.base import StewardAPIView


class MutationBatchView(StewardAPIView):
    # Any signed-in user: each entry replays its stored answer first, then checks its own
    # permission, so a user whose roles were all removed still gets the answers to actions
    # that were applied (and a 403 for anything new).
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="mutations_batch",
        request=MutationBatchRequestSerializer,
        responses={200: MutationBatchResultSerializer, **errors(400, 401, 403)},
        description="Runs up to 100 operations in order, each in its own transaction under "
        "its own idempotency key, answering each exactly as its single endpoint would. Any "
        "signed-in user may send a batch: an entry whose key has a stored answer replays "
        "it first, and every other entry then checks its own permission.",
    )
    def post(self, request):
        serializer = MutationBatchRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        operations_data = serializer.validated_data["operations"]
        keys = [entry["idempotency_key"] for entry in operations_data]
        if len(set(keys)) != len(keys):
            raise validation_error("operations", "Each operation needs its own idempotency_key.")
        results = [operations.run_batch_operation(request.user, entry) for entry in operations_data]
        return Response({"results": results})


class NotFoundView(StewardAPIView):
    """Unknown paths under the API prefix get the JSON error shape, not an HTML page."""

    authentication_classes = []
    permission_classes = [AllowAny]
    schema = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        raise NotFound("There is no such API endpoint.")


class SchemaView(SpectacularAPIView):
    """The OpenAPI document; errors keep the API's JSON error shape."""

    def get_exception_handler(self):
        return exception_handler
