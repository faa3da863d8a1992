"""The demo product's Celery app: the broker is Redis (CELERY_BROKER_URL), the tasks are
the forum's (forum/tasks.py), and Steward records them through Celery's signals.

    celery -A demo worker --concurrency 1     (from server/)
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")

app = Celery("demo")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
