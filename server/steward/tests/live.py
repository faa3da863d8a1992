"""The demo product started for real, as scripts/demo.sh and the desktop tests start it:
its own database (a SQLite file, or a new database on the PostgreSQL server the test run
uses), migrate, seed_demo, gunicorn, and the workers a test asks for (a Celery worker on
Redis, django-tasks' db_worker). conftest.py's `demo_stack` fixture builds one.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

SERVER_DIR = Path(__file__).resolve().parents[2]
PASSWORD = "PW"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(what: str, check, timeout: float = 30, interval: float = 0.1):
    """Poll `check` until it returns something truthy, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


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


class Redis:
    """A throwaway redis-server (Debian's package) on a free loopback port."""

    def __init__(self, directory: Path):
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: run scripts/setup.sh")
        self.port = free_port()
        self.directory = directory
        self.process = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", ""]
            + ["--appendonly", "no", "--dir", str(directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for("redis", self._answers, timeout=10)

    def _answers(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


class Stack:
    """The demo product on its own database, with the processes a test asked for."""

    def __init__(self, directory: Path, env: dict):
        self.directory = directory
        self.env = env
        self.processes = {}
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/api/v1"
        self.site = f"http://127.0.0.1:{self.port}"

    def manage(self, *args, check=True) -> str:
        result = subprocess.run(
            [sys.executable, str(SERVER_DIR / "manage.py"), *args],
            env=self.env,
            cwd=SERVER_DIR,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"manage.py {args[0]} failed:\n{result.stderr}")
        return result.stdout

    def shell(self, code: str) -> str:
        return self.manage("shell", "-c", code)

    def _start(self, name, command):
        log = open(self.directory / f"{name}.log", "wb")  # noqa: SIM115 - closed in stop()
        self.processes[name] = (
            subprocess.Popen(
                command, env=self.env, cwd=SERVER_DIR, stdout=log, stderr=subprocess.STDOUT
            ),
            log,
        )

    def start_web(self, workers: int = 2, asgi: bool = False):
        """gunicorn (WSGI), as the desktop tests serve the demo, or uvicorn (ASGI), where
        the live-update stream stays open."""
        if asgi:
            command = [sys.executable, "-m", "uvicorn", "demo.asgi:application", "--host"]
            command += ["127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        else:
            command = [sys.executable, "-m", "gunicorn", "demo.wsgi:application", "--bind"]
            command += [f"127.0.0.1:{self.port}", "--workers", str(workers)]
            command += ["--no-control-socket"]
        self._start("web", command)

        def answers():
            if self.processes["web"][0].poll() is not None:
                raise RuntimeError(self.log("web"))
            try:
                urllib.request.urlopen(self.base + "/schema", timeout=2).close()
                return True
            except OSError:
                return False

        wait_for("the web server", answers, timeout=30)

    def start_celery(self):
        self._start(
            "celery",
            [sys.executable, "-m", "celery", "-A", "demo", "worker", "--pool", "solo"]
            + ["--without-mingle", "--without-gossip", "--loglevel", "INFO"],
        )
        wait_for("the Celery worker", lambda: "ready." in self.log("celery"), timeout=30)

    def start_db_worker(self):
        self._start(
            "db_worker",
            [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.2"]
            + ["--no-startup-delay", "--queue-name", "*"],
        )

    def log(self, name) -> str:
        path = self.directory / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def login(self, username, password=PASSWORD) -> str:
        status, body = call(
            self.base, "POST", "/auth/login", {"username": username, "password": password}
        )
        assert status == 200, body
        return body["access_token"]

    def stop(self):
        for process, _ in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process, log in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()


def database_url(directory: Path, connection) -> tuple[str, object]:
    """A new, empty database for a stack: on the PostgreSQL server of the test run when it
    runs on PostgreSQL, else a SQLite file. Returns (url, drop)."""
    if connection.vendor != "postgresql":
        return f"sqlite:///{directory / 'db.sqlite3'}", lambda: None
    import psycopg

    params = connection.settings_dict
    name = f"steward_live_{uuid.uuid4().hex[:12]}"
    admin = {
        "host": params["HOST"] or "127.0.0.1",
        "port": params["PORT"] or 5432,
        "user": params["USER"],
        "password": params["PASSWORD"],
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**admin) as pg:
        pg.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(**admin) as pg:
            pg.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    url = f"postgres://{params['USER']}:{params['PASSWORD']}@{admin['host']}:{admin['port']}/{name}"
    return url, drop


def stack_env(db_url: str, broker_url: str | None, **extra) -> dict:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env.update({"DATABASE_URL": db_url, "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost"})
    env.pop("DJANGO_DEBUG", None)
    if broker_url:
        env["CELERY_BROKER_URL"] = broker_url
    env.update(extra)
    return env
