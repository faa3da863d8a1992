# The Celery app loads with Django, so tasks sent from the web process use it.
from demo.celery import app as celery_app

__all__ = ["celery_app"]
