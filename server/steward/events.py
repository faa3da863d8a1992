"""GET /events: a Server-Sent Events stream of pokes, never of data.

Each event says "collection X has changed up to cursor C":

    event: changed
    data: {"collection": "items", "cursor": "<the feed's cursor of its newest row>"}

and the client then pulls that collection's delta feed with its own cursor. The stream is
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

from steward import services
from steward.models import AuditEvent, Item, Job, Member, ReasonTemplate
from steward.pagination import encode_cursor
from steward.permissions import HasAnyRole, has_permission_code
from steward.serializers import ErrorSerializer

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


def _newest_cursor(model):
    row = model.objects.order_by("-updated_at", "-id").values_list("updated_at", "id").first()
    return encode_cursor(*row) if row else None


def _queues_cursor():
    queue = services.queue_queryset().order_by("-changed_at", "-id").first()
    return encode_cursor(queue.changed_at, queue.id) if queue else None


def _audit_cursor():
    newest = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    return str(newest) if newest is not None else None


CURSORS = {
    "items": lambda: _newest_cursor(Item),
    "queues": _queues_cursor,
    "reason_templates": lambda: _newest_cursor(ReasonTemplate),
    "accounts": lambda: _newest_cursor(Member),
    "audit": _audit_cursor,
    "jobs": lambda: _newest_cursor(Job),
}


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
                if name not in sent or sent[name] != cursor:
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
    from steward.views import StewardAPIView

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
                "whenever a collection's newest cursor moves (ASGI only; under WSGI the "
                "stream ends after the current cursors).",
            ),
            401: OpenApiResponse(ErrorSerializer, description="not_authenticated."),
            403: OpenApiResponse(ErrorSerializer, description="permission_denied."),
        },
    )
    def get(self, request):
        return event_stream_response(request._request, visible_collections(request.user))
