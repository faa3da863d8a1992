"""The base of every Steward API view and the helpers the views share: query parameters,
page bodies, and running a mutation under its Idempotency-Key.

Every view sets its own authentication, permissions, parsers, renderers and exception
handler, so the product's global REST_FRAMEWORK settings cannot change the API contract.
"""

from datetime import UTC, timedelta

from django.db import connections, transaction
from django.utils.dateparse import parse_datetime
from rest_framework.parsers import JSONParser
from rest_framework.permissions import SAFE_METHODS, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from steward import auth, operations
from steward.body_limit import enforce_body_limit
from steward.errors import exception_handler, validation_error
from steward.idempotency import Replay, replay_before_checks, run_idempotent
from steward.serializers.common import page_body


# The product's ATOMIC_REQUESTS does not wrap Steward's views (`as_view`). Steward's
# services open their own transactions, one per mutation and one per entry of a batch,
# and some errors must keep what they wrote: a failed sign-in's count, the revocation of
# a session whose refresh token was reused. Inside a request-wide transaction those
# writes would share the fate of the answer, a batch would hold every entry's row locks
# until its last entry, and on PostgreSQL its feed stamps would hold the feeds' horizon
# back for the whole request. (A comment, not a docstring: the schema would show it.)
class StewardAPIView(APIView):
    authentication_classes = [auth.BearerTokenAuthentication]
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    # Mutation views that honour Idempotency-Key: a key with a stored answer is replayed
    # before permissions and validation (see idempotency.py).
    replays_idempotency_keys = False

    @classmethod
    def as_view(cls, **initkwargs):
        view = super().as_view(**initkwargs)
        for alias in connections:
            view = transaction.non_atomic_requests(using=alias)(view)
        return view

    def get_exception_handler(self):
        return exception_handler

    def check_permissions(self, request):
        if self.replays_idempotency_keys and request.method not in SAFE_METHODS:
            replay_before_checks(request)
        super().check_permissions(request)

    def handle_exception(self, exc):
        if isinstance(exc, Replay):
            return replayed_response(exc.status_code, exc.body)
        return super().handle_exception(exc)

    def initial(self, request, *args, **kwargs):
        # Before anything reads the body: a body over STEWARD_MAX_BODY_BYTES is refused.
        enforce_body_limit(request._request)
        # NUL cannot be stored or compared by PostgreSQL; reject it before any query.
        for name, value in request.query_params.items():
            if "\x00" in value:
                raise validation_error(name, "Must not contain NUL characters.")
        super().initial(request, *args, **kwargs)


def int_param(request, name, minimum=None):
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError:
        raise validation_error(name, "Must be an integer.") from None
    if minimum is not None and value < minimum:
        raise validation_error(name, f"Must be at least {minimum}.")
    return value


# The offsets time zones really use. Python accepts up to +-23:59 and PostgreSQL up to
# +-15:59, so an offset like +20:56 once reached the database and came back as a 500.
MIN_UTC_OFFSET = -timedelta(hours=12)
MAX_UTC_OFFSET = timedelta(hours=14)


def datetime_param(request, name):
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = parse_datetime(raw)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise validation_error(name, "Must be an ISO 8601 date-time with a time zone.")
    offset = value.utcoffset()
    if offset is None or not MIN_UTC_OFFSET <= offset <= MAX_UTC_OFFSET:
        raise validation_error(name, "The UTC offset must be between -12:00 and +14:00.")
    try:
        # PostgreSQL accepts UTC offsets up to +-15:59 only (Python allows +-23:59), and an
        # offset can push year 1 or 9999 out of range: normalize here, answer 400 there.
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise validation_error(name, "Is out of the supported date range.") from None


def run_operation(request, name, target_id):
    """A single mutation endpoint: the same operation POST /mutations runs in a batch."""
    operation = operations.OPERATIONS[name]
    data = operations.validated_args(operation, request.data)

    def perform():
        return operation.perform(request.user, target_id, data)

    return idempotent_response(request, perform)


def idempotent_response(request, perform):
    status_code, body, replayed = run_idempotent(request, perform)
    if replayed:
        return replayed_response(status_code, body)
    return Response(body, status=status_code)


def replayed_response(status_code, body):
    response = Response(body, status=status_code)
    response["Idempotent-Replayed"] = "true"
    return response


def page_response(serializer_class, page):
    return Response(page_body(serializer_class, page))


def rows_page_response(write_rows, page):
    """A page whose rows are values() dicts, written by a serializers.feed_rows writer."""
    return Response(
        {
            "results": write_rows(page.rows),
            "next_cursor": page.next_cursor,
            "has_more": page.has_more,
            "total": page.total,
        }
    )


def choice_param(request, name, choices):
    value = request.query_params.get(name) or None
    if value is not None and value not in choices:
        raise validation_error(name, f"Must be one of: {', '.join(choices)}.")
    return value
