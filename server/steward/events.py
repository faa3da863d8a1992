"""GET /events: a Server-Sent Events stream of pokes, never of data.

Each event says "collection X has changed up to cursor C":

    event: changed
    data: {"collection": "items", "cursor": "<the feed's cursor of the last row it serves>"}

and the client then pulls that collection's delta feed with its own cursor. The cursor is
computed under the same horizon as the feeds (feeds.py), so a poke never names a row the
feed does not serve yet, and rows the horizon releases later move it. The stream is
an optimisation: polling the same feeds stays correct, so nothing is lost when the stream
drops, and the server keeps no per-client state.

Served under ASGI (uvicorn demo.asgi:application), a connection is a coroutine that checks
the collections' newest cursors every STEWARD_EVENTS_POLL_SECONDS (default 1) and stays
open for STEWARD_EVENTS_MAX_SECONDS (default 300), with a comment line as keep-alive every
15 s. Under WSGI a held connection would pin a worker process, so there the stream sends the
current cursors once and ends with a `retry:` hint: the client reconnects later, which is
polling in SSE clothing.
"""

import asyncio
import json
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db import close_old_connections, connection
from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer

from steward.feeds import decode_cursor, newest_cursor
from steward.models import Account, AuditEvent, Item, Job, ReasonTemplate
from steward.permissions import HasAnyRole, has_permission_code
from steward.serializers.common import ErrorSerializer
from steward.services import items as item_services

CURSOR_NAMES = ("accounts", "audit", "items", "jobs", "queues", "reason_templates")


class EventMessageSerializer(serializers.Serializer):
    """One message of the stream, as an SSE parser sees it."""

    id = serializers.CharField(required=False)
    event = serializers.ChoiceField(choices=["changed"])
    data = serializers.CharField(
        help_text='JSON text: {"collection": one of ' + ", ".join(CURSOR_NAMES) + ', "cursor": '
        "the collection feed's cursor of its newest row, or null when it is empty}."
    )


KEEPALIVE_SECONDS = 15
WSGI_RETRY_MS = 5000


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


def visible_collections(user) -> list[str]:
    collections = ["reason_templates"]
    if has_permission_code(user, "items.view"):
        collections += ["items", "queues"]
    if has_permission_code(user, "accounts.view"):
        collections.append("accounts")
    if has_permission_code(user, "audit.view"):
        collections.append("audit")
    if has_permission_code(user, "jobs.view"):
        collections.append("jobs")
    return sorted(collections)


# Each poke names the cursor of the last row its feed serves now, under the same horizon
# (feeds.py): a poke never names a row the feed holds back, and a row that the horizon
# releases moves the cursor, so the stream pokes for it then.
CURSORS = {
    "items": lambda: newest_cursor(Item.objects.all()),
    "queues": lambda: newest_cursor(item_services.queue_queryset(), field="changed_seq"),
    "reason_templates": lambda: newest_cursor(ReasonTemplate.objects.all()),
    "accounts": lambda: newest_cursor(Account.objects.all()),
    "audit": lambda: newest_cursor(AuditEvent.objects.all()),
    "jobs": lambda: newest_cursor(Job.objects.all()),
}


def moved_forward(previous: str | None, current: str | None) -> bool:
    """Whether `current` names rows past `previous`. The newest row a feed serves can
    step back (it changed again, and its new stamp waits above the horizon); that brings
    nothing new, so it is no reason to poke. Every row the horizon releases later sorts
    after everything served before it, so a forward move misses nothing."""
    if current is None:
        return False
    return previous is None or decode_cursor(current) > decode_cursor(previous)


def snapshot(collections) -> dict:
    return {name: CURSORS[name]() for name in collections}


def _long_lived_snapshot(collections) -> dict:
    # A stream outlives the request cycle that normally recycles connections.
    close_old_connections()
    return snapshot(collections)


def format_event(event_id: int, collection: str, cursor) -> str:
    data = json.dumps({"collection": collection, "cursor": cursor})
    return f"id: {event_id}\nevent: changed\ndata: {data}\n\n"


def wsgi_stream(collections):
    """One snapshot, then the end: a WSGI worker must not be held by an idle client."""
    yield f"retry: {WSGI_RETRY_MS}\n\n"
    for event_id, (name, cursor) in enumerate(snapshot(collections).items(), start=1):
        yield format_event(event_id, name, cursor)


async def asgi_stream(collections):
    poll = float(getattr(settings, "STEWARD_EVENTS_POLL_SECONDS", 1.0))
    lifetime = float(getattr(settings, "STEWARD_EVENTS_MAX_SECONDS", 300))
    take_snapshot = sync_to_async(_long_lived_snapshot)
    started = last_sent = time.monotonic()
    event_id = 0
    sent = {}
    yield f"retry: {WSGI_RETRY_MS}\n\n"
    try:
        while time.monotonic() - started < lifetime:
            current = await take_snapshot(collections)
            for name, cursor in current.items():
                if name not in sent or moved_forward(sent[name], cursor):
                    event_id += 1
                    sent[name] = cursor
                    last_sent = time.monotonic()
                    yield format_event(event_id, name, cursor)
            if time.monotonic() - last_sent >= KEEPALIVE_SECONDS:
                last_sent = time.monotonic()
                yield ": keep-alive\n\n"
            await asyncio.sleep(poll)
    finally:
        await sync_to_async(connection.close)()


def event_stream_response(request, collections):
    if isinstance(request, ASGIRequest):
        stream = asgi_stream(collections)
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
                "is the one the collection's feed gives for its last row served now.",
            ),
            401: OpenApiResponse(ErrorSerializer, description="not_authenticated."),
            403: OpenApiResponse(ErrorSerializer, description="permission_denied."),
        },
    )
    def get(self, request):
        return event_stream_response(request._request, visible_collections(request.user))
