"""Sign-in, token and /me shapes."""

from rest_framework import serializers

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


class TokenResponseSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    access_expires_at = serializers.DateTimeField()
    refresh_token = serializers.CharField()
    user = MeSerializer()
