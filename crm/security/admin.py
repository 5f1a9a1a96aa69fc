"""Admin pages: sign-in locks (lift them), API tokens (revoke), role changes (read)."""

from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from crm.auditing import record as record_event
from crm.security import events, tokens
from crm.security.models import ApiToken, RoleChange


@admin.register(AccessAttempt)
class SignInLockAdmin(admin.ModelAdmin):
    """Failed sign-ins by username and address; deleting a row lifts its lock (audited)."""

    list_display = ("username", "ip_address", "failures_since_start", "attempt_time")
    search_fields = ("username", "ip_address")
    fields = ("username", "ip_address", "failures_since_start", "attempt_time")
    readonly_fields = fields
    actions = ["unlock"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description=_("Lift the sign-in lock"), permissions=["delete"])
    def unlock(self, request, queryset):
        rows = list(queryset.values("pk", "username"))
        queryset.delete()
        for row in rows:
            record_event(action=events.UNLOCKED, actor=request.user, data={"attempt_id": row["pk"]})
        messages.success(request, _("%(count)d sign-in locks lifted.") % {"count": len(rows)})

    def delete_model(self, request, obj):
        pk = obj.pk
        super().delete_model(request, obj)
        record_event(action=events.UNLOCKED, actor=request.user, data={"attempt_id": pk})


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "created_at", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("user__username",)
    fields = list_display
    readonly_fields = list_display
    actions = ["revoke"]

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Revoke"))
    def revoke(self, request, queryset):
        for token in queryset.filter(revoked_at__isnull=True):
            tokens.token_revoke(actor=request.user, token_id=token.pk)


@admin.register(RoleChange)
class RoleChangeAdmin(admin.ModelAdmin):
    """Read-only here: a second person confirms on /security/role-changes/."""

    list_display = ("user", "role", "status", "requested_by", "decided_by", "created_at")
    list_filter = ("status", "role")
    readonly_fields = (*list_display, "decided_at")
    fields = readonly_fields

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
