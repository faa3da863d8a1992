"""The safety net behind Steward's jobs and signals; run it from cron every few minutes:

    */5 * * * *  python manage.py steward_sweep

It ends suspensions whose time is up (their scheduled end job may have been lost: a
broker flushed, a worker down for days), records job outcomes a signal did not report
(backend reconcile), and brings every account up to date with its user (changes made by
QuerySet.update or raw SQL send no signal). Each part is safe to run any number of times.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from steward.accounts.adapter import get_adapter
from steward.accounts.sync import refresh_account
from steward.jobs.backends import all_backends
from steward.services.accounts import end_all_expired_suspensions


class Command(BaseCommand):
    help = "End due suspensions, reconcile jobs with their backends, refresh accounts."

    def add_arguments(self, parser):
        parser.add_argument(
            "--skip-accounts", action="store_true", help="Do not refresh every account."
        )

    def handle(self, *args, skip_accounts=False, **options):
        ended = end_all_expired_suspensions()
        reconciled = sum(backend.reconcile() for backend in all_backends().values())
        refreshed = 0
        if not skip_accounts:
            adapter = get_adapter()
            for user in adapter.user_model()._base_manager.iterator(chunk_size=2000):
                with transaction.atomic():
                    refresh_account(user)
                refreshed += 1
        self.stdout.write(
            f"Ended {ended} suspensions, reconciled {reconciled} jobs, "
            f"refreshed {refreshed} accounts."
        )
