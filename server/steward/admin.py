"""Admin registrations for every Steward model. Audit events are read-only."""

from django.contrib import admin

from steward import models


@admin.register(models.Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["username", "status", "suspended_until", "joined_at", "updated_at"]
    list_filter = ["status"]
    search_fields = ["username", "email"]


@admin.register(models.Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "priority"]
    prepopulated_fields = {"slug": ["name"]}


class ReportInline(admin.TabularInline):
    model = models.Report
    extra = 0


@admin.register(models.Item)
class ItemAdmin(admin.ModelAdmin):
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
class ReasonTemplateAdmin(admin.ModelAdmin):
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


@admin.register(models.AccessToken)
class AccessTokenAdmin(admin.ModelAdmin):
    list_display = ["id", "family", "created_at", "expires_at"]
    exclude = ["token_hash"]
    raw_id_fields = ["family"]


@admin.register(models.RefreshToken)
class RefreshTokenAdmin(admin.ModelAdmin):
    list_display = ["id", "family", "created_at", "expires_at", "used_at"]
    exclude = ["token_hash"]
    raw_id_fields = ["family"]


class MemberNoteInline(admin.TabularInline):
    model = models.MemberNote
    extra = 0
    raw_id_fields = ["author"]


MemberAdmin.inlines = [MemberNoteInline]


@admin.register(models.MemberNote)
class MemberNoteAdmin(admin.ModelAdmin):
    list_display = ["id", "member", "author_username", "created_at"]
    search_fields = ["member__username", "body"]
    raw_id_fields = ["member", "author"]


@admin.register(models.Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "status", "attempts", "payload_summary", "updated_at"]
    list_filter = ["kind", "status"]
    search_fields = ["payload_summary", "last_error"]
    raw_id_fields = ["created_by"]
    readonly_fields = ["task_result_id", "last_traceback"]
