"""Health check shapes."""

from rest_framework import serializers


class HealthLiveSerializer(serializers.Serializer):
    status = serializers.CharField(help_text='"ok".')


class HealthReadySerializer(serializers.Serializer):
    status = serializers.CharField(help_text='"ok".')
    database = serializers.CharField(
        help_text='"ok": the database answered a query from this process.'
    )
