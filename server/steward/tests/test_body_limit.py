"""Request bodies over STEWARD_MAX_BODY_BYTES are refused with 413 before they are parsed
or even read (steward/body_limit.py). test_served_limits.py checks the same through a
real server, with bodies sent in chunks and bodies never sent."""

import io
import json

import pytest
from rest_framework.test import APIRequestFactory

from steward import body_limit
from steward.body_limit import DEFAULT_MAX_BODY_BYTES, enforce_body_limit
from steward.errors import PayloadTooLarge
from steward.views import LoginView

LOGIN = "/api/v1/auth/login"
MUTATIONS = "/api/v1/mutations"


def too_large_body(limit):
    return {
        "code": "payload_too_large",
        "message": f"The request body is larger than this server accepts ({limit} bytes at "
        "most). Send less at a time: fewer operations in a batch, or a shorter text.",
        "fields": {},
    }


def raw_post(client, url, body: bytes):
    return client.generic("POST", url, body, content_type="application/json")


def test_a_body_over_the_cap_is_413_before_authentication(api, settings):
    settings.STEWARD_MAX_BODY_BYTES = 1000
    response = raw_post(api, MUTATIONS, b'{"operations": []' + b" " * 1000 + b"}")
    assert response.status_code == 413
    assert response.json() == too_large_body(1000)


def test_a_body_at_the_cap_is_parsed(api, settings, db):
    settings.STEWARD_MAX_BODY_BYTES = 1000
    body = json.dumps({"username": "mia", "password": "x"}).encode()
    response = raw_post(api, LOGIN, body + b" " * (1000 - len(body)))
    assert response.status_code == 401


def test_the_largest_legitimate_batch_fits_the_default(admin_client, make_item):
    """100 decisions with 4,000-character notes of four-byte characters, as the desktop
    client sends them (UTF-8, not escaped)."""
    item = make_item()
    note = "\N{GRINNING FACE}" * 4000
    operations = [
        {
            "idempotency_key": f"key-{n:03}",
            "op": "decide_item",
            "target_id": item.id,
            "args": {"action": "approve", "base_version": 1, "reason_code": "x" * 64, "note": note},
        }
        for n in range(100)
    ]
    body = json.dumps({"operations": operations}, ensure_ascii=False).encode()
    assert 1_600_000 < len(body) < DEFAULT_MAX_BODY_BYTES * 0.7
    response = raw_post(admin_client, MUTATIONS, body)
    assert response.status_code == 200
    assert [result["status"] for result in response.json()["results"]][:2] == [201, 409]


def test_the_default_cap_is_django_s_upload_limit():
    from django.conf import global_settings

    assert DEFAULT_MAX_BODY_BYTES == global_settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class Unreadable(io.RawIOBase):
    """A request stream that fails the test if anything reads it."""

    def read(self, size=-1):
        raise AssertionError("the body was read")


def test_a_declared_length_over_the_cap_is_refused_unread(settings):
    settings.STEWARD_MAX_BODY_BYTES = 1000
    request = APIRequestFactory().post(LOGIN, b"", content_type="application/json")
    request.META["CONTENT_LENGTH"] = str(10**9)
    request._stream = Unreadable()
    response = LoginView.as_view()(request)
    assert response.status_code == 413
    assert response.data["code"] == "payload_too_large"


class Chunked(io.RawIOBase):
    """A chunked body as a WSGI server hands it over: no length, read until empty."""

    def __init__(self, data: bytes, piece: int = 1000):
        self.data, self.piece, self.position = data, piece, 0

    def read(self, size=-1):
        size = self.piece if size < 0 else min(size, self.piece)
        chunk = self.data[self.position : self.position + size]
        self.position += len(chunk)
        return chunk


def chunked_request(data: bytes):
    request = APIRequestFactory().post(LOGIN, b"", content_type="application/json")
    request.META.pop("CONTENT_LENGTH", None)
    request.META["HTTP_TRANSFER_ENCODING"] = "chunked"
    request.environ["wsgi.input"] = source = Chunked(data)
    return request, source


def test_a_chunked_body_over_the_cap_is_refused_after_the_cap(settings):
    settings.STEWARD_MAX_BODY_BYTES = 5000
    request, source = chunked_request(b"x" * 10**6)
    with pytest.raises(PayloadTooLarge):
        enforce_body_limit(request)
    assert source.position == 5001


def test_a_chunked_body_within_the_cap_is_parsed(make_user):
    make_user("mia")
    request, _ = chunked_request(json.dumps({"username": "mia", "password": "x"}).encode())
    response = LoginView.as_view()(request)
    assert response.status_code == 401, response.data


def test_a_request_without_a_body_reads_nothing(settings):
    request = APIRequestFactory().get("/api/v1/me")
    request.META.pop("CONTENT_LENGTH", None)
    request.environ["wsgi.input"] = Unreadable()
    enforce_body_limit(request)


def test_the_contract_documents_413_on_every_operation_with_a_body():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = [op for item in schema["paths"].values() for op in item.values()]
    with_body = [op for op in operations if "requestBody" in op]
    assert with_body
    assert all("413" in op["responses"] for op in with_body)
    assert not any("413" in op["responses"] for op in operations if "requestBody" not in op)
    assert body_limit.document_body_limit  # the hook the demo's settings name
