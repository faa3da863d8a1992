"""Seed the demo product: staff users per role, queues, reason templates, the forum's
members, posts and comments reported as the forum reports them (forum/seed/content.py),
a long audit history (forum/seed/audit.py) and background jobs on both backends
(forum/seed/jobs.py), quickly: a million items or ten million audit events in minutes.

Running it again does not duplicate anything: users and queues are updated in place,
items are only created when there are none (or after --reset), and --audit N / --jobs N
top the tables up to N rows. Items are written a chunk of posts per transaction, so a
run stopped half way leaves the chunks it finished: run it again with --reset.
"""

import random
import time

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from forum.seed.audit import seed_audit
from forum.seed.content import MEMBER_PASSWORD, reset_content, seed_content
from forum.seed.jobs import seed_jobs
from steward.models import (
    Decision,
    IdempotencyRecord,
    Item,
    Job,
    Queue,
    ReasonTemplate,
    Report,
)
from steward.permissions import ROLES

QUEUES = [
    ("reported-posts", "Reported posts", 10),
    ("spam", "Spam", 5),
    ("new-accounts", "New accounts", 1),
]

REASON_TEMPLATES = [
    ("decision", "spam", "Spam or advertising", "Removed as spam.", ["remove"]),
    ("decision", "harassment", "Harassment", "Removed: targets another member.", ["remove"]),
    (
        "decision",
        "nsfw",
        "Adult content",
        "Removed: adult content outside allowed areas.",
        ["remove"],
    ),
    ("decision", "off-topic", "Off topic", "", ["remove", "ignore"]),
    (
        "decision",
        "no-violation",
        "No violation",
        "Reviewed, no rule broken.",
        ["approve", "ignore"],
    ),
    ("decision", "needs-senior", "Needs a senior moderator", "", ["escalate"]),
    ("account", "repeat-offender", "Repeated violations", "Suspended after repeated removals.", []),
    ("account", "compromised", "Account looks compromised", "Forced logout, reset sent.", []),
    ("account", "appeal-granted", "Appeal granted", "Reactivated after appeal.", []),
]


class Command(BaseCommand):
    help = "Create demo staff users, queues, members, items and reports."

    def add_arguments(self, parser):
        parser.add_argument("--items", type=int, default=300, help="Number of items (300).")
        parser.add_argument(
            "--password",
            help="One password for all three demo users (default: <role>-demo).",
        )
        parser.add_argument(
            "--reset", action="store_true", help="Delete existing demo content first."
        )
        parser.add_argument("--seed", type=int, default=42, help="Random seed (42).")
        parser.add_argument(
            "--audit", type=int, default=0, help="Top audit events up to N (0: leave as is)."
        )
        parser.add_argument(
            "--jobs", type=int, default=40, help="Top background jobs up to N (40)."
        )

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        rng = random.Random(options["seed"])
        with transaction.atomic():
            if options["reset"]:
                self._reset()
            passwords = self._users(options["password"])
            self._queues()
            self._reason_templates()
        if Item.objects.exists():
            self.stdout.write("Items already exist; not adding more (use --reset).")
        else:
            moderator = get_user_model().objects.get(username="moderator")
            started = time.monotonic()
            count = seed_content(rng, options["items"], moderator, self._progress("items"))
            self.stdout.write(
                f"Created {count} reported posts and comments. Took {self._since(started)}."
            )
        with transaction.atomic():
            added_jobs = seed_jobs(rng, options["jobs"])
        if added_jobs:
            self.stdout.write(f"Created {added_jobs} jobs.")
        started = time.monotonic()
        added_audit = seed_audit(options["audit"], self._progress("audit events"))
        if added_audit:
            self.stdout.write(f"Created {added_audit} audit events. Took {self._since(started)}.")
        self.stdout.write("Demo users (username / password):")
        for username, password in passwords.items():
            self.stdout.write(f"  {username} / {password}")
        self.stdout.write(f"Forum members: member0000, member0001, ... / {MEMBER_PASSWORD}")

    def _progress(self, what):
        """Progress lines on stderr for seeds long enough to wait for (verbosity 1+)."""
        started = time.monotonic()

        def report(done):
            if self.verbosity >= 1 and time.monotonic() - started > 5:
                self.stderr.write(f"  {done} {what} ({self._since(started)})")

        return report

    @staticmethod
    def _since(started):
        return f"{time.monotonic() - started:.1f} s"

    def _reset(self):
        # Audit events stay: they are append-only, --reset or not.
        Job.objects.all().delete()
        IdempotencyRecord.objects.all().delete()
        Decision.objects.all().delete()
        Report.objects.all().delete()
        reset_content()

    def _users(self, shared_password):
        user_model = get_user_model()
        passwords = {}
        for role in ROLES:
            group, _ = Group.objects.get_or_create(name=role)
            user, _ = user_model.objects.get_or_create(username=role)
            user.is_staff = True
            user.is_superuser = role == "admin"
            user.first_name = role.capitalize()
            user.last_name = "Demo"
            password = shared_password or f"{role}-demo"
            user.set_password(password)
            user.save()
            user.groups.add(group)
            passwords[role] = password
        return passwords

    def _queues(self):
        queues = []
        for slug, name, priority in QUEUES:
            queue, _ = Queue.objects.update_or_create(
                slug=slug, defaults={"name": name, "priority": priority}
            )
            queues.append(queue)
        return queues

    def _reason_templates(self):
        for position, (scope, code, label, text, actions) in enumerate(REASON_TEMPLATES):
            ReasonTemplate.objects.update_or_create(
                scope=scope,
                code=code,
                defaults={"label": label, "text": text, "actions": actions, "position": position},
            )
