"""api/openapi.yaml is generated from the server; these tests fail when it is stale."""

from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.db import connection

COMMITTED = Path(__file__).resolve().parents[3] / "api" / "openapi.yaml"
REGENERATE = "cd server && ../.venv/bin/python manage.py spectacular --file ../api/openapi.yaml"


def generate():
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    return out.getvalue()


@pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="api/openapi.yaml is generated on SQLite: Django takes the integer bounds of model "
    "fields from the database backend, so PostgreSQL gives other maximums.",
)
def test_committed_openapi_is_up_to_date():
    assert COMMITTED.read_text() == generate(), f"api/openapi.yaml is stale: run {REGENERATE}"


# Endpoints that answer without a token, so never with a 401.
UNAUTHENTICATED = {
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    "/api/v1/auth/logout",
    "/api/v1/health/live",
    "/api/v1/health/ready",
}


def test_every_error_response_uses_the_error_shape():
    schema = yaml.safe_load(generate())
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            statuses = operation["responses"]
            if path not in UNAUTHENTICATED:
                assert "401" in statuses, (method, path)
            for status, response in statuses.items():
                if status.startswith("4"):
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref.split("/")[-1] in {"Error", "Conflict", "JobConflict"}, (
                        method,
                        path,
                        status,
                    )
