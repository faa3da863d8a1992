"""Serializers every part of the API shares: strict request fields, the error body, user
references and the one page envelope of every list.

Request serializers reject unknown fields and wrong JSON types (a string where an integer
belongs, a number where a string belongs) with a readable message per field.
"""

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"not_an_integer": "Must be an integer."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("not_an_integer")
        return super().to_internal_value(data)


class StrictSerializer(serializers.Serializer):
    """Rejects members of the request body that the endpoint does not know."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": ["The request body must be a JSON object."]}
            )
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class EmptyRequestSerializer(StrictSerializer):
    """Operations that take no arguments still reject unknown ones."""


class ErrorSerializer(serializers.Serializer):
    """The body of every error response."""

    code = serializers.CharField(help_text="Stable snake_case code, e.g. validation_error.")
    message = serializers.CharField(help_text="A sentence a person can act on.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per request field; {} when the error is not about fields.",
    )


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


_PAGES = {}


def page_of(serializer_class, component: str | None = None):
    """The envelope of every list, with `serializer_class` rows as its results, named after
    them (ItemSerializer -> ItemPageSerializer, the ItemPage component of the contract)
    or after `component`. One class per row serializer, so the contract names it once."""
    if serializer_class not in _PAGES:
        name = component or serializer_class.__name__.removesuffix("Serializer") + "Page"
        fields = {
            "__doc__": "One page of a list, and where the next one starts.",
            "results": serializer_class(many=True),
            "next_cursor": serializers.CharField(
                allow_null=True,
                help_text="Opaque cursor of the page's last row: pass it back for the next "
                "page. Null when the page is empty (keep the cursor you had).",
            ),
            "has_more": serializers.BooleanField(),
            "total": serializers.IntegerField(
                allow_null=True,
                required=False,
                help_text="Rows in the whole list, on a first page (no cursor) only.",
            ),
        }
        _PAGES[serializer_class] = type(f"{name}Serializer", (serializers.Serializer,), fields)
    return _PAGES[serializer_class]


def page_body(serializer_class, page) -> dict:
    """The JSON body of a steward.pagination.Page of rows."""
    return {
        "results": serializer_class(page.rows, many=True).data,
        "next_cursor": page.next_cursor,
        "has_more": page.has_more,
        "total": page.total,
    }
