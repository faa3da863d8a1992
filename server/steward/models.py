"""Data model of Steward.

Staff (moderators, support, admins) are the project's auth users; their roles are Django
groups named after the roles (see permissions.py). The people whose content is moderated
are the product's own users, seen through the accounts adapter (steward/accounts/): each
has an Account row here, Steward's view of that user, refreshed whenever the user changes,
so the accounts feed moves with them without a trigger or a column on the product's table.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


def feed_seq_field():
    """The position of a row in its delta feed, written by the database on every INSERT and
    UPDATE (see feed_stamps.py); feeds page on (feed_seq, id). Never set it from Python."""
    return models.BigIntegerField(db_default=0, editable=False)


class Account(models.Model):
    """Steward's view of one user of the product (its accounts adapter's user).

    The user's own data (username, email, name, active flag, groups, dates) is copied
    here by the adapter whenever the user changes (post_save, group changes, sign-ins),
    which also moves the row in the accounts feed. Suspensions and session ends are
    Steward's own. `user_key` is the user's primary key as text (any key type works);
    it is empty for members kept from before accounts were the product's users.
    """

    class Status(models.TextChoices):
        ACTIVE = "active"
        SUSPENDED = "suspended"
        # Deactivated in the product itself (is_active false), not by Steward.
        INACTIVE = "inactive"
        # The user was deleted from the product; the account stays for history.
        DELETED = "deleted"

    user_key = models.CharField(max_length=255, unique=True, null=True, blank=True)
    username = models.CharField(max_length=150, db_index=True)
    # Not an EmailField on purpose: products hold addresses they never validated.
    email = models.CharField(max_length=254, blank=True)
    display_name = models.CharField(max_length=200, blank=True)
    # The user's groups in the product (e.g. ["member", "trusted"]), shown to support.
    roles = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    # The end of the suspension in force; null while suspended means until reactivated.
    suspended_until = models.DateTimeField(null=True, blank=True)
    # When Steward last ended the user's sessions (suspend, force logout).
    sessions_revoked_at = models.DateTimeField(null=True, blank=True)
    joined_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    feed_seq = feed_seq_field()

    class Meta:
        indexes = [models.Index(fields=["feed_seq", "id"], name="steward_account_feed")]

    def __str__(self):
        return self.username


# The name of Account before accounts were the product's users; kept for code (and the
# desktop client's tests) that create items the old way.
Member = Account


class Suspension(models.Model):
    """A suspension of an account by Steward: the user is deactivated (is_active false)
    from its start until it ends, by itself at `ends_at`, by a reactivation, or because
    the product reactivated the user."""

    class EndReason(models.TextChoices):
        EXPIRED = "expired"
        REACTIVATED = "reactivated"
        REACTIVATED_IN_PRODUCT = "reactivated_in_product"
        USER_DELETED = "user_deleted"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="suspensions")
    starts_at = models.DateTimeField(default=timezone.now)
    # Null: until reactivated.
    ends_at = models.DateTimeField(null=True, blank=True)
    reason_code = models.CharField(max_length=64, blank=True)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Whether Steward deactivated the user (so ending the suspension activates it again;
    # a user the product had deactivated itself stays inactive).
    deactivated_user = models.BooleanField(default=False)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    end_reason = models.CharField(max_length=32, choices=EndReason.choices, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["ended_at", "ends_at"], name="steward_suspension_open")]

    def __str__(self):
        return f"suspension {self.pk} of {self.account_id}"


class UserSession(models.Model):
    """A session key of the product's session store that belongs to an account, recorded
    at sign-in (user_logged_in), so suspend and force logout can end every one of them:
    Django keeps no index of sessions by user."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"session of {self.account_id}"


class AccountNote(models.Model):
    """A support note on an account, visible to staff only."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_username = models.CharField(max_length=150, blank=True)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"note {self.pk} on {self.account_id}"


class Queue(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    priority = models.IntegerField(default=0, help_text="Higher is more urgent.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    feed_seq = feed_seq_field()

    class Meta:
        ordering = ["-priority", "id"]
        indexes = [models.Index(fields=["feed_seq", "id"], name="steward_queue_feed")]

    def __str__(self):
        return self.name


class Item(models.Model):
    """A piece of the product's content waiting for (or past) a moderation decision.

    It points at its object by content type and primary key as text (any key type:
    integers, UUIDs, strings) and keeps a snapshot of it (title, body, public link,
    author) that edits refresh while the item is open. Items from before the registry
    have no object.
    """

    class State(models.TextChoices):
        OPEN = "open"
        APPROVED = "approved"
        REMOVED = "removed"
        ESCALATED = "escalated"
        IGNORED = "ignored"
        # The object was deleted from the product while the item was open.
        DELETED = "deleted"

    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="items")
    author = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="items"
    )
    object_type = models.ForeignKey(
        "contenttypes.ContentType",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    object_key = models.CharField(max_length=255, blank=True)
    title = models.CharField(max_length=300)
    # Untrusted HTML, stored exactly as the member submitted it; clients sanitize.
    body_html = models.TextField(blank=True)
    # The object on the product's public site.
    url = models.CharField(max_length=2000, blank=True)
    object_deleted_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    version = models.PositiveIntegerField(default=1)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="steward_claims",
    )
    claim_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    feed_seq = feed_seq_field()

    class Meta:
        indexes = [
            models.Index(fields=["feed_seq", "id"], name="steward_item_feed"),
            models.Index(fields=["queue", "feed_seq", "id"], name="steward_item_queue_feed"),
            models.Index(fields=["queue", "state", "created_at"], name="steward_item_queue_open"),
            models.Index(fields=["object_type", "object_key"], name="steward_item_object"),
        ]
        constraints = [
            # At most one open item per object: two reports at once settle on it.
            models.UniqueConstraint(
                fields=["object_type", "object_key"],
                condition=models.Q(state="open", object_type__isnull=False),
                name="steward_item_one_open_per_object",
            )
        ]

    def __str__(self):
        return f"#{self.pk} {self.title}"


class Report(models.Model):
    """A report of an item's object by a user of the product (or anonymously)."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="reports")
    # The product's reason code (spam, harassment, ...).
    reason = models.CharField(max_length=32)
    note = models.TextField(blank=True)
    reporter = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports_made"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.reason} on #{self.item_id}"


class Decision(models.Model):
    class Action(models.TextChoices):
        APPROVE = "approve"
        REMOVE = "remove"
        ESCALATE = "escalate"
        IGNORE = "ignore"

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="decisions")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="steward_decisions",
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    reason_code = models.CharField(max_length=64, blank=True)
    note = models.TextField(blank=True)
    base_version = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.action} #{self.item_id} by {self.actor_id}"


class ReasonTemplate(models.Model):
    """A canned reason a moderator or support agent picks when acting."""

    class Scope(models.TextChoices):
        DECISION = "decision"
        ACCOUNT = "account"

    scope = models.CharField(max_length=16, choices=Scope.choices)
    code = models.SlugField(max_length=64)
    label = models.CharField(max_length=200)
    text = models.TextField(blank=True, help_text="Suggested note shown to the moderator.")
    # Actions this reason fits (e.g. ["remove"]); empty means any action of the scope.
    actions = models.JSONField(default=list, blank=True)
    position = models.IntegerField(default=0)
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)
    feed_seq = feed_seq_field()

    class Meta:
        ordering = ["scope", "position", "id"]
        indexes = [models.Index(fields=["feed_seq", "id"], name="steward_reason_feed")]
        constraints = [
            models.UniqueConstraint(fields=["scope", "code"], name="steward_reason_scope_code")
        ]

    def __str__(self):
        return f"{self.scope}:{self.code}"


class AuditEvent(models.Model):
    """Append-only record of every mutation. Rows are never updated or deleted by Steward.

    actor_username is copied so that deleting a staff account keeps a readable history.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    feed_seq = feed_seq_field()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["feed_seq", "id"], name="steward_audit_feed"),
            models.Index(fields=["actor_username", "id"], name="steward_audit_actor"),
            models.Index(fields=["action", "id"], name="steward_audit_action"),
            models.Index(fields=["target_type", "target_id", "id"], name="steward_audit_target"),
        ]

    def __str__(self):
        return f"{self.action} {self.target_type}:{self.target_id} by {self.actor_username}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit events are append-only.")


class IdempotencyRecord(models.Model):
    """The first response to a mutation sent with an Idempotency-Key, for replay.

    The unique (user, key) constraint is what settles two racing requests with the same key.
    Records live STEWARD_IDEMPOTENCY_RETENTION_SECONDS; `steward_sweep` purges older ones
    through the created_at index (steward.idempotency.purge_expired_records).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="steward_idempotency_user_key")
        ]
        indexes = [models.Index(fields=["created_at"], name="steward_idempotency_created")]

    def __str__(self):
        return f"{self.user_id}:{self.key}"


class TokenFamily(models.Model):
    """One login session: every access and refresh token descending from one login."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="steward_sessions"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=32, blank=True)

    class Meta:
        verbose_name_plural = "token families"

    def __str__(self):
        return f"session {self.id} of {self.user_id}"


class AccessToken(models.Model):
    family = models.ForeignKey(TokenFamily, on_delete=models.CASCADE, related_name="access_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    def __str__(self):
        return f"access token {self.pk} of {self.family_id}"


class RefreshToken(models.Model):
    family = models.ForeignKey(TokenFamily, on_delete=models.CASCADE, related_name="refresh_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    # When this token was rotated (used to refresh).
    used_at = models.DateTimeField(null=True, blank=True)
    # The token issued for it: at the rotation, then at each retry within the grace window
    # (the latest of them).
    replaced_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The token it was issued for. A retry within the grace window issues a sibling (one
    # more token rotated from the same one); the first sibling used retires the others.
    rotated_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="rotated_to"
    )
    # Set when a sibling was used first; presenting it then counts as reuse.
    superseded_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"refresh token {self.pk} of {self.family_id}"


class Job(models.Model):
    """A background job of the product as staff see it: one row per job, however many
    runs it takes, whichever backend runs it (steward/jobs/).

    The backends' own signals fill it (django-tasks' task_enqueued/started/finished,
    Celery's after_task_publish/task_prerun/task_success/task_failure/...), so every job
    of the product shows here, and the jobs feed is one commit-ordered feed like the
    others. Each run on the backend (one django-tasks result, one Celery task id) is a
    JobRun; a retry through Steward is a new run of the same job, linked to the failed
    one, with the same task and the same arguments.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    # The alias of the Steward job backend in STEWARD_JOB_BACKENDS ("legacy" for jobs
    # recorded before Steward used the product's backends).
    backend = models.CharField(max_length=64, default="legacy")
    # What the job does, as staff read it: the Celery task name, or the django-tasks
    # task's name.
    kind = models.CharField(max_length=200)
    # What the backend needs to run it again: the Celery task name, or the django-tasks
    # task's import path.
    task_path = models.CharField(max_length=500, blank=True)
    queue = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # The exact arguments, {"args": [...], "kwargs": {...}}; null when they cannot be
    # stored as JSON exactly, and then retry_blocked_reason says why.
    payload = models.JSONField(null=True, blank=True)
    payload_summary = models.CharField(max_length=300, blank=True)
    retry_blocked_reason = models.CharField(max_length=300, blank=True)
    # Backend options a retry keeps (priority, routing).
    options = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    last_traceback = models.TextField(blank=True)
    result = models.JSONField(null=True, blank=True)
    # The backend's id of the latest run.
    task_id = models.CharField(max_length=255, blank=True)
    feed_seq = feed_seq_field()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["feed_seq", "id"], name="steward_job_feed"),
            models.Index(fields=["status", "kind", "id"], name="steward_job_status"),
            # The jobs feed filtered by status (the jobs screen's failed list): its pages
            # and its count read this index alone, however many jobs there are.
            models.Index(fields=["status", "feed_seq", "id"], name="steward_job_status_feed"),
        ]

    def __str__(self):
        return f"job {self.pk} {self.kind} ({self.status})"


class JobRun(models.Model):
    """One run of a Job on its backend: a django-tasks result or a Celery task id."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="runs")
    backend = models.CharField(max_length=64)
    task_id = models.CharField(max_length=255)
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Job.Status.choices, default=Job.Status.PENDING)
    # The run this one retried, when staff retried the job through Steward.
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    enqueued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    traceback = models.TextField(blank=True)

    class Meta:
        ordering = ["job", "number"]
        constraints = [
            models.UniqueConstraint(fields=["backend", "task_id"], name="steward_jobrun_task")
        ]

    def __str__(self):
        return f"run {self.number} of job {self.job_id} ({self.status})"


class LoginThrottle(models.Model):
    """Failed sign-ins counted for one username or one client address (throttle.py).

    Kept in the database so every web process behind the balancer sees the same counts.
    `failures` counts inside the window that started at `window_started_at`; reaching the
    limit locks the key until `locked_until`, for a time that doubles with each lockout in
    a row (`lockouts`). `steward_sweep` deletes rows that have been quiet for a day.
    """

    class Scope(models.TextChoices):
        USERNAME = "username"
        ADDRESS = "address"

    scope = models.CharField(max_length=16, choices=Scope.choices)
    key = models.CharField(max_length=255)
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField()
    last_failure_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)
    lockouts = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="steward_login_throttle_key")
        ]
        indexes = [models.Index(fields=["last_failure_at"], name="steward_login_throttle_quiet")]

    def __str__(self):
        return f"{self.scope}:{self.key}"
