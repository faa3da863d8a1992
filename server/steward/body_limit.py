"""A cap on the size of request bodies sent to Steward's API, enforced before parsing.

Django's DATA_UPLOAD_MAX_MEMORY_SIZE guards `request.body` and form parsing only; DRF's
JSONParser reads the request stream itself, so without this cap a client could make a
process read and decode a body of any size. Every Steward API view calls `enforce_body_limit`
first (StewardAPIView.initial), before authentication, permissions and parsing:

- a Content-Length above STEWARD_MAX_BODY_BYTES is refused at once, nothing read;
- a body without Content-Length (Transfer-Encoding: chunked) is read here, counting, and
  refused as soon as it passes the cap; one within the cap is kept for the parser. (Django
  alone would not read such a body under WSGI at all, and the request would fail as if
  it were empty.)

Refusals are 413 payload_too_large in the API's error shape. The default, 2.5 MiB (the
same as Django's DATA_UPLOAD_MAX_MEMORY_SIZE), holds the largest request the API takes,
POST /mutations with 100 operations whose notes carry their 4,000 characters at four
bytes each, with room to spare (test_body_limit.py measures it).

`document_body_limit` is a drf-spectacular postprocessing hook that adds the 413 answer
to every operation that takes a body; add it to SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"].
"""

import io

from django.conf import settings

from steward.errors import PayloadTooLarge

DEFAULT_MAX_BODY_BYTES = 2_621_440
_READ_SIZE = 64 * 1024


def max_body_bytes() -> int:
    return int(getattr(settings, "STEWARD_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The request body is larger than this server accepts ({limit} bytes at most). "
        "Send less at a time: fewer operations in a batch, or a shorter text."
    )


def enforce_body_limit(request) -> None:
    """Refuse the Django request's body if it is larger than the cap (see the module)."""
    limit = max_body_bytes()
    meta = request.META
    declared = meta.get("CONTENT_LENGTH")
    if declared:
        try:
            length = int(declared)
        except ValueError:
            return  # Django and DRF read no body with a malformed length.
        if length > limit:
            raise too_large(limit)
        return
    if getattr(request, "_read_started", False):
        return
    source = _unsized_body_source(request)
    if source is None:
        return
    chunks = []
    total = 0
    while True:
        # One byte past the cap is enough to know the body is too large.
        chunk = source.read(min(_READ_SIZE, limit + 1 - total))
        if not chunk:
            break
        total += len(chunk)
        if total > limit:
            raise too_large(limit)
        chunks.append(chunk)
    if not total:
        return
    body = b"".join(chunks)
    request._stream = io.BytesIO(body)
    meta["CONTENT_LENGTH"] = str(len(body))


def _unsized_body_source(request):
    """The stream to read a body sent without Content-Length from, or None when there is
    no such body to read."""
    environ = getattr(request, "environ", None)
    if environ is not None and "wsgi.input" in environ:
        # WSGI: only a chunked body may be read without a length; reading wsgi.input
        # otherwise could wait on a connection that sends nothing more.
        if "chunked" not in meta_value(request, "HTTP_TRANSFER_ENCODING").lower():
            return None
        return environ["wsgi.input"]
    # ASGI: Django has already received the body into a temporary file.
    return getattr(request, "_stream", None)


def meta_value(request, name: str) -> str:
    return str(request.META.get(name, "") or "")


def document_body_limit(result, generator, request, public):
    """drf-spectacular postprocessing hook: 413 on every operation that takes a body."""
    response = {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        "description": "payload_too_large: the request body is larger than "
        "STEWARD_MAX_BODY_BYTES (default 2621440); nothing was read past the cap and "
        "nothing was applied.",
    }
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                responses = operation.setdefault("responses", {})
                responses.setdefault("413", response)
                operation["responses"] = dict(sorted(responses.items()))
    return result
