from django.apps import AppConfig


class ForumConfig(AppConfig):
    name = "forum"
    verbose_name = "Forum (the demo product)"
    default_auto_field = "django.db.models.BigAutoField"
