"""How Steward sees one model of the product, as the admin's ModelAdmin does.

    # forum/steward.py
    import steward

    @steward.register(Post)
    class PostSource(steward.Source):
        queue = "reported-posts"

        def title(self, post):
            return post.title

        def body_html(self, post):
            return post.body_html

        def author(self, post):
            return post.author

        def remove(self, post, decision):
            post.hidden = True
            post.save(update_fields=["hidden"])

Every method has a default, so a Source overrides only what its model needs. The decision
methods run inside the decision's transaction, with the object locked: a database write
there commits with the decision and its audit event, and an exception undoes all of them
(the moderator gets decision_effect_failed; raise steward.DecisionRefused to refuse with
your own message). Effects outside the database (mail, caches, a CDN purge) belong in a
receiver of steward.signals.decided, which runs after the commit.
"""

from urllib.parse import urljoin

from django.conf import settings


class DecisionRefused(Exception):
    """Raised by a decision method to refuse the decision with a message for the
    moderator (422 decision_refused); nothing is applied."""


class Source:
    # The slug of the Steward queue its items go to (created on first use).
    queue = "default"

    def __init__(self, model):
        self.model = model

    def get_queue(self, obj, reason: str) -> str:
        """The queue of a new item; override to route by object or reason."""
        return self.queue

    def type_label(self) -> str:
        """What staff call one of these objects ("post")."""
        return str(self.model._meta.verbose_name)

    # The snapshot moderators see. Untrusted content: Steward's desktop sanitizes it.

    def title(self, obj) -> str:
        return str(obj)

    def body_html(self, obj) -> str:
        return ""

    def url(self, obj) -> str:
        """The object on the product's public site: get_absolute_url(), made absolute
        with STEWARD_PUBLIC_URL."""
        get_url = getattr(obj, "get_absolute_url", None)
        if get_url is None:
            return ""
        return urljoin(getattr(settings, "STEWARD_PUBLIC_URL", "") or "", get_url())

    def author(self, obj):
        """The user (of the accounts adapter's model) who wrote it, or None."""
        return getattr(obj, "author", None)

    def created_at(self, obj):
        """When it was written (None: when it was first reported)."""
        return getattr(obj, "created_at", None)

    # What each decision does to the object, inside the decision's transaction.

    def approve(self, obj, decision) -> None:
        pass

    def remove(self, obj, decision) -> None:
        pass

    def escalate(self, obj, decision) -> None:
        pass

    def ignore(self, obj, decision) -> None:
        pass
