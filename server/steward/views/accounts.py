"""Accounts: search, detail, history, notes and actions."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from steward.models import Account
from steward.pagination import parse_limit
from steward.permissions import CanActOnAccounts, CanViewAccounts
from steward.schema import IDEMPOTENCY_KEY, LIMIT, UPDATED_AFTER, errors
from steward.serializers.accounts import (
    AccountActionRequestSerializer,
    AccountActionResultSerializer,
    AccountHistorySerializer,
    AccountNoteRequestSerializer,
    AccountNoteSerializer,
    AccountSerializer,
)
from steward.serializers.common import page_of
from steward.services import accounts as account_services
from steward.views.base import (
    StewardAPIView,
    choice_param,
    int_param,
    page_response,
    run_operation,
)


class AccountListView(StewardAPIView):
    permission_classes = [IsAuthenticated, CanViewAccounts]

    @extend_schema(
        operation_id="accounts_list",
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="Search username, email, name."),
            OpenApiParameter("status", OpenApiTypes.STR, enum=list(Account.Status.values)),
            UPDATED_AFTER,
            LIMIT,
        ],
        responses={200: page_of(AccountSerializer), **errors(400, 401, 403)},
    )
    def get(self, request):
        params = request.query_params
        query = (params.get("q") or "").strip()[:200] or None
        status_filter = choice_param(request, "status", Account.Status.values)
        limit = parse_limit(params.get("limit"))
        page = account_services.accounts_page(
            query, status_filter, params.get("updated_after"), limit
        )
        return page_response(AccountSerializer, page)


class AccountDetailView(StewardAPIView):
    permission_classes = [IsAuthenticated, CanViewAccounts]

    @extend_schema(
        operation_id="accounts_retrieve",
        responses={200: AccountSerializer, **errors(401, 403, 404)},
    )
    def get(self, request, account_id):
        return Response(AccountSerializer(account_services.get_account(account_id)).data)


class AccountHistoryView(StewardAPIView):
    permission_classes = [IsAuthenticated, CanViewAccounts]

    @extend_schema(
        operation_id="accounts_history",
        parameters=[LIMIT],
        responses={200: AccountHistorySerializer, **errors(400, 401, 403, 404)},
    )
    def get(self, request, account_id):
        limit = parse_limit(request.query_params.get("limit"))
        return Response(
            AccountHistorySerializer(account_services.account_history(account_id, limit)).data
        )


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
        responses={200: page_of(AccountNoteSerializer), **errors(400, 401, 403, 404)},
    )
    def get(self, request, account_id):
        after_id = int_param(request, "after_id", minimum=0)
        limit = parse_limit(request.query_params.get("limit"))
        page = account_services.list_account_notes(account_id, after_id, limit)
        return page_response(AccountNoteSerializer, page)

    @extend_schema(
        operation_id="accounts_notes_create",
        parameters=[IDEMPOTENCY_KEY],
        request=AccountNoteRequestSerializer,
        responses={201: AccountNoteSerializer, **errors(400, 401, 403, 404, 422)},
    )
    def post(self, request, account_id):
        return run_operation(request, "add_account_note", account_id)


class AccountActionView(StewardAPIView):
    replays_idempotency_keys = True
    permission_classes = [IsAuthenticated, CanActOnAccounts]

    @extend_schema(
        operation_id="accounts_act",
        description="Acts on the product's user behind the account. suspend: the user is "
        "deactivated (cannot sign in), every session ends, and the suspension ends by "
        "itself after duration_hours (a job on the product's backend). reactivate: ends it. "
        "force_logout: every session ends. send_password_reset: Django's own reset mail, "
        "as a background job (the job in the answer); 422 no_eligible_address when no "
        "mail can reach the user (no or invalid address, inactive, no usable password), "
        "with why. 409 when the user is gone from the product or, for reactivate, not "
        "suspended.",
        parameters=[IDEMPOTENCY_KEY],
        request=AccountActionRequestSerializer,
        responses={200: AccountActionResultSerializer, **errors(400, 401, 403, 404, 409, 422)},
    )
    def post(self, request, account_id):
        return run_operation(request, "account_action", account_id)
