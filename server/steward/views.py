"""HTTP layer of the Steward API: parse and validate, call services, serialize.

Every view sets its own authentication, permissions, parsers, renderers and exception
handler, so the product's global REST_FRAMEWORK settings cannot change the API contract.
"""

from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from steward import auth, services
from steward.errors import StewardError, exception_handler, validation_error
from steward.idempotency import run_idempotent
from steward.models import ReasonTemplate
from steward.pagination import parse_limit
from steward.permissions import CanDecideItems, CanViewAudit, CanViewItems, HasAnyRole
from steward.serializers import (
    AuditEventSerializer,
    AuditPageSerializer,
    ClaimResultSerializer,
    ConflictSerializer,
    DecisionRequestSerializer,
    DecisionResultSerializer,
    ErrorSerializer,
    ItemPageSerializer,
    ItemSerializer,
    LoginRequestSerializer,
    LogoutRequestSerializer,
    MeSerializer,
    QueueListSerializer,
    QueueSerializer,
    ReasonTemplateListSerializer,
    ReasonTemplateSerializer,
    RefreshRequestSerializer,
    TokenResponseSerializer,
)

_ERROR_DESCRIPTIONS = {
    400: "validation_error: malformed JSON, wrong types, unknown fields or bad parameters.",
    401: "not_authenticated, token_expired (or invalid_credentials / token_reused on auth).",
    403: "permission_denied: the user's roles do not grant this.",
    404: "not_found.",
    409: "stale_version, conflict or claimed; `current` holds the item as it is now.",
    422: "idempotency_key_reused: the Idempotency-Key was used for a different request.",
}

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Any unique string (a UUID). The same key and request replays the first "
    "response and applies nothing.",
)


def errors(*codes, conflict=False):
    """OpenAPI responses for the given error statuses, all with the error body."""
    responses = {}
    for code in codes:
        serializer = ConflictSerializer if (code == 409 and conflict) else ErrorSerializer
        responses[code] = OpenApiResponse(serializer, description=_ERROR_DESCRIPTIONS[code])
    return responses


class StewardAPIView(APIView):
    authentication_classes = [auth.BearerTokenAuthentication]
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]

    def get_exception_handler(self):
        return exception_handler

    def initial(self, request, *args, **kwargs):
        # NUL cannot be stored or compared by PostgreSQL; reject it before any query.
        for name, value in request.query_params.items():
            if "\x00" in value:
                raise validation_error(name, "Must not contain NUL characters.")
        super().initial(request, *args, **kwargs)


def _int_param(request, name, minimum=None):
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError:
        raise validation_error(name, "Must be an integer.") from None
    if minimum is not None and value < minimum:
        raise validation_error(name, f"Must be at least {minimum}.")
    return value


def _datetime_param(request, name):
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = parse_datetime(raw)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise validation_error(name, "Must be an ISO 8601 date-time with a time zone.")
    return value


def _token_body(issued):
    return TokenResponseSerializer(
        {
            "access_token": issued.access_token,
            "access_expires_at": issued.access_expires_at,
            "refresh_token": issued.refresh_token,
            "user": issued.user,
        }
    ).data


# Auth


class LoginView(StewardAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="auth_login",
        request=LoginRequestSerializer,
        responses={200: TokenResponseSerializer, **errors(400, 401)},
        auth=[],
    )
    def post(self, request):
        serializer = LoginRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issued = auth.login(**serializer.validated_data)
        return Response(_token_body(issued))


class RefreshView(StewardAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="auth_refresh",
        request=RefreshRequestSerializer,
        responses={200: TokenResponseSerializer, **errors(400, 401)},
        auth=[],
    )
    def post(self, request):
        serializer = RefreshRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issued = auth.refresh(serializer.validated_data["refresh_token"])
        return Response(_token_body(issued))


class LogoutView(StewardAPIView):
    # Authentication is optional here: an expired access token must not stop a logout.
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="auth_logout",
        request=LogoutRequestSerializer,
        responses={204: None, **errors(400)},
    )
    def post(self, request):
        serializer = LogoutRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        family = None
        try:
            result = auth.BearerTokenAuthentication().authenticate(request)
        except StewardError:
            result = None
        if result is not None:
            family = result[1].family
        auth.logout(serializer.validated_data.get("refresh_token"), family)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(StewardAPIView):
    @extend_schema(operation_id="me", responses={200: MeSerializer, **errors(401)})
    def get(self, request):
        return Response(MeSerializer(request.user).data)


# Queues and items


class QueueListView(StewardAPIView):
    permission_classes = [IsAuthenticated, CanViewItems]

    @extend_schema(
        operation_id="queues_list", responses={200: QueueListSerializer, **errors(401, 403)}
    )
    def get(self, request):
        queues = QueueSerializer(services.list_queues(), many=True).data
        return Response({"results": queues, "next_cursor": None})


class ItemListView(StewardAPIView):
    permission_classes = [IsAuthenticated, CanViewItems]

    @extend_schema(
        operation_id="items_list",
        parameters=[
            OpenApiParameter("queue", OpenApiTypes.INT, description="Only this queue's items."),
            OpenApiParameter(
                "updated_after",
                OpenApiTypes.STR,
                description="Opaque cursor: the next_cursor of the previous page.",
            ),
            OpenApiParameter("limit", OpenApiTypes.INT, description="1 to 500, default 100."),
        ],
        responses={200: ItemPageSerializer, **errors(400, 401, 403)},
    )
    def get(self, request):
        queue_id = _int_param(request, "queue")
        limit = parse_limit(request.query_params.get("limit"))
        page = services.list_items(queue_id, request.query_params.get("updated_after"), limit)
        return Response(
            {
                "results": ItemSerializer(page.rows, many=True).data,
                "next_cursor": page.next_cursor,
                "has_more": page.has_more,
            }
        )


class ItemDetailView(StewardAPIView):
    permission_classes = [IsAuthenticated, CanViewItems]

    @extend_schema(
        operation_id="items_retrieve", responses={200: ItemSerializer, **errors(401, 403, 404)}
    )
    def get(self, request, item_id):
        return Response(ItemSerializer(services.get_item(item_id)).data)


def _serialize_item(item):
    return ItemSerializer(item).data


class DecisionCreateView(StewardAPIView):
    permission_classes = [IsAuthenticated, CanDecideItems]

    @extend_schema(
        operation_id="items_decide",
        parameters=[IDEMPOTENCY_KEY],
        request=DecisionRequestSerializer,
        responses={
            201: DecisionResultSerializer,
            **errors(400, 401, 403, 404, 409, 422, conflict=True),
        },
    )
    def post(self, request, item_id):
        serializer = DecisionRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data

        def perform():
            decision, item = services.decide_item(
                request.user,
                item_id,
                data["action"],
                data["reason_code"],
                data["note"],
                data["base_version"],
                _serialize_item,
            )
            body = DecisionResultSerializer({"decision": decision, "item": item}).data
            return status.HTTP_201_CREATED, body

        return _idempotent_response(request, perform)


class ClaimView(StewardAPIView):
    permission_classes = [IsAuthenticated, CanDecideItems]

    @extend_schema(
        operation_id="items_claim",
        parameters=[IDEMPOTENCY_KEY],
        request=None,
        responses={200: ClaimResultSerializer, **errors(401, 403, 404, 409, 422, conflict=True)},
    )
    def post(self, request, item_id):
        def perform():
            item = services.claim_item(request.user, item_id, _serialize_item)
            return status.HTTP_200_OK, _claim_body(item)

        return _idempotent_response(request, perform)

    @extend_schema(
        operation_id="items_release_claim",
        parameters=[IDEMPOTENCY_KEY],
        request=None,
        responses={200: ClaimResultSerializer, **errors(401, 403, 404, 409, 422, conflict=True)},
    )
    def delete(self, request, item_id):
        def perform():
            item = services.release_claim(request.user, item_id, _serialize_item)
            return status.HTTP_200_OK, _claim_body(item)

        return _idempotent_response(request, perform)


def _claim_body(item):
    item_body = _serialize_item(item)
    return {"claim": item_body["claim"], "item": item_body}


def _idempotent_response(request, perform):
    status_code, body, replayed = run_idempotent(request, perform)
    response = Response(body, status=status_code)
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


# Audit


class AuditListView(StewardAPIView):
    permission_classes = [IsAuthenticated, CanViewAudit]

    @extend_schema(
        operation_id="audit_list",
        parameters=[
            OpenApiParameter("after_id", OpenApiTypes.INT, description="Events with a larger id."),
            OpenApiParameter("actor", OpenApiTypes.STR, description="Actor username."),
            OpenApiParameter("action", OpenApiTypes.STR, description="e.g. item.decide"),
            OpenApiParameter("target_type", OpenApiTypes.STR),
            OpenApiParameter("target_id", OpenApiTypes.STR),
            OpenApiParameter("created_after", OpenApiTypes.DATETIME),
            OpenApiParameter("created_before", OpenApiTypes.DATETIME),
            OpenApiParameter("limit", OpenApiTypes.INT, description="1 to 500, default 100."),
        ],
        responses={200: AuditPageSerializer, **errors(400, 401, 403)},
    )
    def get(self, request):
        params = request.query_params
        after_id = _int_param(request, "after_id", minimum=0)
        limit = parse_limit(params.get("limit"))
        filters = {
            "actor": params.get("actor"),
            "action": params.get("action"),
            "target_type": params.get("target_type"),
            "target_id": params.get("target_id"),
            "created_after": _datetime_param(request, "created_after"),
            "created_before": _datetime_param(request, "created_before"),
        }
        page = services.list_audit(filters, after_id, limit)
        return Response(
            {
                "results": AuditEventSerializer(page.rows, many=True).data,
                "next_cursor": page.next_cursor,
                "has_more": page.has_more,
            }
        )


# Reason templates


class ReasonTemplateListView(StewardAPIView):
    permission_classes = [IsAuthenticated, HasAnyRole]

    @extend_schema(
        operation_id="reason_templates_list",
        parameters=[
            OpenApiParameter(
                "scope", OpenApiTypes.STR, enum=[c for c, _ in ReasonTemplate.Scope.choices]
            )
        ],
        responses={200: ReasonTemplateListSerializer, **errors(400, 401, 403)},
    )
    def get(self, request):
        scope = request.query_params.get("scope") or None
        if scope is not None and scope not in ReasonTemplate.Scope.values:
            raise validation_error(
                "scope", f"Must be one of: {', '.join(ReasonTemplate.Scope.values)}."
            )
        templates = services.list_reason_templates(scope)
        return Response(
            {
                "results": ReasonTemplateSerializer(templates, many=True).data,
                "next_cursor": None,
            }
        )


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
