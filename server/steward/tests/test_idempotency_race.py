"""Two identical requests racing with one Idempotency-Key apply once and answer alike.

On PostgreSQL the unique (user, key) index makes the loser wait for the winner's commit,
then replay its response. SQLite serializes writers outright; that path is exercised by
test_served.py through gunicorn's two worker processes.
"""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from steward.models import AuditEvent, Decision
from steward.tests.conftest import client_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="threads share one SQLite test database"
    ),
]


def test_racing_duplicates_apply_once(make_user, make_item):
    user = make_user(roles=["moderator"])
    item = make_item()

    def post(_):
        try:
            client = client_for(user)
            response = client.post(
                f"/api/v1/items/{item.id}/decisions",
                {"action": "remove", "base_version": 1},
                format="json",
                HTTP_IDEMPOTENCY_KEY="same-key",
            )
            return response.status_code, response.json()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(post, range(8)))
    assert {status for status, _ in answers} == {201}
    assert all(body == answers[0][1] for _, body in answers)
    assert Decision.objects.count() == 1
    assert AuditEvent.objects.filter(action="item.decide").count() == 1
