"""A lost refresh answer does not sign the user out.

Refreshing rotates the refresh token. When the answer never reaches the client (sleep, a
profile switch aborting the request), the client retries with the token it still holds,
which the server has already marked used. Within STEWARD_REFRESH_REUSE_GRACE_SECONDS of
that rotation, and while none of the tokens it was rotated to has been used, the retry gets
a new pair in the same session; the pairs so issued are siblings, and the first one used
retires the others (which can then never be used). Any other reuse still revokes the whole
family.
"""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from steward import auth
from steward.errors import StewardError
from steward.models import RefreshToken, TokenFamily
from steward.tests.conftest import PASSWORD

REFRESH = "/api/v1/auth/refresh"
ME = "/api/v1/me"


def refresh(api, token):
    return api.post(REFRESH, {"refresh_token": token}, format="json")


def works(access_token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token}")
    return client.get(ME).status_code == 200


@pytest.fixture
def session(make_user, api):
    make_user("mia")
    return api.post(
        "/api/v1/auth/login", {"username": "mia", "password": PASSWORD}, format="json"
    ).json()


def test_a_retry_inside_the_window_gets_a_new_pair_and_the_lost_one_is_dead(api, session):
    lost = refresh(api, session["refresh_token"]).json()  # this answer never arrives
    retried = refresh(api, session["refresh_token"])
    assert retried.status_code == 200
    again = retried.json()
    assert again["refresh_token"] not in (lost["refresh_token"], session["refresh_token"])
    assert works(again["access_token"])
    # The session goes on: the new refresh token rotates as usual.
    later = refresh(api, again["refresh_token"])
    assert later.status_code == 200
    # The lost successor can never be used: presenting it is reuse, and ends the session.
    dead = refresh(api, lost["refresh_token"])
    assert dead.status_code == 401
    assert dead.json()["code"] == "token_reused"
    assert not works(later.json()["access_token"])


def test_a_retry_can_be_retried_while_the_window_lasts(api, session):
    refresh(api, session["refresh_token"])
    refresh(api, session["refresh_token"])  # that answer was lost too
    third = refresh(api, session["refresh_token"])
    assert third.status_code == 200
    assert refresh(api, third.json()["refresh_token"]).status_code == 200


def test_a_retry_after_the_window_revokes_the_family(api, session, settings):
    settings.STEWARD_REFRESH_REUSE_GRACE_SECONDS = 60
    lost = refresh(api, session["refresh_token"]).json()
    spent = RefreshToken.objects.get(token_hash=auth.hash_token(session["refresh_token"]))
    RefreshToken.objects.filter(pk=spent.pk).update(used_at=spent.used_at - timedelta(seconds=61))
    retried = refresh(api, session["refresh_token"])
    assert retried.status_code == 401
    assert retried.json()["code"] == "token_reused"
    assert refresh(api, lost["refresh_token"]).status_code == 401
    assert TokenFamily.objects.get().revoked_reason == "refresh_reused"


def test_a_retry_after_the_successor_was_used_revokes_the_family(api, session):
    second = refresh(api, session["refresh_token"]).json()
    third = refresh(api, second["refresh_token"]).json()
    retried = refresh(api, session["refresh_token"])
    assert retried.status_code == 401
    assert retried.json()["code"] == "token_reused"
    assert not works(third["access_token"])
    assert refresh(api, third["refresh_token"]).status_code == 401


def test_a_delayed_retry_does_not_retire_the_pair_the_client_kept(api, session):
    # The fault matrix found it: an app's refresh is lost, its retry gets a pair the app
    # keeps, and a copy of the first request held up in the network arrives afterwards.
    refresh(api, session["refresh_token"])  # lost
    kept = refresh(api, session["refresh_token"]).json()
    late = refresh(api, session["refresh_token"])  # the delayed copy, nobody reads it
    assert late.status_code == 200
    going_on = refresh(api, kept["refresh_token"])
    assert going_on.status_code == 200, going_on.json()
    assert works(going_on.json()["access_token"])
    # The late pair died when the kept one was used.
    assert refresh(api, late.json()["refresh_token"]).json()["code"] == "token_reused"


def test_a_zero_window_keeps_the_strict_rule(api, session, settings):
    settings.STEWARD_REFRESH_REUSE_GRACE_SECONDS = 0
    refresh(api, session["refresh_token"])
    assert refresh(api, session["refresh_token"]).json()["code"] == "token_reused"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs concurrent transactions on real connections; SQLite's IMMEDIATE "
    "transactions serialize the two retries outright",
)
def test_concurrent_retries_all_get_pairs_and_the_first_used_retires_the_rest(make_user):
    make_user("mia")
    first = auth.login("mia", PASSWORD)
    lost = auth.refresh(first.refresh_token)  # the answer that was lost
    start = threading.Barrier(4)
    outcomes = []

    def retry():
        try:
            start.wait(10)
            issued = auth.refresh(first.refresh_token)
            outcomes.append(("won", issued.refresh_token))
        except StewardError as error:
            outcomes.append(("lost", error.default_code))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=retry) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    # Whichever answer reaches the client, it can go on: every retry got a pair.
    assert sorted(outcome for outcome, _ in outcomes) == ["won"] * 4
    assert TokenFamily.objects.get().revoked_at is None
    kept, *others = [token for _, token in outcomes]
    auth.refresh(kept)
    # The pair that was used retired its siblings, the lost one among them.
    retired = RefreshToken.objects.filter(
        token_hash__in=[auth.hash_token(t) for t in [*others, lost.refresh_token]]
    )
    assert retired.count() == 4
    assert all(token.superseded_at is not None for token in retired)
    with pytest.raises(StewardError):
        auth.refresh(others[0])
    assert TokenFamily.objects.get().revoked_reason == "refresh_reused"
