"""Sign-in throttling: per username and per client address, 429 with Retry-After, and no
password check while locked out (steward/throttle.py)."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from steward import auth, throttle
from steward.errors import InvalidCredentials, TooManyAttempts
from steward.models import LoginThrottle
from steward.tests.conftest import PASSWORD

LOGIN = "/api/v1/auth/login"


def login(api, username, password=PASSWORD, **extra):
    return api.post(LOGIN, {"username": username, "password": password}, format="json", **extra)


def fail(api, username, times, **extra):
    for _ in range(times):
        assert login(api, username, "wrong", **extra).status_code == 401


@pytest.fixture
def counted_authenticate(monkeypatch):
    """Counts password checks made by steward.auth.login."""
    calls = []
    real = auth.authenticate

    def authenticate(**credentials):
        calls.append(credentials["username"])
        return real(**credentials)

    monkeypatch.setattr(auth, "authenticate", authenticate)
    return calls


def test_five_failures_lock_the_account_with_429_and_retry_after(api, make_user):
    make_user("mia")
    fail(api, "mia", 5)
    response = login(api, "mia")
    assert response.status_code == 429
    assert response["Retry-After"] == "300"
    assert response.json() == {
        "code": "too_many_attempts",
        "message": "Too many sign-in attempts for this account. Try again in 5 minutes.",
        "fields": {},
    }


def test_the_password_is_not_checked_while_locked(api, make_user, counted_authenticate):
    make_user("mia")
    fail(api, "mia", 5)
    assert len(counted_authenticate) == 5
    wrong, right = login(api, "mia", "wrong"), login(api, "mia")
    assert wrong.status_code == right.status_code == 429
    assert wrong.json() == right.json()
    assert len(counted_authenticate) == 5


def test_attempts_while_locked_do_not_extend_the_lockout(api, make_user):
    make_user("mia")
    fail(api, "mia", 5)
    until = LoginThrottle.objects.get(key="mia").locked_until
    for _ in range(3):
        assert login(api, "mia", "wrong").status_code == 429
    assert LoginThrottle.objects.get(key="mia").locked_until == until


def test_the_lockout_ends_and_grows_when_failures_go_on(api, make_user):
    make_user("mia")
    fail(api, "mia", 5)
    LoginThrottle.objects.filter(key="mia").update(locked_until=timezone.now())
    fail(api, "mia", 5)
    response = login(api, "mia")
    assert response.status_code == 429
    assert response["Retry-After"] == "600"
    assert "Try again in 10 minutes." in response.json()["message"]


def test_a_successful_login_resets_the_username(api, make_user):
    make_user("mia")
    fail(api, "mia", 4)
    assert login(api, "mia").status_code == 200
    fail(api, "mia", 4)
    assert login(api, "mia").status_code == 200
    assert not LoginThrottle.objects.filter(scope="username", key="mia").exists()


def test_failures_older_than_the_window_do_not_count(api, make_user):
    make_user("mia")
    fail(api, "mia", 4)
    LoginThrottle.objects.filter(key="mia").update(
        window_started_at=timezone.now() - timedelta(seconds=901)
    )
    fail(api, "mia", 4)
    assert login(api, "mia").status_code == 200


def test_unknown_usernames_are_throttled_alike(api, make_user):
    make_user("mia")
    fail(api, "mia", 5)
    fail(api, "nobody", 5)
    known, unknown = login(api, "mia"), login(api, "nobody")
    assert known.status_code == unknown.status_code == 429
    assert known.json() == unknown.json()


def test_case_variants_share_one_count(api, make_user):
    make_user("mia")
    for name in ["mia", "MIA", "Mia", "mIa", " mia"]:
        login(api, name, "wrong")
    assert login(api, "mia").status_code == 429


def test_other_accounts_are_not_locked_by_one(api, make_user):
    make_user("mia")
    make_user("max")
    fail(api, "mia", 5)
    assert login(api, "max").status_code == 200


def test_one_address_is_limited_across_usernames(api, make_user, settings):
    settings.STEWARD_LOGIN_MAX_FAILURES_PER_ADDRESS = 8
    make_user("mia")
    for n in range(8):
        login(api, f"guess{n}", "wrong", REMOTE_ADDR="203.0.113.9")
    response = login(api, "mia", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 429
    assert response.json()["message"] == (
        "Too many sign-in attempts from your network address. Try again in 5 minutes."
    )
    assert login(api, "mia", REMOTE_ADDR="203.0.113.10").status_code == 200


def test_success_does_not_reset_the_address(api, make_user, settings):
    settings.STEWARD_LOGIN_MAX_FAILURES_PER_ADDRESS = 8
    make_user("mia")
    for n in range(7):
        login(api, f"guess{n}", "wrong")
    assert login(api, "mia").status_code == 200
    login(api, "guess-last", "wrong")
    assert login(api, "mia").status_code == 429


def test_x_forwarded_for_is_ignored_unless_a_proxy_is_trusted(api, make_user, settings):
    settings.STEWARD_LOGIN_MAX_FAILURES_PER_ADDRESS = 3
    make_user("mia")
    for n in range(3):
        login(api, f"guess{n}", "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    # Every attempt came from REMOTE_ADDR 127.0.0.1, whatever the header claimed.
    assert login(api, "mia", HTTP_X_FORWARDED_FOR="198.51.100.77").status_code == 429


def test_a_trusted_proxy_names_the_client(api, make_user, settings):
    settings.STEWARD_LOGIN_MAX_FAILURES_PER_ADDRESS = 3
    settings.STEWARD_TRUSTED_PROXY_COUNT = 1
    make_user("mia")
    for n in range(3):
        # The client forges the left part; the proxy appends what it saw.
        login(api, f"guess{n}", "wrong", HTTP_X_FORWARDED_FOR=f"10.9.9.{n}, 203.0.113.5")
    assert LoginThrottle.objects.filter(scope="address", key="203.0.113.5").exists()
    assert login(api, "mia", HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 429
    assert login(api, "mia", HTTP_X_FORWARDED_FOR="203.0.113.6").status_code == 200


@pytest.mark.parametrize(
    "remote, forwarded, proxies, expected",
    [
        ("192.0.2.1", "", 0, "192.0.2.1"),
        ("192.0.2.1", "198.51.100.7", 0, "192.0.2.1"),
        ("192.0.2.1", "198.51.100.7", 1, "198.51.100.7"),
        ("192.0.2.1", "6.6.6.6, 198.51.100.7", 1, "198.51.100.7"),
        ("192.0.2.1", "6.6.6.6, 198.51.100.7, 10.0.0.2", 2, "198.51.100.7"),
        # Fewer hops than proxies: the request did not come through them.
        ("192.0.2.1", "198.51.100.7", 2, "192.0.2.1"),
        ("2001:db8:1:2:3:4:5:6", "", 0, "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.1", "", 0, "192.0.2.1"),
        ("", "", 0, "unknown"),
    ],
)
def test_client_address(rf, settings, remote, forwarded, proxies, expected):
    settings.STEWARD_TRUSTED_PROXY_COUNT = proxies
    request = rf.post(LOGIN, REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert throttle.client_address(request) == expected


@pytest.mark.parametrize(
    "seconds, words",
    [(1, "1 second"), (45, "45 seconds"), (60, "1 minute"), (61, "2 minutes"),
     (300, "5 minutes"), (5399, "90 minutes"), (5400, "2 hours"), (86400, "24 hours")],
)  # fmt: skip
def test_describe_wait(seconds, words):
    assert throttle.describe_wait(seconds) == words


def test_lockouts_are_capped_at_a_day(db):
    now = timezone.now()
    LoginThrottle.objects.create(
        scope="username", key="mia", window_started_at=now, last_failure_at=now, lockouts=40
    )
    for _ in range(5):
        throttle.record_failure("mia", None, now)
    assert LoginThrottle.objects.get(key="mia").locked_until == now + timedelta(days=1)


def test_steward_sweep_forgets_quiet_records(api, make_user):
    make_user("mia")
    fail(api, "mia", 5)
    fail(api, "max", 1)
    day_ago = timezone.now() - timedelta(days=1, seconds=1)
    LoginThrottle.objects.filter(key="max").update(last_failure_at=day_ago)
    # Locked until later: kept even though its last failure is old.
    LoginThrottle.objects.filter(key="mia").update(last_failure_at=day_ago)
    call_command("steward_sweep", "--skip-accounts", stdout=StringIO())
    assert set(LoginThrottle.objects.values_list("key", flat=True)) == {"mia", "127.0.0.1"}


def test_auth_login_without_an_address_counts_the_username(make_user):
    make_user("mia")
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            auth.login("mia", "wrong")
    with pytest.raises(TooManyAttempts):
        auth.login("mia", PASSWORD)
