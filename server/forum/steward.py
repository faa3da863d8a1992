"""How Steward moderates the forum: autodiscovered at start-up, like admin.py."""

from datetime import timedelta

from django.utils import timezone

import steward
from forum.models import Comment, Post


def _new_account(user) -> bool:
    return user.date_joined > timezone.now() - timedelta(days=7)


@steward.register(Post)
class PostSource(steward.Source):
    queue = "reported-posts"

    def get_queue(self, post, reason):
        if reason == "spam":
            return "spam"
        if _new_account(post.author):
            return "new-accounts"
        return self.queue

    def title(self, post):
        return post.title

    def body_html(self, post):
        return post.body_html

    def author(self, post):
        return post.author

    def created_at(self, post):
        return post.created_at

    def approve(self, post, decision):
        if post.hidden:
            post.hidden = False
            post.hidden_reason = ""
            post.save(update_fields=["hidden", "hidden_reason", "updated_at"])

    def remove(self, post, decision):
        post.hidden = True
        post.hidden_reason = decision.reason_code or "removed by a moderator"
        post.save(update_fields=["hidden", "hidden_reason", "updated_at"])

    def escalate(self, post, decision):
        # A senior moderator will look: no new comments meanwhile.
        post.locked = True
        post.save(update_fields=["locked", "updated_at"])


@steward.register(Comment)
class CommentSource(steward.Source):
    queue = "reported-posts"

    def title(self, comment):
        return f"Comment on “{comment.post.title}”"

    def body_html(self, comment):
        return comment.body_html

    def remove(self, comment, decision):
        comment.hidden = True
        comment.save(update_fields=["hidden"])
