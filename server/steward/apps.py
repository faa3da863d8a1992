from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.module_loading import autodiscover_modules


class StewardConfig(AppConfig):
    name = "steward"
    verbose_name = "Steward"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Registers the OpenAPI extension for the bearer token authentication class.
        from steward import schema  # noqa: F401
        from steward.accounts import sync as account_sync
        from steward.auth import connect_password_change_hook
        from steward.content.registry import site
        from steward.feed_stamps import restore_sqlite_triggers
        from steward.jobs.backends import connect_all

        # A later migration that rebuilds a SQLite table drops its feed_seq triggers.
        post_migrate.connect(
            restore_sqlite_triggers, sender=self, dispatch_uid="steward_feed_stamps"
        )
        # The job backends' signals fill Steward's record of the product's jobs, in every
        # process that loads Django: the web servers and the workers.
        connect_all()
        # Account rows follow the product's users (saves, deletes, groups, sign-ins).
        account_sync.connect()
        # A new password ends the user's Steward sessions, whichever path changed it.
        connect_password_change_hook()
        # The product's Sources, from the steward.py module of each installed app.
        autodiscover_modules("steward", register_to=site)
