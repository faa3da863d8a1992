import hashlib
from datetime import timedelta

from django.utils import timezone
from rest_framework.test import APIClient

from steward.models import AccessToken, RefreshToken
from steward.tests.conftest import PASSWORD

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/me"


def login(api, username, password=PASSWORD):
    return api.post(LOGIN, {"username": username, "password": password}, format="json")


def bearer(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_login_returns_tokens_and_user(api, make_user):
    user = make_user("mia", roles=["moderator"], first_name="Mia", last_name="Moss")
    response = login(api, "mia")
    assert response.status_code == 200
    body = response.json()
    assert body["access_token"] and body["refresh_token"]
    assert body["access_expires_at"].endswith("Z")
    assert body["user"] == {
        "id": user.id,
        "username": "mia",
        "display_name": "Mia Moss",
        "roles": ["moderator"],
        "permissions": ["items.decide", "items.view"],
    }


def test_tokens_are_stored_hashed(api, make_user):
    make_user("mia")
    body = login(api, "mia").json()
    hashes = set(AccessToken.objects.values_list("token_hash", flat=True))
    hashes |= set(RefreshToken.objects.values_list("token_hash", flat=True))
    assert body["access_token"] not in hashes and body["refresh_token"] not in hashes
    assert len(hashes) == 2


def test_access_token_lifetime_follows_setting(api, make_user, settings):
    settings.STEWARD_ACCESS_TOKEN_TTL = 60
    make_user("mia")
    before = timezone.now()
    body = login(api, "mia").json()
    expires = AccessToken.objects.get().expires_at
    assert timedelta(seconds=59) < expires - before < timedelta(seconds=61)
    assert body["access_expires_at"].startswith(expires.strftime("%Y-%m-%dT%H:%M:%S"))


def test_wrong_password_and_unknown_user_are_the_same_401(api, make_user):
    make_user("mia")
    for username, password in [("mia", "nope"), ("nobody", PASSWORD)]:
        response = login(api, username, password)
        assert response.status_code == 401
        assert response.json() == {
            "code": "invalid_credentials",
            "message": "Wrong username or password.",
            "fields": {},
        }


def test_inactive_user_cannot_login(api, make_user):
    make_user("mia", is_active=False)
    assert login(api, "mia").json()["code"] == "invalid_credentials"


def test_login_requires_both_fields(api):
    response = api.post(LOGIN, {"username": "mia"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "password" in response.json()["fields"]


def test_me_lists_roles_and_permissions(make_user):
    make_user("sam", roles=["support", "moderator"])
    client = bearer(login(APIClient(), "sam").json()["access_token"])
    body = client.get(ME).json()
    assert body["roles"] == ["moderator", "support"]
    assert body["permissions"] == [
        "accounts.act",
        "accounts.view",
        "audit.view",
        "items.decide",
        "items.view",
    ]


def test_me_without_token_is_401(api):
    response = api.get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_bad_and_malformed_tokens_are_401(make_user):
    for header in ["Bearer nonsense", "Token abc", "Bearer", "Bearer a b"]:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)
        response = client.get(ME)
        assert response.status_code == 401, header
        assert response.json()["code"] == "not_authenticated"


def test_expired_access_token_is_token_expired(make_user):
    make_user("mia")
    token = login(APIClient(), "mia").json()["access_token"]
    AccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = bearer(token).get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"


def digest_of(body):
    text = f"{body['access_token']}\n{body['refresh_token']}"
    return hashlib.sha256(text.encode()).hexdigest()


def test_every_token_answer_carries_the_digest_of_its_tokens(api, make_user):
    # A client keeps no token that does not match: a damaged answer counts as lost.
    make_user("mia")
    first = login(api, "mia").json()
    assert first["token_digest"] == digest_of(first)
    second = api.post(REFRESH, {"refresh_token": first["refresh_token"]}, format="json").json()
    assert second["token_digest"] == digest_of(second) != first["token_digest"]


def test_a_refresh_retried_after_a_damaged_answer_gets_a_working_pair(api, make_user):
    # The client saw a digest mismatch, kept the token it presented and retries with it.
    make_user("mia")
    first = login(api, "mia").json()
    damaged = api.post(REFRESH, {"refresh_token": first["refresh_token"]}, format="json")
    assert damaged.status_code == 200
    retry = api.post(REFRESH, {"refresh_token": first["refresh_token"]}, format="json")
    assert retry.status_code == 200, retry.json()
    pair = retry.json()
    assert pair["token_digest"] == digest_of(pair)
    assert bearer(pair["access_token"]).get(ME).status_code == 200
    again = api.post(REFRESH, {"refresh_token": pair["refresh_token"]}, format="json")
    assert again.status_code == 200


def test_refresh_rotates_tokens(api, make_user):
    make_user("mia")
    first = login(api, "mia").json()
    response = api.post(REFRESH, {"refresh_token": first["refresh_token"]}, format="json")
    assert response.status_code == 200
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["user"]["username"] == "mia"
    assert bearer(second["access_token"]).get(ME).status_code == 200
    # The old access token stays valid until it expires; only reuse revokes the family.
    assert bearer(first["access_token"]).get(ME).status_code == 200


def test_refresh_reuse_revokes_the_whole_family(api, make_user, settings):
    # No grace window for a lost answer here: see test_refresh_grace.py for that.
    settings.STEWARD_REFRESH_REUSE_GRACE_SECONDS = 0
    make_user("mia")
    first = login(api, "mia").json()
    second = api.post(REFRESH, {"refresh_token": first["refresh_token"]}, format="json").json()

    reuse = api.post(REFRESH, {"refresh_token": first["refresh_token"]}, format="json")
    assert reuse.status_code == 401
    assert reuse.json()["code"] == "token_reused"

    # Everything in the family is dead now, including the legitimately rotated tokens.
    after = api.post(REFRESH, {"refresh_token": second["refresh_token"]}, format="json")
    assert after.status_code == 401
    assert after.json()["code"] == "not_authenticated"
    assert bearer(second["access_token"]).get(ME).status_code == 401


def test_reuse_does_not_touch_other_sessions(api, make_user):
    make_user("mia")
    stolen = login(api, "mia").json()
    other = login(api, "mia").json()
    api.post(REFRESH, {"refresh_token": stolen["refresh_token"]}, format="json")
    api.post(REFRESH, {"refresh_token": stolen["refresh_token"]}, format="json")
    assert bearer(other["access_token"]).get(ME).status_code == 200


def test_refresh_with_unknown_or_expired_token_is_401(api, make_user):
    make_user("mia")
    response = api.post(REFRESH, {"refresh_token": "stw_rt_unknown"}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    body = login(api, "mia").json()
    RefreshToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = api.post(REFRESH, {"refresh_token": body["refresh_token"]}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_logout_revokes_the_family(api, make_user):
    make_user("mia")
    body = login(api, "mia").json()
    response = api.post(LOGOUT, {"refresh_token": body["refresh_token"]}, format="json")
    assert response.status_code == 204
    assert bearer(body["access_token"]).get(ME).status_code == 401
    again = api.post(REFRESH, {"refresh_token": body["refresh_token"]}, format="json")
    assert again.status_code == 401


def test_logout_with_bearer_only(make_user):
    make_user("mia")
    body = login(APIClient(), "mia").json()
    client = bearer(body["access_token"])
    assert client.post(LOGOUT, {}, format="json").status_code == 204
    assert client.get(ME).status_code == 401


def test_logout_with_expired_access_token_and_refresh_token_still_works(make_user):
    make_user("mia")
    body = login(APIClient(), "mia").json()
    AccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    client = bearer(body["access_token"])
    response = client.post(LOGOUT, {"refresh_token": body["refresh_token"]}, format="json")
    assert response.status_code == 204
    again = APIClient().post(REFRESH, {"refresh_token": body["refresh_token"]}, format="json")
    assert again.status_code == 401
