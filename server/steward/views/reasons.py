"""Reason templates for decisions and account actions."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from steward.errors import validation_error
from steward.models import ReasonTemplate
from steward.pagination import parse_limit
from steward.permissions import HasAnyRole
from steward.schema import CURSOR_RULES, LIMIT, errors
from steward.serializers.common import page_of
from steward.serializers.items import ReasonTemplateSerializer
from steward.services import items as item_services
from steward.views.base import StewardAPIView, page_response


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
        responses={200: page_of(ReasonTemplateSerializer), **errors(400, 401, 403)},
    )
    def get(self, request):
        scope = request.query_params.get("scope") or None
        if scope is not None and scope not in ReasonTemplate.Scope.values:
            raise validation_error(
                "scope", f"Must be one of: {', '.join(ReasonTemplate.Scope.values)}."
            )
        if "updated_after" in request.query_params:
            limit = parse_limit(request.query_params.get("limit"))
            page = item_services.reason_templates_page(
                scope, request.query_params.get("updated_after"), limit
            )
            return page_response(ReasonTemplateSerializer, page)
        parse_limit(request.query_params.get("limit"))  # validated even where unused
        templates = item_services.list_reason_templates(scope)
        return Response(
            {
                "results": ReasonTemplateSerializer(templates, many=True).data,
                "next_cursor": None,
                "has_more": False,
            }
        )
