"""The audit log."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import IsAuthenticated

from steward.pagination import parse_limit
from steward.permissions import CanViewAudit
from steward.schema import AUDIT_AFTER_ID, AUDIT_CURSOR, errors
from steward.serializers import feed_rows
from steward.serializers.audit import AuditEventSerializer
from steward.serializers.common import page_of
from steward.services import audit as audit_services
from steward.views.base import StewardAPIView, datetime_param, int_param, rows_page_response


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
        responses={200: page_of(AuditEventSerializer, "AuditPage"), **errors(400, 401, 403)},
    )
    def get(self, request):
        params = request.query_params
        after_id = int_param(request, "after_id", minimum=0)
        limit = parse_limit(params.get("limit"))
        filters = {
            "actor": params.get("actor"),
            "action": params.get("action"),
            "target_type": params.get("target_type"),
            "target_id": params.get("target_id"),
            "created_after": datetime_param(request, "created_after"),
            "created_before": datetime_param(request, "created_before"),
        }
        page = audit_services.list_audit(
            filters, after_id, params.get("cursor"), limit, values=feed_rows.AUDIT.select
        )
        return rows_page_response(feed_rows.audit_rows, page)
