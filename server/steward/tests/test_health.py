"""Health checks: unauthenticated, never cached, readiness asks the database."""

import pytest
from django.db import OperationalError, connection
from rest_framework.test import APIClient


@pytest.fixture
def anonymous():
    return APIClient()


def test_liveness_answers_without_a_token_or_the_database(anonymous):
    # No django_db mark: any query here would fail the test.
    response = anonymous.get("/api/v1/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_readiness_answers_when_the_database_does(anonymous):
    response = anonymous.get("/api/v1/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_readiness_is_a_503_with_the_error_body_when_the_database_does_not(anonymous, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = anonymous.get("/api/v1/health/ready")
    assert response.status_code == 503
    assert response.json() == {
        "code": "database_unavailable",
        "message": "The database did not answer; this process cannot serve requests now.",
        "fields": {},
    }
    assert response["Cache-Control"] == "no-store"


def test_health_checks_take_only_get(anonymous):
    response = anonymous.post("/api/v1/health/live", {}, format="json")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
