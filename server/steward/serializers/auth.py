"""Sign-in, token and /me shapes."""

import hashlib

from rest_framework import serializers

from steward.idempotency import retention
from steward.permissions import permissions_of, roles_of
from steward.serializers.common import StrictCharField, StrictSerializer


class LoginRequestSerializer(StrictSerializer):
    username = StrictCharField(max_length=150)
    password = StrictCharField(max_length=1024, trim_whitespace=False)


class RefreshRequestSerializer(StrictSerializer):
    refresh_token = StrictCharField(max_length=512)


class LogoutRequestSerializer(StrictSerializer):
    refresh_token = StrictCharField(max_length=512, required=False)


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.SerializerMethodField()
    roles = serializers.SerializerMethodField()
    permissions = serializers.SerializerMethodField()

    def get_display_name(self, user) -> str:
        return user.get_full_name() or user.get_username()

    def get_roles(self, user) -> list[str]:
        return roles_of(user)

    def get_permissions(self, user) -> list[str]:
        return permissions_of(user)


class MeResponseSerializer(MeSerializer):
    """GET /me: the user, and what the server promises this user's client."""

    idempotency_retention_seconds = serializers.SerializerMethodField(
        help_text="How long the server keeps the answer to a mutation sent with an "
        "Idempotency-Key (STEWARD_IDEMPOTENCY_RETENTION_SECONDS). An action queued longer "
        "ago than this may have been applied and forgotten; clients must not resend it "
        "blindly (the desktop client shows it as refused, with the reason)."
    )

    def get_idempotency_retention_seconds(self, user) -> int:
        return int(retention().total_seconds())


class TokenResponseSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    access_expires_at = serializers.DateTimeField()
    refresh_token = serializers.CharField()
    token_digest = serializers.CharField(
        help_text="SHA-256 (lowercase hex) of access_token, a newline and refresh_token. "
        "A client checks it and never keeps tokens that do not match: an answer damaged on "
        "the way is treated as lost, and the refresh is retried with the token presented "
        "(auth_refresh's grace period serves that retry)."
    )
    user = MeSerializer()


def token_digest(access_token: str, refresh_token: str) -> str:
    """The digest a token answer carries, so a damaged token is never kept (see above)."""
    return hashlib.sha256(f"{access_token}\n{refresh_token}".encode()).hexdigest()
