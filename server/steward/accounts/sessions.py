"""Ending a user's sessions: Django's session store, Steward's own tokens, and the
product's own tokens through hooks.

Django keeps no index of sessions by user, so Steward records each session key at
sign-in (the user_logged_in signal, a UserSession row) and ends those: every session
engine that stores sessions on the server (db, cached_db, cache, file) can delete a
session by its key. The signed_cookies engine keeps nothing on the server, so nothing can
end its sessions before they expire; a suspended user is still refused on their next
request there, because Django's ModelBackend refuses inactive users.

Sessions started before Steward was installed are found by `index_existing_sessions`
(the steward_index_sessions command) on the db and cached_db engines.

API tokens of the product (DRF's authtoken, JWT blacklists, OAuth grants) are the
product's: list functions taking the user and returning how many they ended in
STEWARD_SESSION_HOOKS; `end_drf_tokens` is one for rest_framework.authtoken.
"""

from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.module_loading import import_string


def session_store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def end_sessions(user) -> int:
    from steward import auth
    from steward.accounts.adapter import get_adapter
    from steward.models import Account, TokenFamily, UserSession

    ended = 0
    account = Account.objects.filter(user_key=get_adapter().key(user)).first()
    if account is not None:
        store = session_store()
        keys = list(account.sessions.values_list("session_key", flat=True))
        for key in keys:
            session = store(session_key=key)
            if session.exists(key):
                session.delete(key)
                ended += 1
        UserSession.objects.filter(account=account, session_key__in=keys).delete()
    # Steward's own sessions, should the user also be staff.
    families = TokenFamily.objects.filter(revoked_at__isnull=True)
    families = families.filter(user=user) if isinstance(user, get_user_model()) else families.none()
    for family in families:
        auth.revoke_family(family, "sessions_ended")
        ended += 1
    for path in getattr(settings, "STEWARD_SESSION_HOOKS", []):
        ended += int(import_string(path)(user) or 0)
    return ended


def record_session(sender, request, user, **kwargs):
    """user_logged_in: remember the new session's key for the user's account."""
    from steward.accounts.sync import refresh_account
    from steward.models import UserSession

    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None) if session is not None else None
    if not key:
        return
    account = refresh_account(user)
    UserSession.objects.update_or_create(session_key=key, defaults={"account": account})


def index_existing_sessions() -> int:
    """Record the keys of sessions stored before Steward was installed (db and cached_db
    engines, which keep them in django_session): decodes every unexpired session once."""
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from steward.accounts.adapter import get_adapter
    from steward.accounts.sync import refresh_account
    from steward.models import UserSession

    if settings.SESSION_ENGINE not in (
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cached_db",
    ):
        return 0
    adapter = get_adapter()
    recorded = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        user_id = session.get_decoded().get("_auth_user_id")
        user = adapter.get_user(str(user_id)) if user_id is not None else None
        if user is None:
            continue
        account = refresh_account(user)
        UserSession.objects.update_or_create(
            session_key=session.session_key, defaults={"account": account}
        )
        recorded += 1
    return recorded


def end_drf_tokens(user) -> int:
    """A STEWARD_SESSION_HOOKS entry for rest_framework.authtoken: delete the user's token."""
    from rest_framework.authtoken.models import Token

    deleted, _ = Token.objects.filter(user=user).delete()
    return deleted
