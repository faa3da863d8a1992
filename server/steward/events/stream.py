"""GET /events: the view, and the stream of one connection.

Under ASGI a stream registers with the process's hub (hub.py), lets go of the database
connection its request used, sends the current cursors of its collections, then a poke
whenever the hub finds one of them moved forward, a comment line as keep-alive every
KEEPALIVE_SECONDS, and ends after STEWARD_EVENTS_MAX_SECONDS (default 300), or when a
newer stream of the same session replaces it (the per-session cap, hub.py). Under WSGI a
held connection would pin a worker process, so there the stream sends the current cursors
once and ends with a `retry:` hint: the client reconnects later, which is polling in SSE
clothing.
"""

import json
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db import connection
from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer

from steward.events.cursors import CURSOR_NAMES, moved_forward, snapshot, visible_collections
from steward.events.process import get_hub
from steward.permissions import HasAnyRole
from steward.serializers.common import ErrorSerializer

KEEPALIVE_SECONDS = 15
WSGI_RETRY_MS = 5000


class EventMessageSerializer(serializers.Serializer):
    """One message of the stream, as an SSE parser sees it."""

    id = serializers.CharField(required=False)
    event = serializers.ChoiceField(choices=["changed"])
    data = serializers.CharField(
        help_text='JSON text: {"collection": one of ' + ", ".join(CURSOR_NAMES) + ', "cursor": '
        "the collection feed's cursor of its newest row, or null when it is empty}."
    )


class EventStreamRenderer(BaseRenderer):
    """Lets clients send `Accept: text/event-stream`; errors still go out as JSON."""

    media_type = "text/event-stream"
    format = "sse"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return json.dumps(data).encode("utf-8")


class _NoFormatOverride:
    URL_FORMAT_OVERRIDE = None


class HeaderOnlyNegotiation(DefaultContentNegotiation):
    """Chooses the media type from the Accept header only: `?format=` is not an API
    parameter, and an unknown one must not turn into a 404."""

    settings = _NoFormatOverride


def format_event(event_id: int, collection: str, cursor) -> str:
    data = json.dumps({"collection": collection, "cursor": cursor})
    return f"id: {event_id}\nevent: changed\ndata: {data}\n\n"


def wsgi_stream(collections):
    """One snapshot, then the end: a WSGI worker must not be held by an idle client."""
    yield f"retry: {WSGI_RETRY_MS}\n\n"
    for event_id, (name, cursor) in enumerate(snapshot(collections).items(), start=1):
        yield format_event(event_id, name, cursor)


def _release_request_connection():
    # Runs on the request's thread (thread-sensitive), whose connection it closes: the
    # stream lives as long as the request, and must not hold a connection all that time.
    if not connection.in_atomic_block:
        connection.close()


async def asgi_stream(collections, session, hub=None):
    lifetime = float(getattr(settings, "STEWARD_EVENTS_MAX_SECONDS", 300))
    started = last_sent = time.monotonic()
    await sync_to_async(_release_request_connection)()
    yield f"retry: {WSGI_RETRY_MS}\n\n"
    hub = hub or get_hub()
    subscription = await hub.subscribe(collections, session)
    try:
        event_id = 0
        sent = {}
        while True:
            if subscription.ended:
                yield ": replaced by a newer stream of this session\n\n"
                return
            for name in sorted(subscription.collections):
                cursor = hub.cursors.get(name)
                if name not in sent or moved_forward(sent[name], cursor):
                    event_id += 1
                    sent[name] = cursor
                    last_sent = time.monotonic()
                    yield format_event(event_id, name, cursor)
            now = time.monotonic()
            if now - started >= lifetime:
                return
            if now - last_sent >= KEEPALIVE_SECONDS:
                last_sent = now
                yield ": keep-alive\n\n"
            await subscription.wait(
                min(lifetime - (now - started), KEEPALIVE_SECONDS - (now - last_sent))
            )
    finally:
        hub.unsubscribe(subscription)


def session_of(request):
    """The session a stream counts against: its access token's family (auth.py)."""
    family_id = getattr(request.auth, "family_id", None)
    return ("family", family_id) if family_id else ("user", request.user.pk)


def event_stream_response(request, collections, session):
    if isinstance(request, ASGIRequest):
        stream = asgi_stream(collections, session)
    else:
        stream = wsgi_stream(collections)
    response = StreamingHttpResponse(stream, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


def _view_base():
    # Imported late: views imports this module's siblings, and this keeps one base class.
    from steward.views.base import StewardAPIView

    return StewardAPIView


class EventStreamView(_view_base()):
    permission_classes = [IsAuthenticated, HasAnyRole]
    renderer_classes = [JSONRenderer, EventStreamRenderer]
    content_negotiation_class = HeaderOnlyNegotiation

    @extend_schema(
        operation_id="events_stream",
        parameters=[OpenApiParameter("format", exclude=True)],
        responses={
            (200, "text/event-stream"): OpenApiResponse(
                EventMessageSerializer,
                description='`event: changed` with data {"collection", "cursor"} per '
                "collection the user may read: first the current cursors, then one event "
                "whenever a collection's feed serves rows past the cursor last announced "
                "(ASGI only; under WSGI the stream ends after the current cursors). A cursor "
                "is the one the collection's feed gives for its last row served now. A "
                "session keeps a few streams open per server process: opening one more "
                "ends its oldest.",
            ),
            401: OpenApiResponse(ErrorSerializer, description="not_authenticated."),
            403: OpenApiResponse(ErrorSerializer, description="permission_denied."),
        },
    )
    def get(self, request):
        return event_stream_response(
            request._request, visible_collections(request.user), session_of(request)
        )
