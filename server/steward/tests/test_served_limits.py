"""The server's limits through the real web process, started from the Procfile's `web`
line as a deployment starts it: gunicorn, two sync workers, on a database of its own.

- a body larger than STEWARD_MAX_BODY_BYTES is refused at once when its length says so
  (nothing is waited for) and after the cap when it comes in chunks;
- failed sign-ins spread over both worker processes are all counted;
- a client that sends its request a byte at a time holds a worker for WEB_TIMEOUT at
  most, and the other worker serves meanwhile. (A buffering proxy in front is the real
  defence: docs/deploy.md. This checks what is left when a client reaches gunicorn.)

The `events` line (uvicorn) is started beside it for the same body cap under ASGI, a
slow client there, and its keep-alive timeout.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from steward.tests import live

REPO = live.SERVER_DIR.parent
WEB_TIMEOUT = 4
MAX_BODY = 100_000
MAX_FAILURES = 12


def procfile_command(name: str) -> str:
    for line in (REPO / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no {name} process in the Procfile")


@pytest.fixture(scope="module")
def served(tmp_path_factory, django_db_blocker):
    """The Procfile's `web` and `events` lines, running on one new database:
    {"web": Stack, "events": Stack} (each Stack gives the process's base URL and port)."""
    from django.db import connection

    directory = tmp_path_factory.mktemp("procfile")
    with django_db_blocker.unblock():
        url, drop = live.database_url(directory, connection)
    env = live.stack_env(
        url,
        None,
        STEWARD_MAX_BODY_BYTES=str(MAX_BODY),
        STEWARD_LOGIN_MAX_FAILURES_PER_USER=str(MAX_FAILURES),
        WEB_TIMEOUT=str(WEB_TIMEOUT),
        WEB_CONCURRENCY="2",
        BIND_HOST="127.0.0.1",
    )
    stacks = {name: live.Stack(directory, env) for name in ("web", "events")}
    stacks["web"].manage("migrate", "--noinput")
    stacks["web"].shell(
        "from django.contrib.auth import get_user_model; "
        f"get_user_model().objects.create_user('mia', password='{live.PASSWORD}')"
    )
    processes = []
    try:
        for name, stack in stacks.items():
            # As a Procfile runner starts it: from the repository root, the virtualenv's
            # python first on PATH, a port of its own.
            log = open(directory / f"{name}.log", "wb")  # noqa: SIM115 - closed below
            process = subprocess.Popen(
                ["bash", "-c", procfile_command(name)],
                cwd=REPO,
                env={
                    **env,
                    "PORT": str(stack.port),
                    "PATH": str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
                },
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            processes.append((process, log))

            def answers(process=process, stack=stack, name=name):
                if process.poll() is not None:
                    raise RuntimeError((directory / f"{name}.log").read_text())
                return live_status(stack) == 200

            live.wait_for(f"the Procfile's {name} process", answers, timeout=30)
        yield stacks
    finally:
        for process, _ in processes:
            process.terminate()
        for process, log in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()
        with django_db_blocker.unblock():
            drop()


@pytest.fixture
def web(served):
    return served["web"]


@pytest.fixture
def events(served):
    return served["events"]


def live_status(stack) -> int | None:
    try:
        with urllib.request.urlopen(stack.base + "/health/live", timeout=2) as response:
            return response.status
    except OSError:
        return None


def connect(stack) -> socket.socket:
    return socket.create_connection(("127.0.0.1", stack.port), timeout=5)


def headers(method, path, *lines) -> bytes:
    head = [f"{method} /api/v1{path} HTTP/1.1", "Host: 127.0.0.1", *lines, "", ""]
    return "\r\n".join(head).encode()


def read_response(sock, until_length=False) -> tuple[int, dict, dict]:
    """The answer on `sock`: read until the server closes (gunicorn's sync workers always
    do), or with `until_length`, until Content-Length bytes of body (uvicorn keeps the
    connection open)."""
    data = b""
    while True:
        if until_length and b"\r\n\r\n" in data:
            head, _, body = data.partition(b"\r\n\r\n")
            length = re.search(rb"(?i)content-length: *(\d+)", head)
            if length and len(body) >= int(length.group(1)):
                break
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), fields, json.loads(body or b"null")


def test_a_declared_oversize_body_is_refused_without_waiting_for_it(web):
    with connect(web) as sock:
        sock.settimeout(3)  # gunicorn would otherwise wait WEB_TIMEOUT for the body
        sock.sendall(
            headers(
                "POST",
                "/mutations",
                "Content-Type: application/json",
                f"Content-Length: {50 * 1024 * 1024}",
            )
        )
        status, _, body = read_response(sock)
    assert status == 413
    assert body["code"] == "payload_too_large"


def send_chunk(sock, data: bytes):
    sock.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n")


def test_a_chunked_body_over_the_cap_is_refused_once_it_passes_it(web):
    with connect(web) as sock:
        sock.sendall(
            headers(
                "POST",
                "/auth/login",
                "Content-Type: application/json",
                "Transfer-Encoding: chunked",
            )
        )
        sent = 0
        try:
            # Up to ten times the cap; the server answers and stops reading after it.
            while sent < 10 * MAX_BODY:
                send_chunk(sock, b" " * 8192)
                sent += 8192
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass
        status, _, body = read_response(sock)
    assert status == 413
    assert body["code"] == "payload_too_large"


def test_a_chunked_body_within_the_cap_is_read(web):
    payload = json.dumps({"username": "mia", "password": live.PASSWORD}).encode()
    with connect(web) as sock:
        sock.sendall(
            headers(
                "POST",
                "/auth/login",
                "Content-Type: application/json",
                "Transfer-Encoding: chunked",
            )
        )
        send_chunk(sock, payload[:10])
        send_chunk(sock, payload[10:])
        sock.sendall(b"0\r\n\r\n")
        status, _, body = read_response(sock)
    assert status == 200, body
    assert body["access_token"]


def test_failures_in_both_workers_all_count(web):
    """Racing failures in two processes each count: exactly MAX_FAILURES lock the user."""

    def wrong(_):
        return live.call(web.base, "POST", "/auth/login", {"username": "max", "password": "wrong"})[
            0
        ]

    web.shell(
        "from django.contrib.auth import get_user_model; "
        f"get_user_model().objects.create_user('max', password='{live.PASSWORD}')"
    )
    with ThreadPoolExecutor(6) as pool:
        assert set(pool.map(wrong, range(MAX_FAILURES))) == {401}
    request = urllib.request.Request(
        web.base + "/auth/login",
        data=json.dumps({"username": "max", "password": live.PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 429
    assert refused.value.headers["Retry-After"] == "300"
    assert json.loads(refused.value.read())["message"] == (
        "Too many sign-in attempts for this account. Try again in 5 minutes."
    )


def trickle_until_closed(sock, first: bytes, stack) -> tuple[float, float]:
    """Send `first`, then one byte every 0.25 s until the server closes the connection.
    Returns (seconds until it closed, seconds another client waited for /health/live
    meanwhile)."""
    sock.sendall(first)
    sock.settimeout(0.25)
    started = time.monotonic()
    other_waited = None
    while time.monotonic() - started < WEB_TIMEOUT + 10:
        if other_waited is None and time.monotonic() - started > 1:
            asked = time.monotonic()
            assert live_status(stack) == 200
            other_waited = time.monotonic() - asked
        try:
            sock.send(b"a")
            if sock.recv(4096) == b"":
                break
            break  # an answer (an error page) also frees the worker
        except TimeoutError:
            continue
        except OSError:
            break
    return time.monotonic() - started, other_waited


def both_workers_serve(stack) -> bool:
    """Whether a second worker answers while a first one holds a connection: after a
    worker was killed, its replacement takes a moment (more on a loaded machine) to load."""
    with connect(stack) as held:
        held.sendall(b"GET /api/v1/health/live HTTP/1.1\r\n")
        time.sleep(0.1)
        try:
            with urllib.request.urlopen(stack.base + "/health/live", timeout=1) as response:
                return response.status == 200
        except OSError:
            return False


@pytest.mark.parametrize("part", ["body", "headers"])
def test_a_slow_client_holds_a_worker_for_web_timeout_at_most(web, part):
    live.wait_for("both workers", lambda: both_workers_serve(web), timeout=30)
    if part == "body":
        first = headers(
            "POST", "/auth/login", "Content-Type: application/json", "Content-Length: 5000"
        )
    else:
        first = headers("GET", "/health/live")[:-4] + b"\r\nX-Slow: "
    with connect(web) as sock:
        closed_after, other_waited = trickle_until_closed(sock, first, web)
    assert closed_after < WEB_TIMEOUT + 3, f"held for {closed_after:.1f} s"
    assert other_waited is not None and other_waited < 2
    # The worker gunicorn replaced comes back: both serve again.
    live.wait_for("both workers", lambda: both_workers_serve(web), timeout=30)


# The events process (uvicorn): Django has the whole body before a view runs, so the cap
# applies after it is received; a slow client holds a coroutine, not the server.


def test_events_refuses_a_chunked_body_over_the_cap_and_reads_one_within(events):
    with connect(events) as sock:
        sock.sendall(
            headers(
                "POST",
                "/auth/login",
                "Content-Type: application/json",
                "Transfer-Encoding: chunked",
            )
        )
        for _ in range(2 * MAX_BODY // 8192):
            send_chunk(sock, b" " * 8192)
        sock.sendall(b"0\r\n\r\n")
        status, _, body = read_response(sock, until_length=True)
    assert (status, body["code"]) == (413, "payload_too_large")
    payload = json.dumps({"username": "mia", "password": live.PASSWORD}).encode()
    with connect(events) as sock:
        sock.sendall(
            headers(
                "POST",
                "/auth/login",
                "Content-Type: application/json",
                "Transfer-Encoding: chunked",
            )
        )
        send_chunk(sock, payload[:10])
        send_chunk(sock, payload[10:])
        sock.sendall(b"0\r\n\r\n")
        status, _, body = read_response(sock, until_length=True)
    assert status == 200, body


def test_events_serves_others_while_a_client_trickles(events):
    with connect(events) as sock:
        sock.sendall(
            headers("POST", "/auth/login", "Content-Type: application/json", "Content-Length: 5000")
        )
        for _ in range(4):
            sock.sendall(b" ")
            asked = time.monotonic()
            assert live_status(events) == 200
            assert time.monotonic() - asked < 1
            time.sleep(0.25)


def test_events_closes_idle_keep_alive_connections(events):
    with connect(events) as sock:
        sock.sendall(headers("GET", "/health/live"))
        assert read_response(sock, until_length=True)[0] == 200
        sock.settimeout(5 + 3)
        started = time.monotonic()
        assert sock.recv(65536) == b""
    assert time.monotonic() - started < 5 + 2
