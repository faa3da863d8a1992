"""One error shape for the whole API: {"code", "message", "fields"}.

Every error a client can cause (validation, parse, authentication, permission, 404, 405,
415, throttling, conflicts) goes through exception_handler, so clients can switch on
`code` alone. Unexpected exceptions become a JSON 500 with code server_error instead of
Django's HTML page.
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

logger = logging.getLogger("steward")


class StewardError(exceptions.APIException):
    """An API error with a stable code and optional extra top-level body members."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "validation_error"
    default_detail = "The request is invalid."

    def __init__(self, message=None, code=None, status_code=None, fields=None, extra=None):
        super().__init__(detail=message or self.default_detail, code=code or self.default_code)
        self.code = code or self.default_code
        self.message = str(message or self.default_detail)
        if status_code is not None:
            self.status_code = status_code
        self.fields = fields or {}
        self.extra = extra or {}


class InvalidCredentials(StewardError):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "invalid_credentials"
    default_detail = "Wrong username or password."


class NotAuthenticated(StewardError):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "not_authenticated"
    default_detail = "You are not signed in, or your session has ended. Sign in again."


class TokenExpired(StewardError):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "token_expired"
    default_detail = "Your access token has expired. Refresh it and retry."


class TokenReused(StewardError):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "token_reused"
    default_detail = (
        "This refresh token was already used, so the whole session has been revoked. Sign in again."
    )


class TooManyAttempts(StewardError):
    """429: sign-in is locked for a while (throttle.py). `wait` becomes Retry-After."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "too_many_attempts"
    default_detail = "Too many sign-in attempts. Try again later."

    def __init__(self, message=None, wait=None):
        super().__init__(message)
        self.wait = wait


class PayloadTooLarge(StewardError):
    """413: the request body is larger than STEWARD_MAX_BODY_BYTES (body_limit.py)."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"
    default_detail = "The request body is too large."


class Conflict(StewardError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The item changed; review it and try again."


class IdempotencyKeyReused(StewardError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = (
        "This Idempotency-Key was already used for a different request. "
        "Use a new key for a new request."
    )


def validation_error(field, message):
    """A 400 validation_error for one field, as raised outside serializers."""
    return StewardError(
        message=f"Invalid {field}: {message}",
        code="validation_error",
        fields={field: [message]},
    )


def error_body(code, message, fields=None, **extra):
    body = {"code": code, "message": message, "fields": fields or {}}
    body.update(extra)
    return body


def _flatten_fields(detail, prefix=""):
    """Turn DRF's nested ValidationError detail into {"dotted.name": ["message", ...]}."""
    fields = {}
    if isinstance(detail, dict):
        for name, value in detail.items():
            if prefix and name == "non_field_errors":
                key = prefix  # "operations", not "operations.non_field_errors"
            else:
                key = f"{prefix}.{name}" if prefix else str(name)
            fields.update(_flatten_fields(value, key))
    elif isinstance(detail, list):
        if all(not isinstance(value, (dict, list)) for value in detail):
            fields[prefix or "non_field_errors"] = [str(value) for value in detail]
        else:
            for index, value in enumerate(detail):
                key = f"{prefix}.{index}" if prefix else str(index)
                fields.update(_flatten_fields(value, key))
    else:
        fields[prefix or "non_field_errors"] = [str(detail)]
    return fields


def _validation_message(fields):
    parts = []
    for name, messages in fields.items():
        label = "Request" if name == "non_field_errors" else name
        parts.append(f"{label}: {' '.join(messages)}")
    return "Some fields are invalid. " + " ".join(parts) if parts else "The request is invalid."


_SIMPLE_CODES = {
    exceptions.ParseError: ("validation_error", None),
    exceptions.AuthenticationFailed: ("not_authenticated", None),
    exceptions.NotAuthenticated: ("not_authenticated", NotAuthenticated.default_detail),
    exceptions.PermissionDenied: ("permission_denied", "You do not have permission to do this."),
    exceptions.NotFound: ("not_found", None),
    exceptions.MethodNotAllowed: ("method_not_allowed", None),
    exceptions.NotAcceptable: ("not_acceptable", None),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", None),
    exceptions.Throttled: ("throttled", None),
}


def exception_handler(exc, context):
    """DRF exception handler producing {code, message, fields} for every error."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, RequestDataTooBig):
        return Response(
            error_body("payload_too_large", "The request body is too large."),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, SuspiciousOperation):
        return Response(
            error_body("validation_error", "The request was rejected as malformed."),
            status=status.HTTP_400_BAD_REQUEST,
        )

    headers = {}
    if isinstance(exc, exceptions.APIException):
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))

    if isinstance(exc, StewardError):
        body = error_body(exc.code, exc.message, exc.fields, **exc.extra)
        return Response(body, status=exc.status_code, headers=headers)

    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten_fields(exc.detail)
        body = error_body("validation_error", _validation_message(fields), fields)
        return Response(body, status=status.HTTP_400_BAD_REQUEST, headers=headers)

    for exc_class, (code, message) in _SIMPLE_CODES.items():
        if isinstance(exc, exc_class):
            text = message or str(exc.detail)
            if exc_class is exceptions.ParseError:
                text = f"The request body could not be parsed: {exc.detail}"
            return Response(error_body(code, text), status=exc.status_code, headers=headers)

    if isinstance(exc, exceptions.APIException):
        code = exc.default_code if isinstance(exc.default_code, str) else "error"
        return Response(error_body(code, str(exc.detail)), status=exc.status_code, headers=headers)

    logger.exception("Unhandled error in Steward API view", exc_info=exc)
    return Response(
        error_body("server_error", "The server hit an unexpected error. Try again later."),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )
