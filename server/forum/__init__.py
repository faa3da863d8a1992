"""The demo product: a small forum whose posts and comments Steward moderates, whose
users are Steward's accounts, and whose background jobs (Celery and django-tasks) show
in Steward's jobs screen. It uses only Steward's public surface: steward.py registers its
models, views call steward.report, settings name its job backends."""
