"""Sessions end when the password changes, by whatever path, and at an absolute age."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AdminPasswordChangeForm, PasswordChangeForm
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from steward import auth
from steward.models import AccessToken, AuditEvent, RefreshToken, TokenFamily
from steward.tests.conftest import PASSWORD

REFRESH = "/api/v1/auth/refresh"
ME = "/api/v1/me"


def bearer(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def assert_ended(api, issued):
    assert bearer(issued.access_token).get(ME).status_code == 401
    response = api.post(REFRESH, {"refresh_token": issued.refresh_token}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def assert_alive(issued):
    assert bearer(issued.access_token).get(ME).status_code == 200


def change_with_set_password(user):
    user.set_password("a brand new passphrase")
    user.save()


def change_with_the_admin_form(user):
    form = AdminPasswordChangeForm(
        user,
        {
            "password1": "a brand new passphrase",
            "password2": "a brand new passphrase",
            "usable_password": "true",
        },
    )
    assert form.is_valid(), form.errors
    form.save()


def change_with_the_users_own_form(user):
    form = PasswordChangeForm(
        user,
        {
            "old_password": PASSWORD,
            "new_password1": "a brand new passphrase",
            "new_password2": "a brand new passphrase",
        },
    )
    assert form.is_valid(), form.errors
    form.save()


def change_on_a_fresh_instance(user):
    # Another process or a management command: a user loaded anew, not the one held.
    fresh = get_user_model().objects.get(pk=user.pk)
    fresh.set_unusable_password()
    fresh.save()


@pytest.mark.parametrize(
    "change",
    [
        change_with_set_password,
        change_with_the_admin_form,
        change_with_the_users_own_form,
        change_on_a_fresh_instance,
    ],
)
def test_a_password_change_ends_every_session(api, make_user, change):
    user = make_user("mia", roles=["moderator"])
    other = make_user("max", roles=["moderator"])
    sessions = [auth.login("mia", PASSWORD), auth.login("mia", PASSWORD)]
    others = auth.login("max", PASSWORD)
    change(user)
    for issued in sessions:
        assert_ended(api, issued)
    assert_alive(others)
    assert set(TokenFamily.objects.filter(user=user).values_list("revoked_reason", flat=True)) == {
        "password_changed"
    }
    event = AuditEvent.objects.get(action="user.sessions_revoked")
    assert (event.target_type, event.target_id) == ("user", str(user.pk))
    assert event.data == {"reason": "password_changed", "sessions": 2, "username": "mia"}
    assert other.pk != user.pk


def test_saves_that_keep_the_password_keep_the_sessions(make_user):
    user = make_user("mia", roles=["moderator"])
    issued = auth.login("mia", PASSWORD)
    user.first_name = "Mia"
    user.save()
    user.set_password(PASSWORD)  # the same password makes a new salt, so a new hash...
    user.password = get_user_model().objects.get(pk=user.pk).password  # ...put the old back
    user.save()
    assert_alive(issued)
    assert not AuditEvent.objects.filter(action="user.sessions_revoked").exists()


def test_a_new_password_lets_the_user_sign_in_again(api, make_user):
    user = make_user("mia", roles=["moderator"])
    auth.login("mia", PASSWORD)
    change_with_set_password(user)
    assert_alive(auth.login("mia", "a brand new passphrase"))


def test_sign_ins_do_not_read_the_stored_password(make_user):
    """Django's last_login update saves with update_fields: the hook must not query."""
    user = make_user("mia")
    user.last_login = timezone.now()
    with CaptureQueriesContext(connection) as queries:
        user.save(update_fields=["last_login"])
    assert not any("password" in query["sql"] for query in queries.captured_queries)


def test_a_user_with_no_sessions_gets_no_audit_event(make_user):
    change_with_set_password(make_user("mia"))
    assert not AuditEvent.objects.filter(action="user.sessions_revoked").exists()


def test_a_change_rolled_back_revokes_nothing(make_user):
    """The revocation is part of the save's transaction."""
    user = make_user("mia", roles=["moderator"])
    issued = auth.login("mia", PASSWORD)
    with pytest.raises(RuntimeError), transaction.atomic():
        change_with_set_password(user)
        raise RuntimeError("the product's view failed after the save")
    assert_alive(issued)
    assert not AuditEvent.objects.filter(action="user.sessions_revoked").exists()


# The absolute lifetime of a session.


def age_family(issued, seconds):
    family = AccessToken.objects.get(token_hash=auth.hash_token(issued.access_token)).family
    TokenFamily.objects.filter(pk=family.pk).update(
        created_at=timezone.now() - timedelta(seconds=seconds)
    )


def test_refresh_fails_once_the_session_is_older_than_its_max_age(api, make_user, settings):
    settings.STEWARD_SESSION_MAX_AGE_SECONDS = 3600
    make_user("mia", roles=["moderator"])
    issued = auth.login("mia", PASSWORD)
    age_family(issued, 3601)
    response = api.post(REFRESH, {"refresh_token": issued.refresh_token}, format="json")
    assert response.status_code == 401
    assert response.json() == {
        "code": "not_authenticated",
        "message": "This refresh token has expired. Sign in again.",
        "fields": {},
    }
    me = bearer(issued.access_token).get(ME)
    assert me.status_code == 401
    assert me.json()["code"] == "token_expired"


def test_refreshing_does_not_extend_the_session(api, make_user, settings):
    settings.STEWARD_SESSION_MAX_AGE_SECONDS = 3600
    make_user("mia", roles=["moderator"])
    issued = auth.login("mia", PASSWORD)
    age_family(issued, 3000)
    response = api.post(REFRESH, {"refresh_token": issued.refresh_token}, format="json")
    assert response.status_code == 200
    body = response.json()
    family = TokenFamily.objects.get()
    end = family.created_at + timedelta(seconds=3600)
    # Neither new token outlives the session: the access token would otherwise live 900 s.
    assert (
        AccessToken.objects.get(token_hash=auth.hash_token(body["access_token"])).expires_at == end
    )
    assert (
        RefreshToken.objects.get(token_hash=auth.hash_token(body["refresh_token"])).expires_at
        == end
    )


def test_sessions_last_thirty_days_by_default(make_user):
    make_user("mia")
    auth.login("mia", PASSWORD)
    family = TokenFamily.objects.get()
    assert auth.family_ends_at(family) - family.created_at == timedelta(days=30)
