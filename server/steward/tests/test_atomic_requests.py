"""A product that sets ATOMIC_REQUESTS (a common Django setting) gets the same API: its
request-wide transaction does not wrap Steward's views, whose services keep their own
transactions and must commit some writes whatever the answer (views/base.py)."""

import pytest
from django.core.handlers.base import BaseHandler
from django.db import connection, transaction
from django.urls import resolve
from rest_framework.test import APIClient

from steward.models import TokenFamily
from steward.tests.conftest import PASSWORD

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"


@pytest.fixture
def atomic_requests(monkeypatch):
    """The product's DATABASES['default']['ATOMIC_REQUESTS'] = True, as Django reads it."""
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)


def test_the_products_request_transaction_wraps_its_views_but_not_stewards(atomic_requests):
    handler = BaseHandler()

    def product_view(request):
        return None

    assert handler.make_view_atomic(product_view) is not product_view
    for path in (LOGIN, "/api/v1/items", "/api/v1/mutations", "/api/v1/events"):
        view = resolve(path).func
        assert handler.make_view_atomic(view) is view, path


@pytest.mark.django_db(transaction=True)
def test_views_run_outside_a_request_transaction(atomic_requests, monkeypatch):
    from steward.views.health import LiveView

    seen = []
    real = LiveView.get

    def probe(self, request):
        seen.append(transaction.get_connection().in_atomic_block)
        return real(self, request)

    monkeypatch.setattr(LiveView, "get", probe)
    assert APIClient().get("/api/v1/health/live").status_code == 200
    assert seen == [False]


@pytest.mark.django_db(transaction=True)
def test_what_an_error_must_keep_is_kept(atomic_requests, make_user):
    make_user("mia")
    api = APIClient()
    first = api.post(LOGIN, {"username": "mia", "password": PASSWORD}, format="json").json()
    rotated = api.post(REFRESH, {"refresh_token": first["refresh_token"]}, format="json").json()
    api.post(REFRESH, {"refresh_token": rotated["refresh_token"]}, format="json")
    # The first token again, long after its successor was used: reuse, and the session
    # ends for good, though the answer is an error.
    reused = api.post(REFRESH, {"refresh_token": first["refresh_token"]}, format="json")
    assert reused.json()["code"] == "token_reused"
    assert TokenFamily.objects.get().revoked_reason == "refresh_reused"
    # Failed sign-ins are counted though each answer is a 401: the sixth is locked out.
    for _ in range(5):
        wrong = api.post(LOGIN, {"username": "mia", "password": "wrong"}, format="json")
        assert wrong.status_code == 401
    locked = api.post(LOGIN, {"username": "mia", "password": PASSWORD}, format="json")
    assert locked.status_code == 429
