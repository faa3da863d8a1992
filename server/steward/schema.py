"""OpenAPI support: the bearer token scheme for drf-spectacular, the parameters and error
responses the views share, and a system check that the project uses drf-spectacular's
schema class (DRF only lets projects set it globally).
"""

from django.core import checks
from django.utils.module_loading import import_string
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.settings import api_settings

from steward.serializers.common import ErrorSerializer
from steward.serializers.items import ConflictSerializer


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "steward.auth.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Opaque access token from POST /auth/login or /auth/refresh.",
        }


ERROR_DESCRIPTIONS = {
    400: "validation_error: malformed JSON, wrong types, unknown fields or bad parameters.",
    401: "not_authenticated, token_expired (or invalid_credentials / token_reused on auth).",
    403: "permission_denied: the user's roles do not grant this.",
    404: "not_found.",
    409: "stale_version, conflict or claimed; `current` holds the item as it is now.",
    422: "A refusal to keep for the user: idempotency_key_reused (the Idempotency-Key was "
    "used for a different request), or the endpoint's own code named in its description.",
    503: "job_backend_unavailable: the job backend's broker or database did not take it; "
    "nothing was applied, send it again later.",
}

LIMIT = OpenApiParameter("limit", OpenApiTypes.INT, description="1 to 500, default 100.")
CURSOR_RULES = (
    "Pages are ordered by the database's commit stamps (feed_seq, id) and serve only rows "
    "that no transaction still running can be ordered before, so following next_cursor "
    "never misses a committed row; a row changed again moves to the end of the feed. A "
    "cursor from before stamps (an updated_at cursor) restarts the feed from the beginning: "
    "the page is a first page, with total."
)
UPDATED_AFTER = OpenApiParameter(
    "updated_after",
    OpenApiTypes.STR,
    description="Opaque cursor: the next_cursor of the previous page (empty or absent: "
    "from the beginning). " + CURSOR_RULES,
)

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Any unique string (a UUID). The same key and request replays the first "
    "response and applies nothing; a stored answer is replayed before permissions and "
    "validation are checked, so it holds even if the user's roles changed since.",
)


def errors(*codes, conflict=False):
    """OpenAPI responses for the given error statuses, all with the error body."""
    responses = {}
    for code in codes:
        serializer = ConflictSerializer if (code == 409 and conflict) else ErrorSerializer
        responses[code] = OpenApiResponse(serializer, description=ERROR_DESCRIPTIONS[code])
    return responses


AUDIT_CURSOR = OpenApiParameter(
    "cursor",
    OpenApiTypes.STR,
    description="Opaque cursor: the next_cursor of the previous page (empty or absent: from "
    "the beginning). " + CURSOR_RULES,
)
AUDIT_AFTER_ID = OpenApiParameter(
    "after_id",
    OpenApiTypes.INT,
    description="Only events with a larger id: a filter, kept for clients that paged by id. "
    "Paging by id alone can miss an event whose transaction commits after a larger id's; "
    "follow next_cursor with `cursor` instead.",
)


@checks.register(checks.Tags.compatibility)
def check_schema_class(app_configs, **kwargs):
    schema_class = api_settings.DEFAULT_SCHEMA_CLASS
    if isinstance(schema_class, str):
        schema_class = import_string(schema_class)
    if isinstance(schema_class, type) and issubclass(schema_class, AutoSchema):
        return []
    return [
        checks.Warning(
            "GET <prefix>/schema needs drf-spectacular's schema class.",
            hint='Set REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = '
            '"drf_spectacular.openapi.AutoSchema".',
            id="steward.W001",
        )
    ]
