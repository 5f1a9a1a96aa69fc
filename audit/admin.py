from django.contrib import admin

from audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: events are written by ``record_event`` and never changed."""

    list_display = (
        "sequence",
        "occurred_at",
        "actor_username",
        "action",
        "content_type",
        "object_id",
    )
    list_filter = ("action",)
    search_fields = ("actor_username", "object_id", "action")
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
