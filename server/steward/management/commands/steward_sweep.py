"""The safety net behind Steward's jobs and signals, and its housekeeping. Run it from cron
every few minutes:

    */5 * * * *  python manage.py steward_sweep

or as a long-running process that sweeps every N seconds (the Procfile's `clock`):

    python manage.py steward_sweep --every 300

It ends suspensions whose time is up (their scheduled end job may have been lost: a
broker flushed, a worker down for days), records job outcomes a signal did not report
(backend reconcile), brings every account up to date with its user (changes made by
QuerySet.update or raw SQL send no signal), and purges idempotency records older than
STEWARD_IDEMPOTENCY_RETENTION_SECONDS and the sign-in throttle's records of keys that have
been quiet for a day (steward.throttle). Each part is safe to run any number of times; one
sweeping process per deployment is enough.
"""

import logging
import signal
import threading
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from steward.accounts.adapter import get_adapter
from steward.accounts.sync import refresh_accounts
from steward.idempotency import purge_expired_records
from steward.jobs.backends import all_backends
from steward.services.accounts import end_all_expired_suspensions
from steward.throttle import purge_quiet_records

logger = logging.getLogger("steward")


class Command(BaseCommand):
    help = (
        "End due suspensions, reconcile jobs with their backends, refresh accounts and purge "
        "expired idempotency and sign-in throttle records; once, or every N seconds with "
        "--every."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--skip-accounts", action="store_true", help="Do not refresh every account."
        )
        parser.add_argument(
            "--every",
            type=float,
            metavar="SECONDS",
            help="Sweep again every SECONDS until stopped (SIGTERM or SIGINT ends it between "
            "sweeps); a failed sweep is logged and the next one runs on time.",
        )

    def handle(self, *args, skip_accounts=False, every=None, **options):
        if every is None:
            self.sweep(skip_accounts)
            return
        if every <= 0:
            raise CommandError("--every must be a positive number of seconds.")
        stop = threading.Event()
        previous = {
            signum: signal.signal(signum, lambda *_: stop.set())
            for signum in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            self.sweep_until(stop, every, skip_accounts)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def sweep_until(self, stop, every, skip_accounts):
        while not stop.is_set():
            started = time.monotonic()
            try:
                self.sweep(skip_accounts)
            except Exception:
                # A process runner stops every process when one exits: outlive the error.
                logger.exception("steward_sweep failed; the next sweep runs in %s s", every)
            finally:
                # Hold no connection while idle; one broken by a database restart is
                # replaced by the next sweep.
                connections.close_all()
            stop.wait(max(0.0, every - (time.monotonic() - started)))

    def sweep(self, skip_accounts):
        ended = end_all_expired_suspensions()
        reconciled = sum(backend.reconcile() for backend in all_backends().values())
        refreshed = 0
        if not skip_accounts:
            users = get_adapter().user_model()._base_manager.iterator(chunk_size=2000)
            refreshed = refresh_accounts(users)
        purged = purge_expired_records()
        forgotten = purge_quiet_records()
        self.stdout.write(
            f"Ended {ended} suspensions, reconciled {reconciled} jobs, "
            f"refreshed {refreshed} accounts, purged {purged} idempotency records "
            f"and {forgotten} sign-in throttle records."
        )
