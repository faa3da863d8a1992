"""The forum's own models. Nothing here knows about Steward: no mixin, no manager, no
field added for it (forum/steward.py points Steward at them)."""

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class VisiblePostManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(hidden=False)


class Post(models.Model):
    # A UUID key, as many products use: Steward stores object keys as text.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forum_posts"
    )
    title = models.CharField(max_length=300)
    body_html = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    hidden = models.BooleanField(default=False)
    hidden_reason = models.CharField(max_length=200, blank=True)
    # Escalated posts take no new comments until a senior moderator looks.
    locked = models.BooleanField(default=False)

    # The default manager hides removed posts, as products often do; Steward reads
    # objects through the base manager, so it still finds them.
    all_objects = models.Manager()
    objects = VisiblePostManager()

    class Meta:
        ordering = ["-created_at"]
        default_manager_name = "objects"
        base_manager_name = "all_objects"

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("forum:post", args=[self.pk])


class Comment(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forum_comments"
    )
    body_html = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    hidden = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"comment {self.pk} on {self.post_id}"

    def get_absolute_url(self):
        return reverse("forum:post", args=[self.post_id]) + f"#comment-{self.pk}"


class ReportCache(models.Model):
    """What the build_report job has already scanned: a run that timed out leaves it warm,
    so the next run is fast (a retry succeeds)."""

    name = models.CharField(max_length=100, unique=True)
    warmed_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.name
