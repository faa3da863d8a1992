"""Queues, items, decisions and claims."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from steward.pagination import parse_limit
from steward.permissions import CanDecideItems, CanViewItems
from steward.schema import CURSOR_RULES, IDEMPOTENCY_KEY, LIMIT, UPDATED_AFTER, errors
from steward.serializers import feed_rows
from steward.serializers.common import page_of
from steward.serializers.items import (
    ClaimResultSerializer,
    DecisionRequestSerializer,
    DecisionResultSerializer,
    ItemSerializer,
    QueueSerializer,
)
from steward.services import items as item_services
from steward.views.base import (
    StewardAPIView,
    int_param,
    page_response,
    rows_page_response,
    run_operation,
)


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
        responses={200: page_of(QueueSerializer), **errors(400, 401, 403)},
    )
    def get(self, request):
        if "updated_after" in request.query_params:
            # Delta mode: keyset over (changed_seq, id), where a queue changes whenever
            # one of its items does (its counts move).
            limit = parse_limit(request.query_params.get("limit"))
            page = item_services.queues_page(request.query_params.get("updated_after"), limit)
            return page_response(QueueSerializer, page)
        parse_limit(request.query_params.get("limit"))  # validated even where unused
        queues = QueueSerializer(item_services.list_queues(), many=True).data
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
        responses={200: page_of(ItemSerializer), **errors(400, 401, 403)},
    )
    def get(self, request):
        queue_id = int_param(request, "queue")
        limit = parse_limit(request.query_params.get("limit"))
        cursor = request.query_params.get("updated_after")
        page = item_services.list_items(queue_id, cursor, limit, values=feed_rows.ITEMS.select)
        return rows_page_response(feed_rows.item_rows, page)


class ItemDetailView(StewardAPIView):
    permission_classes = [IsAuthenticated, CanViewItems]

    @extend_schema(
        operation_id="items_retrieve", responses={200: ItemSerializer, **errors(401, 403, 404)}
    )
    def get(self, request, item_id):
        return Response(ItemSerializer(item_services.get_item(item_id)).data)


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
        return run_operation(request, "decide_item", item_id)


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
        return run_operation(request, "claim_item", item_id)

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
        return run_operation(request, "release_item", item_id)
