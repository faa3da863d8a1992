"""Record the sessions that existed before Steward was installed, so suspend and force
logout end them too (db and cached_db session engines). Run it once after installing."""

from django.core.management.base import BaseCommand

from steward.accounts.sessions import index_existing_sessions


class Command(BaseCommand):
    help = "Index the product's existing sessions by user (once, after installing Steward)."

    def handle(self, *args, **options):
        self.stdout.write(f"Recorded {index_existing_sessions()} sessions.")
