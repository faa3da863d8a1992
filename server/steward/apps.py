from django.apps import AppConfig


class StewardConfig(AppConfig):
    name = "steward"
    verbose_name = "Steward"
    default_auto_field = "django.db.models.BigAutoField"
