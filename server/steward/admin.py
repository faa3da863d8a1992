"""Admin registrations for every Steward model, so staff's old tool keeps working beside
Steward. Audit events are read-only. Edits made here move the rows in the delta feeds
(updated_at, and version for items) and are written to the audit log like API mutations.
Items have the decisions as admin actions, through the same decision service as the API.

The item and audit changelists are configured as a product team would for tables of a
million rows and more (bench/README.md measures them beside Steward): newest first, no
second COUNT(*) of the whole table on every page, and the audit log searchable by the
words Steward's own audit search finds.
"""

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import capfirst

from steward import models
from steward.errors import StewardError
from steward.operations import serialize_item
from steward.permissions import has_permission_code
from steward.services.audit import record_audit
from steward.services.items import decide_item


class AuditedAdmin(admin.ModelAdmin):
    """Saves and deletes write a Steward audit event in the same transaction."""

    audit_target = ""

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            if hasattr(obj, "updated_at") and not isinstance(obj, models.Queue):
                obj.updated_at = timezone.now()
            super().save_model(request, obj, form, change)
            if isinstance(obj, models.Item) and change:
                models.Item.objects.filter(pk=obj.pk).update(version=F("version") + 1)
            record_audit(
                request.user,
                f"{self.audit_target}.admin_{'change' if change else 'add'}",
                self.audit_target,
                obj.pk,
                {"fields": sorted(form.changed_data)},
            )

    def delete_queryset(self, request, queryset):
        # The changelist's bulk delete: one audit event per row, all in one transaction.
        with transaction.atomic():
            pks = list(queryset.values_list("pk", flat=True))
            super().delete_queryset(request, queryset)
            for pk in pks:
                record_audit(
                    request.user, f"{self.audit_target}.admin_delete", self.audit_target, pk, {}
                )

    def delete_model(self, request, obj):
        with transaction.atomic():
            pk = obj.pk
            super().delete_model(request, obj)
            record_audit(
                request.user, f"{self.audit_target}.admin_delete", self.audit_target, pk, {}
            )


@admin.register(models.Account)
class AccountAdmin(AuditedAdmin):
    """Accounts follow the product's users: change the user, not this copy of it."""

    audit_target = "account"
    list_display = ["username", "status", "suspended_until", "joined_at", "updated_at"]
    list_filter = ["status"]
    search_fields = ["username", "email", "user_key"]
    readonly_fields = [
        "user_key",
        "username",
        "email",
        "display_name",
        "roles",
        "is_active",
        "status",
        "suspended_until",
        "sessions_revoked_at",
        "joined_at",
        "last_seen_at",
        "deleted_at",
    ]


@admin.register(models.Suspension)
class SuspensionAdmin(admin.ModelAdmin):
    list_display = ["id", "account", "starts_at", "ends_at", "ended_at", "end_reason"]
    list_filter = ["end_reason"]
    raw_id_fields = ["account", "created_by", "ended_by"]


@admin.register(models.UserSession)
class UserSessionAdmin(admin.ModelAdmin):
    list_display = ["id", "account", "created_at"]
    exclude = ["session_key"]
    raw_id_fields = ["account"]


@admin.register(models.Queue)
class QueueAdmin(AuditedAdmin):
    audit_target = "queue"
    list_display = ["name", "slug", "priority"]
    prepopulated_fields = {"slug": ["name"]}


class ReportInline(admin.TabularInline):
    model = models.Report
    extra = 0


# The name the changelist's hidden input gives the version a row showed (see
# ItemAdmin.seen_version).
SEEN_VERSION_FIELD = "_seen_version_{}"

# Past tense for the message after an action ("Approved 3 items.").
DECIDED = {"approve": "Approved", "remove": "Removed", "escalate": "Escalated", "ignore": "Ignored"}

# At most this many refusals are listed one by one after an action on many items.
REFUSALS_SHOWN = 10


def _decision_action(action):
    """The admin action "<Action> selected items": each item decided through the decision
    service, as the API decides it (steward/services/items.py: the item must still be open,
    at the version the moderator saw, and not claimed by someone else; the post's own
    effect runs; the audit event commits with it), each in its own transaction, so one
    refusal does not undo the others."""

    def decide_selected(modeladmin, request, queryset):
        decided, refused = 0, []
        for pk, version in queryset.order_by("pk").values_list("pk", "version"):
            base_version = modeladmin.version_seen(request, pk, version)
            try:
                with transaction.atomic():
                    decide_item(request.user, pk, action, "", "", base_version, serialize_item)
            except StewardError as error:
                refused.append(f"#{pk}: {error.message}")
            else:
                decided += 1
        if decided:
            noun = models.Item._meta.verbose_name if decided == 1 else "items"
            modeladmin.message_user(
                request, f"{DECIDED[action]} {decided} {noun}.", messages.SUCCESS
            )
        done = DECIDED[action].lower()
        for message in refused[:REFUSALS_SHOWN]:
            modeladmin.message_user(request, f"Not {done}: {message}", messages.WARNING)
        if len(refused) > REFUSALS_SHOWN:
            modeladmin.message_user(
                request,
                f"{len(refused) - REFUSALS_SHOWN} more items were not {done}.",
                messages.WARNING,
            )

    decide_selected.__name__ = f"{action}_selected"
    decide_selected.short_description = f"{capfirst(action)} selected items"
    # Steward's permission, not Django's model permissions: the same staff who may decide
    # in the desktop app may decide here (permissions.py).
    decide_selected.allowed_permissions = ("decide",)
    return decide_selected


@admin.register(models.Item)
class ItemAdmin(AuditedAdmin):
    audit_target = "item"
    list_display = ["id", "title", "queue", "state", "seen_version", "updated_at"]
    list_filter = ["queue", "state"]
    search_fields = ["title"]
    raw_id_fields = ["author", "claimed_by"]
    inlines = [ReportInline]
    actions = [_decision_action(action) for action in DECIDED]
    # The unfiltered total would be a second COUNT(*) over every item on each page load
    # (and after each action's redirect); the filtered count is still shown.
    show_full_result_count = False

    @admin.display(description="version", ordering="version")
    def seen_version(self, item):
        """The version, and the same number in a hidden input of the changelist form, so
        an action posts the version each row showed and the decision service refuses an
        item that changed since (stale_version), as it does for the desktop app."""
        return format_html(
            '{}<input type="hidden" name="{}" value="{}">',
            item.version,
            SEEN_VERSION_FIELD.format(item.pk),
            item.version,
        )

    def version_seen(self, request, pk, version_now):
        """The version the changelist showed for item `pk`; for items it did not show
        (the action applied to every page of the selection) the version read now, which
        the decision's conditional UPDATE still checks."""
        try:
            return int(request.POST[SEEN_VERSION_FIELD.format(pk)])
        except (KeyError, ValueError):
            return version_now

    def has_decide_permission(self, request):
        return has_permission_code(request.user, "items.decide")

    # Staff who see items in Steward (its roles, permissions.py) see them here too, so a
    # moderator can use these actions without Django model permissions of their own.

    def has_module_permission(self, request):
        return super().has_module_permission(request) or self.has_view_permission(request)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or has_permission_code(
            request.user, "items.view"
        )


@admin.register(models.Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ["item", "reason", "created_at"]
    list_filter = ["reason"]
    raw_id_fields = ["item"]


@admin.register(models.Decision)
class DecisionAdmin(admin.ModelAdmin):
    list_display = ["id", "item", "action", "reason_code", "actor", "created_at"]
    list_filter = ["action"]
    raw_id_fields = ["item", "actor"]


@admin.register(models.ReasonTemplate)
class ReasonTemplateAdmin(AuditedAdmin):
    audit_target = "reason_template"
    list_display = ["scope", "code", "label", "position", "active"]
    list_filter = ["scope", "active"]


@admin.register(models.AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["id", "actor_username", "action", "target_type", "target_id", "created_at"]
    list_filter = ["action", "target_type"]
    # The fields Steward's audit search finds words in (the desktop cache indexes the
    # actor, the action, every key and value of the event's data, and the target's type
    # and id: steward-engine's records.rs, steward-store's audit.rs), so both tools answer
    # the same question: a reason code, a note's word, a staff name, an item's id. `data`
    # is searched as its JSON text (a cast to text on PostgreSQL), the only way the admin
    # can look into it. Every word typed must match one of the fields, as in Steward;
    # Steward matches word prefixes, the admin any substring (icontains), so the admin
    # finds the same rows and sometimes more.
    search_fields = ["actor_username", "action", "target_type", "target_id", "data"]
    search_help_text = "Words of the actor, action, target, or the event's data (reason, note)."
    # Newest first, as staff read a log (the model's own order is oldest first).
    ordering = ["-id"]
    # Without this every page, searched or not, also counts the whole log.
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ["user", "key", "status_code", "created_at"]
    raw_id_fields = ["user"]


@admin.register(models.TokenFamily)
class TokenFamilyAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "created_at", "revoked_at", "revoked_reason"]
    raw_id_fields = ["user"]


@admin.register(models.LoginThrottle)
class LoginThrottleAdmin(admin.ModelAdmin):
    """Failed sign-ins per username and address; deleting a row lifts its lockout."""

    list_display = ["scope", "key", "failures", "last_failure_at", "locked_until", "lockouts"]
    list_filter = ["scope"]
    search_fields = ["key"]


@admin.register(models.AccessToken)
class AccessTokenAdmin(admin.ModelAdmin):
    list_display = ["id", "family", "created_at", "expires_at"]
    exclude = ["token_hash"]
    raw_id_fields = ["family"]


@admin.register(models.RefreshToken)
class RefreshTokenAdmin(admin.ModelAdmin):
    list_display = ["id", "family", "created_at", "expires_at", "used_at", "superseded_at"]
    exclude = ["token_hash"]
    raw_id_fields = ["family", "replaced_by"]


class AccountNoteInline(admin.TabularInline):
    model = models.AccountNote
    extra = 0
    raw_id_fields = ["author"]


AccountAdmin.inlines = [AccountNoteInline]


@admin.register(models.AccountNote)
class AccountNoteAdmin(admin.ModelAdmin):
    list_display = ["id", "account", "author_username", "created_at"]
    search_fields = ["account__username", "body"]
    raw_id_fields = ["account", "author"]


@admin.register(models.JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ["id", "job", "number", "backend", "task_id", "status", "enqueued_at"]
    list_filter = ["backend", "status"]
    search_fields = ["task_id"]
    raw_id_fields = ["job", "retry_of", "created_by"]


class JobRunInline(admin.TabularInline):
    model = models.JobRun
    extra = 0
    fk_name = "job"
    raw_id_fields = ["retry_of", "created_by"]
    readonly_fields = ["task_id", "traceback"]


@admin.register(models.Job)
class JobAdmin(AuditedAdmin):
    audit_target = "job"
    list_display = ["id", "backend", "kind", "status", "attempts", "payload_summary", "updated_at"]
    list_filter = ["backend", "status", "kind"]
    search_fields = ["payload_summary", "last_error", "task_id"]
    raw_id_fields = ["created_by"]
    readonly_fields = ["task_id", "last_traceback"]
    inlines = [JobRunInline]
