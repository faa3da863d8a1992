"""The server side of the Python benchmarks: a throwaway PostgreSQL (and Redis), the demo
project migrated and seeded on it, and the demo server under gunicorn exactly as the
Procfile's `web` line starts it. Everything started here stops when its `with` block
ends, also on an error or Ctrl-C.

    with benchstack.Stack("server-feeds") as stack:
        stack.manage("seed_demo", "--items", "1000")
        with stack.web(settings="benchsite.settings") as web:
            token = web.login("admin", "admin-demo")
            web.get("/api/v1/items", token, limit=500)
"""

import contextlib
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "server"
PYTHON = ROOT / ".venv" / "bin" / "python"
BENCH_PY = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def say(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


def procfile_web_command() -> str:
    """The Procfile's `web` line, so the bench serves as a deployment does."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.split(":", 1)[1].strip()
    raise RuntimeError("Procfile has no web line")


class Stack:
    """A directory of its own with PostgreSQL (and Redis when asked) in it."""

    def __init__(self, name: str, redis: bool = False):
        self.name = name
        self.with_redis = redis
        self.dir = None
        self.database_url = None
        self.redis_url = None
        self.env = None

    def __enter__(self):
        self.dir = Path(tempfile.mkdtemp(prefix=f"steward-bench-{self.name}."))
        self.dir.chmod(0o755)  # PostgreSQL runs as its own user inside
        try:
            self.database_url = self._service(
                "start_postgres.sh", PG_DIR=self.dir / "pg", PGPORT=free_port()
            )
            if self.with_redis:
                self.redis_url = self._service(
                    "start_redis.sh",
                    REDIS_DIR=self.dir / "redis",
                    REDIS_PORT=free_port(),
                )
            env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE"}}
            env.update(
                DATABASE_URL=self.database_url,
                PYTHONPATH=os.pathsep.join([str(SERVER), str(BENCH_PY)]),
                PATH=f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}",
                # The bench signs in once; its rounds outlast the default 15 minutes.
                STEWARD_ACCESS_TOKEN_TTL="86400",
                DJANGO_EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            )
            if self.redis_url:
                env["CELERY_BROKER_URL"] = f"{self.redis_url}/0"
            else:
                # No broker: nothing in these runs sends to Celery.
                env["CELERY_BROKER_URL"] = "redis://127.0.0.1:9/0"
            self.env = env
            say(f"{self.name}: migrating {self.database_url}")
            self.manage("migrate", "--noinput", "-v", "0")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        if self.dir is None:
            return False
        if self.with_redis:
            self._service("start_redis.sh", "stop", REDIS_DIR=self.dir / "redis", check=False)
        self._service("start_postgres.sh", "stop", PG_DIR=self.dir / "pg", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None
        return False

    def _service(self, script, *args, check=True, **env):
        result = subprocess.run(
            [str(SERVER / "scripts" / script), *args],
            check=False,
            env={**os.environ, **{k: str(v) for k, v in env.items()}},
            capture_output=True,
            text=True,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"{script} failed: {result.stderr[-2000:]}")
        return result.stdout.strip()

    def manage(self, *args, settings: str | None = None) -> str:
        env = dict(self.env)
        if settings:
            env["DJANGO_SETTINGS_MODULE"] = settings
        started = time.monotonic()
        result = subprocess.run(
            [str(PYTHON), str(SERVER / "manage.py"), *args],
            check=False,
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"manage.py {' '.join(args)} failed:\n"
                f"{result.stdout[-2000:]}{result.stderr[-4000:]}"
            )
        say(f"manage.py {' '.join(args)}: {time.monotonic() - started:.1f} s")
        return result.stdout

    def psql(self, sql: str) -> str:
        """Runs SQL through psql on the bench database; returns its unaligned output."""
        result = subprocess.run(
            ["psql", self.database_url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
            check=False,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr[-2000:]}")
        return result.stdout.strip()

    @contextmanager
    def web(self, settings: str | None = None, workers: int | None = None, timeout: int = 30):
        """The Procfile's web process (gunicorn), on a free port, until the block ends."""
        port = free_port()
        env = dict(self.env)
        env["PORT"] = str(port)
        env["WEB_TIMEOUT"] = str(timeout)
        if workers:
            env["WEB_CONCURRENCY"] = str(workers)
        if settings:
            env["DJANGO_SETTINGS_MODULE"] = settings
        command = procfile_web_command().removeprefix("exec ")
        log = open(self.dir / f"web-{port}.log", "w")  # noqa: SIM115 - closed below
        process = subprocess.Popen(
            ["bash", "-c", f"exec {command}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        web = Web(f"http://127.0.0.1:{port}")
        try:
            web.wait_ready(process, self.dir / f"web-{port}.log")
            yield web
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            log.close()


class HTTPError(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body[:500]!r}")
        self.status = status
        self.body = body


class Web:
    """Plain HTTP against the server, one connection per request (gunicorn's sync
    workers close each connection anyway)."""

    def __init__(self, base: str):
        self.base = base

    def wait_ready(self, process, log_path, seconds=120):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped:\n{Path(log_path).read_text()[-3000:]}")
            try:
                self.request("GET", "/api/v1/health/ready")
                return
            except (OSError, HTTPError):
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn not ready after {seconds} s")

    def request(self, method, path, token=None, body=None, headers=None, timeout=600):
        """(status, raw body bytes, seconds) of one request; raises HTTPError on >= 400."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                raw = response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            raise HTTPError(error.code, error.read()) from None
        return status, raw, time.perf_counter() - started

    def get(self, path, token=None, **params):
        """(parsed JSON, seconds) of a GET with query parameters."""
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        _, raw, seconds = self.request("GET", f"{path}?{query}" if query else path, token)
        return json.loads(raw), seconds

    def login(self, username, password) -> str:
        _, raw, _ = self.request(
            "POST",
            "/api/v1/auth/login",
            body={"username": username, "password": password},
        )
        return json.loads(raw)["access_token"]


def command_line() -> str:
    return " ".join(shlex.quote(a) for a in [Path(sys.argv[0]).name, *sys.argv[1:]])
