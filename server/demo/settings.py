"""Settings of the Steward demo project, read from the environment as deployments do.

DJANGO_SECRET_KEY   secret key; the default is a public, insecure development key:
                    set a real one anywhere that is not a laptop.
DJANGO_DEBUG        "1"/"true"/"yes" turns debug on; off otherwise (tests run with it off).
DJANGO_ALLOWED_HOSTS comma-separated, default "127.0.0.1,localhost".
DATABASE_URL        any dj-database-url URL; SQLite file server/db.sqlite3 when unset.
DATABASE_POOL       PostgreSQL only: "1" (default) gives each process a psycopg pool of
                    DATABASE_POOL_MIN_SIZE (1) to DATABASE_POOL_MAX_SIZE (4) connections,
                    waiting DATABASE_POOL_TIMEOUT (10) seconds for one; "0" keeps one
                    persistent connection per thread for DATABASE_CONN_MAX_AGE (60) seconds.
DATABASE_CONNECT_TIMEOUT  seconds to wait for PostgreSQL to accept a connection (5).
DJANGO_CSRF_TRUSTED_ORIGINS  comma-separated origins (https://forum.example) for the
                    product's forms and the admin behind a proxy.
DJANGO_TRUST_X_FORWARDED_PROTO  "1" when a proxy that sets X-Forwarded-Proto terminates TLS.

../docs/deploy.md explains them, and the STEWARD_* settings read below.
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


SECRET_KEY = os.environ.get(
    "DJANGO_SECRET_KEY", "insecure-steward-demo-key-set-DJANGO_SECRET_KEY-in-real-deployments"
)
DEBUG = _env_flag("DJANGO_DEBUG")
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if host.strip()
]
CSRF_TRUSTED_ORIGINS = [
    origin.strip()
    for origin in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",")
    if origin.strip()
]
if _env_flag("DJANGO_TRUST_X_FORWARDED_PROTO"):
    # Only behind a proxy that always sets (or strips) X-Forwarded-Proto itself: a client
    # could otherwise claim https.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "drf_spectacular",
    "django_tasks",
    "django_tasks_db",
    "steward",
    "forum",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "demo.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "demo.wsgi.application"
ASGI_APPLICATION = "demo.asgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", 60)),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = int(
        os.environ.get("DATABASE_CONNECT_TIMEOUT", 5)
    )
    if os.environ.get("DATABASE_POOL", "1").strip().lower() not in {"0", "false", "no", "off"}:
        # A pool per process instead of a connection per thread: under ASGI every request
        # runs its database work on a new thread, where persistent connections would pile
        # up. min_size is explicit because psycopg_pool's default (4) would open four
        # connections in every gunicorn worker. Django refuses CONN_MAX_AGE with a pool.
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": int(os.environ.get("DATABASE_POOL_MIN_SIZE", 1)),
            "max_size": int(os.environ.get("DATABASE_POOL_MAX_SIZE", 4)),
            "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT", 10)),
        }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Two gunicorn workers write concurrently: wait for the lock instead of failing with
    # "database is locked", and take the write lock at BEGIN so a read-then-write
    # transaction can never deadlock on lock upgrade.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The steward app sets its own authentication, permissions, parsers and exception handler
# on its views, so a product's REST_FRAMEWORK settings cannot change the API's behaviour.
# Only the schema class is global in DRF.
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Steward API",
    "DESCRIPTION": "Moderation, support and admin API used by the Steward desktop console.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The default hook, and Steward's: 413 payload_too_large on every operation with a body.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "steward.body_limit.document_body_limit",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ActionEnum": "steward.models.Decision.Action",
        "AccountActionEnum": ["suspend", "reactivate", "force_logout", "send_password_reset"],
        "JobStatusEnum": "steward.models.Job.Status",
    },
}

# The forum's background jobs run on two systems, both shown in Steward's jobs screen:
# django-tasks' database backend (`manage.py db_worker` runs them) and Celery on Redis
# (`celery -A demo worker`). Steward's own work (password reset mail, ending
# suspensions) runs on STEWARD_OWN_JOBS_BACKEND.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A web request that sends a task must not hang while the broker is down: give up
# quickly, and Steward answers 503 job_backend_unavailable.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
STEWARD_JOB_BACKENDS = {
    "tasks": {
        "BACKEND": "steward.jobs.tasks_backend.DjangoTasksBackend",
        "OPTIONS": {"TASK_BACKEND": "default"},
    },
    "celery": {
        "BACKEND": "steward.jobs.celery_backend.CeleryBackend",
        "OPTIONS": {"APP": "demo.celery.app"},
    },
}
STEWARD_OWN_JOBS_BACKEND = os.environ.get("STEWARD_OWN_JOBS_BACKEND", "tasks")

# Outgoing mail (the password reset and email jobs). The console backend prints messages;
# set DJANGO_EMAIL_BACKEND to a real one in a deployment.
EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = "steward-demo@example.com"
# For DJANGO_EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend.
EMAIL_FILE_PATH = os.environ.get("DJANGO_EMAIL_FILE_PATH", str(BASE_DIR / "sent-mail"))

# The product's public site: links in password reset mail point here.
STEWARD_PUBLIC_URL = os.environ.get("STEWARD_PUBLIC_URL", "http://127.0.0.1:8000")
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# GET /api/v1/events under ASGI: how often changes are looked for without notifications,
# how long a stream stays open before the client reconnects, how many streams one session
# may hold open in one process, and the safety-net recompute while streams are open.
STEWARD_EVENTS_POLL_SECONDS = float(os.environ.get("STEWARD_EVENTS_POLL_SECONDS", 1.0))
STEWARD_EVENTS_MAX_SECONDS = float(os.environ.get("STEWARD_EVENTS_MAX_SECONDS", 300))
STEWARD_EVENTS_MAX_STREAMS_PER_SESSION = int(
    os.environ.get("STEWARD_EVENTS_MAX_STREAMS_PER_SESSION", 4)
)
STEWARD_EVENTS_RECHECK_SECONDS = float(os.environ.get("STEWARD_EVENTS_RECHECK_SECONDS", 10))

# Seconds an access token lives; refresh tokens live much longer and rotate on use.
STEWARD_ACCESS_TOKEN_TTL = int(os.environ.get("STEWARD_ACCESS_TOKEN_TTL", 15 * 60))
STEWARD_REFRESH_TOKEN_TTL = int(os.environ.get("STEWARD_REFRESH_TOKEN_TTL", 30 * 24 * 3600))
# The longest a session (a login's family of tokens) lasts however often it is refreshed;
# a password change ends it at once. See docs/deploy.md.
STEWARD_SESSION_MAX_AGE_SECONDS = int(
    os.environ.get("STEWARD_SESSION_MAX_AGE_SECONDS", 30 * 24 * 3600)
)
# Sign-in throttling (steward/throttle.py): failures allowed per username and per client
# address within the window, and the first lockout (doubling with each one in a row).
STEWARD_LOGIN_MAX_FAILURES_PER_USER = int(os.environ.get("STEWARD_LOGIN_MAX_FAILURES_PER_USER", 5))
STEWARD_LOGIN_MAX_FAILURES_PER_ADDRESS = int(
    os.environ.get("STEWARD_LOGIN_MAX_FAILURES_PER_ADDRESS", 50)
)
STEWARD_LOGIN_WINDOW_SECONDS = int(os.environ.get("STEWARD_LOGIN_WINDOW_SECONDS", 15 * 60))
STEWARD_LOGIN_LOCKOUT_SECONDS = int(os.environ.get("STEWARD_LOGIN_LOCKOUT_SECONDS", 5 * 60))
# How many proxies in front of the web processes append to X-Forwarded-For (nginx with
# $proxy_add_x_forwarded_for: 1). 0, the default, counts sign-ins by REMOTE_ADDR alone:
# right when clients connect directly, and safe, since clients can write X-Forwarded-For.
STEWARD_TRUSTED_PROXY_COUNT = int(os.environ.get("STEWARD_TRUSTED_PROXY_COUNT", 0))
# The largest request body Steward's API reads (bytes); larger ones get 413 unread.
STEWARD_MAX_BODY_BYTES = int(os.environ.get("STEWARD_MAX_BODY_BYTES", 2_621_440))
# Seconds one POST /api/v1/jobs/retry may go on sending before it stops between two steps
# of 1,000 jobs and answers with how many are left: keep it under the web worker's timeout.
STEWARD_RETRY_MATCHING_MAX_SECONDS = float(os.environ.get("STEWARD_RETRY_MATCHING_MAX_SECONDS", 20))
# Seconds the answer to a mutation sent with an Idempotency-Key is kept (steward_sweep
# purges older ones); GET /me tells clients, which refuse to resend older actions.
STEWARD_IDEMPOTENCY_RETENTION_SECONDS = int(
    os.environ.get("STEWARD_IDEMPOTENCY_RETENTION_SECONDS", 30 * 24 * 3600)
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
