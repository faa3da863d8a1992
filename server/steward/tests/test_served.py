"""The demo server started exactly as the client tests start it: migrate, seed_demo,
gunicorn with two workers on SQLite. Concurrent decisions from both workers must never
fail with "database is locked" and must apply exactly once per item.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

SERVER_DIR = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(base, method, path, body=None, token=None, headers=None):
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture
def served(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    manage = [sys.executable, str(SERVER_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], env=env, check=True, capture_output=True)
    subprocess.run(
        [*manage, "seed_demo", "--items", "50", "--password", "PW"],
        env=env,
        check=True,
        capture_output=True,
    )
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--chdir",
            str(SERVER_DIR),
            "demo.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--no-control-socket",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(base + "/schema", timeout=2).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError(process.stderr.read().decode()) from None
            time.sleep(0.1)
    try:
        yield base
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
        assert b"database is locked" not in stderr


def test_login_list_decide_under_concurrency(served):
    tokens = {}
    for username in ["moderator", "admin"]:
        status, body = call(served, "POST", "/auth/login", {"username": username, "password": "PW"})
        assert status == 200
        tokens[username] = body["access_token"]
    status, page = call(served, "GET", "/items?limit=500", token=tokens["moderator"])
    assert status == 200
    open_items = [item for item in page["results"] if item["state"] == "open"][:10]

    def decide(n):
        item = open_items[n % len(open_items)]
        username = ["moderator", "admin"][n % 2]
        return call(
            served,
            "POST",
            f"/items/{item['id']}/decisions",
            {"action": "approve", "base_version": item["version"]},
            tokens[username],
            {"Idempotency-Key": f"{username}-{item['id']}"},
        )[0]

    with ThreadPoolExecutor(12) as pool:
        statuses = Counter(pool.map(decide, range(80)))
    assert set(statuses) <= {201, 409}, statuses

    status, audit = call(served, "GET", "/audit?action=item.decide", token=tokens["admin"])
    assert status == 200
    decided = Counter(event["target_id"] for event in audit["results"])
    assert sorted(decided) == sorted(str(item["id"]) for item in open_items)
    assert set(decided.values()) == {1}
