from django.apps import AppConfig


class StewardConfig(AppConfig):
    name = "steward"
    verbose_name = "Steward"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Registers the OpenAPI extension for the bearer token authentication class.
        from steward import schema  # noqa: F401
