"""Admin registrations for every Steward model, so staff's old tool keeps working beside
Steward. Audit events are read-only. Edits made here move the rows in the delta feeds
(updated_at, and version for items) and are written to the audit log like API mutations.
"""

from django.contrib import admin
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from steward import models
from steward.services.audit import record_audit


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


@admin.register(models.Item)
class ItemAdmin(AuditedAdmin):
    audit_target = "item"
    list_display = ["id", "title", "queue", "state", "version", "updated_at"]
    list_filter = ["queue", "state"]
    search_fields = ["title"]
    raw_id_fields = ["author", "claimed_by"]
    inlines = [ReportInline]


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
    search_fields = ["actor_username", "target_id"]

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
