"""HTTP layer of the Steward API: parse and validate, call services, serialize.

Every view sets its own authentication, permissions, parsers, renderers and exception
handler, so the product's global REST_FRAMEWORK settings cannot change the API contract.
"""

from datetime import UTC, timedelta

from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import JSONParser
from rest_framework.permissions import SAFE_METHODS, AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from steward import auth, operations, services
from steward.errors import StewardError, exception_handler, validation_error
from steward.idempotency import Replay, replay_before_checks, run_idempotent
from steward.models import Job, Member, ReasonTemplate
from steward.pagination import parse_limit
from steward.permissions import (
    CanActOnAccounts,
    CanActOnJobs,
    CanDecideItems,
    CanViewAccounts,
    CanViewAudit,
    CanViewItems,
    CanViewJobs,
    HasAnyRole,
)
from steward.schema import (
    AUDIT_AFTER_ID,
    AUDIT_CURSOR,
    CURSOR_RULES,
    IDEMPOTENCY_KEY,
    LIMIT,
    UPDATED_AFTER,
    errors,
)
from steward.serializers import (
    AccountActionRequestSerializer,
    AccountActionResultSerializer,
    AccountHistorySerializer,
    AccountNotePageSerializer,
    AccountNoteRequestSerializer,
    AccountNoteSerializer,
    AccountPageSerializer,
    AccountSerializer,
    AuditEventSerializer,
    AuditPageSerializer,
    ClaimResultSerializer,
    DecisionRequestSerializer,
    DecisionResultSerializer,
    ItemPageSerializer,
    ItemSerializer,
    JobConflictSerializer,
    JobPageSerializer,
    JobRetryRequestSerializer,
    JobRetryResultSerializer,
    JobSerializer,
    LoginRequestSerializer,
    LogoutRequestSerializer,
    MeSerializer,
    MutationBatchRequestSerializer,
    MutationBatchResultSerializer,
    QueuePageSerializer,
    QueueSerializer,
    ReasonTemplateDeltaSerializer,
    ReasonTemplatePageSerializer,
    RefreshRequestSerializer,
    TokenResponseSerializer,
)


class StewardAPIView(APIView):
    authentication_classes = [auth.BearerTokenAuthentication]
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    # Mutation views that honour Idempotency-Key: a key with a stored answer is replayed
    # before permissions and validation (see idempotency.py).
    replays_idempotency_keys = False

    def get_exception_handler(self):
        return exception_handler

    def check_permissions(self, request):
        if self.replays_idempotency_keys and request.method not in SAFE_METHODS:
            replay_before_checks(request)
        super().check_permissions(request)

    def handle_exception(self, exc):
        if isinstance(exc, Replay):
            return _replayed_response(exc.status_code, exc.body)
        return super().handle_exception(exc)

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


# The offsets time zones really use. Python accepts up to +-23:59 and PostgreSQL up to
# +-15:59, so an offset like +20:56 once reached the database and came back as a 500.
MIN_UTC_OFFSET = -timedelta(hours=12)
MAX_UTC_OFFSET = timedelta(hours=14)


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
    offset = value.utcoffset()
    if offset is None or not MIN_UTC_OFFSET <= offset <= MAX_UTC_OFFSET:
        raise validation_error(name, "The UTC offset must be between -12:00 and +14:00.")
    try:
        # PostgreSQL accepts UTC offsets up to +-15:59 only (Python allows +-23:59), and an
        # offset can push year 1 or 9999 out of range: normalize here, answer 400 there.
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise validation_error(name, "Is out of the supported date range.") from None


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
        description="Rotates the refresh token: the one presented is spent and a new pair "
        "is issued. Presenting a spent token again revokes the whole session (401 "
        "token_reused), except for a retry after a lost answer: within "
        "STEWARD_REFRESH_REUSE_GRACE_SECONDS (default 60) of the rotation, and while the "
        "token it was rotated to has never been used, the retry gets a new pair and that "
        "unused token is retired (presenting it later is reuse).",
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
        operation_id="queues_list",
        parameters=[
            OpenApiParameter(
                "updated_after",
                OpenApiTypes.STR,
                description="Delta mode when present (empty: from the beginning): pages by "
                "the later stamp of the queue and its items, and returns next_cursor and "
                "has_more. Without it, every queue by priority and next_cursor null. "
                + CURSOR_RULES,
            ),
            LIMIT,
        ],
        responses={200: QueuePageSerializer, **errors(400, 401, 403)},
    )
    def get(self, request):
        if "updated_after" in request.query_params:
            # Delta mode: keyset over (changed_seq, id), where a queue changes whenever
            # one of its items does (its counts move).
            limit = parse_limit(request.query_params.get("limit"))
            page = services.queues_page(request.query_params.get("updated_after"), limit)
            return _page_response(QueueSerializer, page)
        parse_limit(request.query_params.get("limit"))  # validated even where unused
        queues = QueueSerializer(services.list_queues(), many=True).data
        return Response({"results": queues, "next_cursor": None, "has_more": False})


class ItemListView(StewardAPIView):
    permission_classes = [IsAuthenticated, CanViewItems]

    @extend_schema(
        operation_id="items_list",
        parameters=[
            OpenApiParameter("queue", OpenApiTypes.INT, description="Only this queue's items."),
            UPDATED_AFTER,
            LIMIT,
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
                "total": page.total,
            }
        )


class ItemDetailView(StewardAPIView):
    permission_classes = [IsAuthenticated, CanViewItems]

    @extend_schema(
        operation_id="items_retrieve", responses={200: ItemSerializer, **errors(401, 403, 404)}
    )
    def get(self, request, item_id):
        return Response(ItemSerializer(services.get_item(item_id)).data)


class DecisionCreateView(StewardAPIView):
    replays_idempotency_keys = True
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
        return _run_operation(request, "decide_item", item_id)


class ClaimView(StewardAPIView):
    replays_idempotency_keys = True
    permission_classes = [IsAuthenticated, CanDecideItems]

    @extend_schema(
        operation_id="items_claim",
        parameters=[IDEMPOTENCY_KEY],
        request=None,
        responses={
            200: ClaimResultSerializer,
            **errors(400, 401, 403, 404, 409, 422, conflict=True),
        },
    )
    def post(self, request, item_id):
        return _run_operation(request, "claim_item", item_id)

    @extend_schema(
        operation_id="items_release_claim",
        parameters=[IDEMPOTENCY_KEY],
        request=None,
        responses={
            200: ClaimResultSerializer,
            **errors(400, 401, 403, 404, 409, 422, conflict=True),
        },
    )
    def delete(self, request, item_id):
        return _run_operation(request, "release_item", item_id)


def _run_operation(request, name, target_id):
    """A single mutation endpoint: the same operation POST /mutations runs in a batch."""
    operation = operations.OPERATIONS[name]
    data = operations.validated_args(operation, request.data)

    def perform():
        return operation.perform(request.user, target_id, data)

    return _idempotent_response(request, perform)


def _idempotent_response(request, perform):
    status_code, body, replayed = run_idempotent(request, perform)
    if replayed:
        return _replayed_response(status_code, body)
    return Response(body, status=status_code)


def _replayed_response(status_code, body):
    response = Response(body, status=status_code)
    response["Idempotent-Replayed"] = "true"
    return response


# Audit


class AuditListView(StewardAPIView):
    permission_classes = [IsAuthenticated, CanViewAudit]

    @extend_schema(
        operation_id="audit_list",
        parameters=[
            AUDIT_CURSOR,
            AUDIT_AFTER_ID,
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
        page = services.list_audit(filters, after_id, params.get("cursor"), limit)
        return Response(
            {
                "results": AuditEventSerializer(page.rows, many=True).data,
                "next_cursor": page.next_cursor,
                "has_more": page.has_more,
                "total": page.total,
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
            ),
            OpenApiParameter(
                "updated_after",
                OpenApiTypes.STR,
                description="Delta mode when present (empty: from the beginning): inactive "
                "templates included, with next_cursor and has_more. " + CURSOR_RULES,
            ),
            LIMIT,
        ],
        responses={200: ReasonTemplatePageSerializer, **errors(400, 401, 403)},
    )
    def get(self, request):
        scope = request.query_params.get("scope") or None
        if scope is not None and scope not in ReasonTemplate.Scope.values:
            raise validation_error(
                "scope", f"Must be one of: {', '.join(ReasonTemplate.Scope.values)}."
            )
        if "updated_after" in request.query_params:
            limit = parse_limit(request.query_params.get("limit"))
            page = services.reason_templates_page(
                scope, request.query_params.get("updated_after"), limit
            )
            return _page_response(ReasonTemplateDeltaSerializer, page)
        parse_limit(request.query_params.get("limit"))  # validated even where unused
        templates = services.list_reason_templates(scope)
        return Response(
            {
                "results": ReasonTemplateDeltaSerializer(templates, many=True).data,
                "next_cursor": None,
                "has_more": False,
            }
        )


def _page_response(serializer_class, page):
    return Response(
        {
            "results": serializer_class(page.rows, many=True).data,
            "next_cursor": page.next_cursor,
            "has_more": page.has_more,
            "total": page.total,
        }
    )


def _choice_param(request, name, choices):
    value = request.query_params.get(name) or None
    if value is not None and value not in choices:
        raise validation_error(name, f"Must be one of: {', '.join(choices)}.")
    return value


# Accounts


class AccountListView(StewardAPIView):
    permission_classes = [IsAuthenticated, CanViewAccounts]

    @extend_schema(
        operation_id="accounts_list",
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="Search username, email, name."),
            OpenApiParameter("status", OpenApiTypes.STR, enum=list(Member.Status.values)),
            UPDATED_AFTER,
            LIMIT,
        ],
        responses={200: AccountPageSerializer, **errors(400, 401, 403)},
    )
    def get(self, request):
        params = request.query_params
        query = (params.get("q") or "").strip()[:200] or None
        status_filter = _choice_param(request, "status", Member.Status.values)
        limit = parse_limit(params.get("limit"))
        page = services.accounts_page(query, status_filter, params.get("updated_after"), limit)
        return _page_response(AccountSerializer, page)


class AccountDetailView(StewardAPIView):
    permission_classes = [IsAuthenticated, CanViewAccounts]

    @extend_schema(
        operation_id="accounts_retrieve",
        responses={200: AccountSerializer, **errors(401, 403, 404)},
    )
    def get(self, request, account_id):
        return Response(AccountSerializer(services.get_account(account_id)).data)


class AccountHistoryView(StewardAPIView):
    permission_classes = [IsAuthenticated, CanViewAccounts]

    @extend_schema(
        operation_id="accounts_history",
        parameters=[LIMIT],
        responses={200: AccountHistorySerializer, **errors(400, 401, 403, 404)},
    )
    def get(self, request, account_id):
        limit = parse_limit(request.query_params.get("limit"))
        return Response(AccountHistorySerializer(services.account_history(account_id, limit)).data)


class AccountNotesView(StewardAPIView):
    replays_idempotency_keys = True

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsAuthenticated(), CanActOnAccounts()]
        return [IsAuthenticated(), CanViewAccounts()]

    @extend_schema(
        operation_id="accounts_notes_list",
        parameters=[
            OpenApiParameter("after_id", OpenApiTypes.INT, description="Notes with a larger id."),
            LIMIT,
        ],
        responses={200: AccountNotePageSerializer, **errors(400, 401, 403, 404)},
    )
    def get(self, request, account_id):
        after_id = _int_param(request, "after_id", minimum=0)
        limit = parse_limit(request.query_params.get("limit"))
        page = services.list_account_notes(account_id, after_id, limit)
        return _page_response(AccountNoteSerializer, page)

    @extend_schema(
        operation_id="accounts_notes_create",
        parameters=[IDEMPOTENCY_KEY],
        request=AccountNoteRequestSerializer,
        responses={201: AccountNoteSerializer, **errors(400, 401, 403, 404, 422)},
    )
    def post(self, request, account_id):
        return _run_operation(request, "add_account_note", account_id)


class AccountActionView(StewardAPIView):
    replays_idempotency_keys = True
    permission_classes = [IsAuthenticated, CanActOnAccounts]

    @extend_schema(
        operation_id="accounts_act",
        parameters=[IDEMPOTENCY_KEY],
        request=AccountActionRequestSerializer,
        responses={200: AccountActionResultSerializer, **errors(400, 401, 403, 404, 409, 422)},
    )
    def post(self, request, account_id):
        return _run_operation(request, "account_action", account_id)


# Jobs


def _job_filters(request):
    return {
        "kind": _choice_param(request, "kind", services.JOB_KINDS),
        "status": _choice_param(request, "status", Job.Status.values),
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
        responses={200: JobPageSerializer, **errors(400, 401, 403)},
    )
    def get(self, request):
        filters = _job_filters(request)
        limit = parse_limit(request.query_params.get("limit"))
        page = services.jobs_page(filters, request.query_params.get("updated_after"), limit)
        return _page_response(JobSerializer, page)


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
        return _run_operation(request, "retry_job", job_id)


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
        return _run_operation(request, "cancel_job", job_id)


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

        return _idempotent_response(request, perform)


# Batches


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
