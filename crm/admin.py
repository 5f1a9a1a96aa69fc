from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from simple_history.admin import SimpleHistoryAdmin

from crm import auditing
from crm.models import Team, User


class AuditedAdminMixin:
    """Changes made in the admin site leave an audit event and a history row with the actor."""

    def save_model(self, request, obj, form, change):
        obj._history_user = request.user
        super().save_model(request, obj, form, change)
        auditing.record(
            action=auditing.ADMIN_CHANGED if change else auditing.ADMIN_ADDED,
            actor=request.user,
            obj=obj,
            data={"fields": sorted(form.changed_data)},
        )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if "groups" in form.changed_data:
            auditing.record(
                action=auditing.USER_ROLE_CHANGED,
                actor=request.user,
                obj=form.instance,
                data={"roles": sorted(g.name for g in form.instance.groups.all())},
            )


@admin.register(User)
class UserAdmin(AuditedAdminMixin, DjangoUserAdmin, SimpleHistoryAdmin):
    list_display = ("username", "first_name", "last_name", "team", "is_active", "is_staff")
    list_filter = ("groups", "team", "is_active", "is_staff")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Team", {"fields": ("team",)}),
    )

    def get_readonly_fields(self, request, obj=None):
        # Only the break-glass superuser makes superusers or grants single permissions;
        # admins give roles (groups), which the audit trail records.
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ["is_superuser", "user_permissions"]
        return fields


@admin.register(Team)
class TeamAdmin(AuditedAdminMixin, SimpleHistoryAdmin):
    list_display = ("name", "manager")
    search_fields = ("name",)
