"""OpenAPI support: the bearer token scheme for drf-spectacular, and a system check that
the project uses drf-spectacular's schema class (DRF only lets projects set it globally).
"""

from django.core import checks
from django.utils.module_loading import import_string
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework.settings import api_settings


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "steward.auth.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Opaque access token from POST /auth/login or /auth/refresh.",
        }


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
