"""The accounts adapter: how Steward sees the product's users, and what it can do to them.

The default adapter works on AUTH_USER_MODEL: status from is_active (plus Steward's own
suspension record), roles from the user's groups, joined and last seen from date_joined
and last_login. A product that keeps its end users elsewhere replaces it with one setting:

    STEWARD_ACCOUNTS_ADAPTER = "myproduct.steward_accounts.CustomersAdapter"

A replacement subclasses AccountsAdapter and implements its methods for its own model.
"""

import functools
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.module_loading import import_string

from steward.accounts import sessions


@dataclass
class UserView:
    """What an Account row copies from its user."""

    username: str
    email: str
    display_name: str
    is_active: bool
    roles: list
    joined_at: datetime
    last_seen_at: datetime | None


class AccountsAdapter:
    """The interface. `key` and `get_user` map users to Account.user_key (text)."""

    def user_model(self):
        raise NotImplementedError

    def key(self, user) -> str:
        return str(user.pk)

    def get_user(self, key: str):
        """The user with this key, or None (deleted, or a key of another type)."""
        model = self.user_model()
        try:
            pk = model._meta.pk.to_python(key)
        except ValidationError:
            return None
        return model._base_manager.filter(pk=pk).first()

    def describe(self, user) -> UserView:
        raise NotImplementedError

    def describe_many(self, users) -> list:
        """describe() of each user, in order; an adapter may read them all at once."""
        return [self.describe(user) for user in users]

    def set_active(self, user, active: bool) -> None:
        """Let the user sign in again, or stop them (suspension)."""
        raise NotImplementedError

    def end_sessions(self, user) -> int:
        """End every session of the user; returns how many were ended."""
        return sessions.end_sessions(user)

    def password_reset_problem(self, user) -> str:
        """Why no reset mail can reach the user ("" when one can)."""
        raise NotImplementedError

    def send_password_reset(self, user) -> dict:
        raise NotImplementedError


class DefaultAccountsAdapter(AccountsAdapter):
    """AUTH_USER_MODEL, Django's sessions and Django's own password reset form."""

    def user_model(self):
        return get_user_model()

    def describe(self, user) -> UserView:
        groups = getattr(user, "groups", None)
        roles = sorted(groups.values_list("name", flat=True)) if groups is not None else []
        return self._view(user, roles)

    def describe_many(self, users) -> list:
        """One query for everyone's groups instead of one per user (a seed of 200,000
        members spent most of its account time in those queries)."""
        users = list(users)
        try:
            field = self.user_model()._meta.get_field("groups")
        except FieldDoesNotExist:
            field = None
        if field is None or not field.many_to_many:
            return super().describe_many(users)
        mine, theirs = field.m2m_field_name(), field.m2m_reverse_field_name()
        roles = {}
        for batch in range(0, len(users), 10_000):
            keys = [user.pk for user in users[batch : batch + 10_000]]
            memberships = field.remote_field.through.objects.filter(
                **{f"{mine}__in": keys}
            ).values_list(mine, f"{theirs}__name")
            for key, name in memberships:
                roles.setdefault(key, []).append(name)
        return [self._view(user, sorted(roles.get(user.pk, []))) for user in users]

    def _view(self, user, roles) -> UserView:
        full_name = user.get_full_name() if hasattr(user, "get_full_name") else ""
        return UserView(
            username=user.get_username()[:150],
            email=(getattr(user, user.get_email_field_name(), "") or "")[:254],
            display_name=(full_name or "")[:200],
            is_active=bool(getattr(user, "is_active", True)),
            roles=roles,
            joined_at=getattr(user, "date_joined", None) or timezone.now(),
            last_seen_at=getattr(user, "last_login", None),
        )

    def set_active(self, user, active: bool) -> None:
        user.is_active = active
        user.save(update_fields=["is_active"])

    def password_reset_problem(self, user) -> str:
        name = user.get_username()
        email = getattr(user, user.get_email_field_name(), "") or ""
        if not email.strip():
            return f"{name} has no email address, so no reset mail can be sent."
        try:
            validate_email(email)
        except ValidationError:
            return f"{name}'s email address {email!r} is not valid, so no reset mail can be sent."
        if not user.is_active:
            return (
                f"{name} is suspended or deactivated, and Django sends reset mail only to "
                "active users. Reactivate the account first."
            )
        if not user.has_usable_password():
            return (
                f"{name} has no password to reset (they sign in another way), so Django "
                "sends no reset mail."
            )
        return ""

    def send_password_reset(self, user) -> dict:
        """Django's own PasswordResetForm, for this one user (the form alone would mail
        every active user sharing the address)."""
        email = getattr(user, user.get_email_field_name())
        form = _OneUserPasswordResetForm(user, data={"email": email})
        if not form.is_valid():
            raise ValueError(f"{email!r} is not an address the reset form accepts")
        domain, use_https = public_site()
        options = getattr(settings, "STEWARD_PASSWORD_RESET_OPTIONS", {})
        form.save(domain_override=domain, use_https=use_https, **options)
        return {"sent_to": email}


class _OneUserPasswordResetForm(PasswordResetForm):
    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def get_users(self, email):
        return [self.user]


def public_site() -> tuple[str, bool]:
    """(domain, https) of the product's public site, for links in mail: STEWARD_PUBLIC_URL,
    else the current Site of django.contrib.sites."""
    url = getattr(settings, "STEWARD_PUBLIC_URL", "")
    if url:
        parts = urlsplit(url)
        return parts.netloc, parts.scheme == "https"
    from django.apps import apps

    if apps.is_installed("django.contrib.sites"):
        from django.contrib.sites.models import Site

        return Site.objects.get_current().domain, True
    raise ImproperlyConfigured(
        "Set STEWARD_PUBLIC_URL (e.g. 'https://forum.example') so password reset mail "
        "can link to the product's site."
    )


@functools.cache
def get_adapter() -> AccountsAdapter:
    path = getattr(
        settings, "STEWARD_ACCOUNTS_ADAPTER", "steward.accounts.adapter.DefaultAccountsAdapter"
    )
    return import_string(path)()
