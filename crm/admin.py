from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from crm import auditing, roles
from crm.models import Team, User


class RoleFilter(admin.RelatedFieldListFilter):
    """The users list filtered by role: translated role names, never the group codes."""

    def field_choices(self, field, request, model_admin):
        return [
            (pk, roles.label(name))
            for pk, name in Group.objects.order_by("name").values_list("pk", "name")
        ]


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
    list_filter = (("groups", RoleFilter), "team", "is_active", "is_staff")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (gettext_lazy("Team"), {"fields": ("team",)}),
    )

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        formfield = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "groups":
            # Roles by their translated names (销售经理), never the group codes.
            formfield.label_from_instance = lambda group: roles.label(group.name)
        return formfield

    def get_readonly_fields(self, request, obj=None):
        # Only the break-glass superuser makes superusers or grants single permissions;
        # admins give roles (groups), which the audit trail records. Nobody changes his
        # own roles or staff status (separation of duties, issue 14 item 3).
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ["is_superuser", "user_permissions"]
        if obj is not None and obj.pk == request.user.pk:
            fields += ["groups", "is_staff", "is_active"]
        return fields

    def save_model(self, request, obj, form, change):
        from crm.security.services import user_deactivated

        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            user_deactivated(actor=request.user, user=obj)

    def save_related(self, request, form, formsets, change):
        # Roles go through the security service: a high-trust role waits for a second
        # person's confirmation instead of being given at once.
        from crm.security.services import user_roles_set

        wanted = None
        if "groups" in form.changed_data:
            wanted = sorted(group.name for group in form.cleaned_data["groups"])
            form.cleaned_data["groups"] = list(form.instance.groups.all())
            form.changed_data.remove("groups")
        super().save_related(request, form, formsets, change)
        if wanted is None:
            return
        pending = user_roles_set(actor=request.user, user=form.instance, role_names=wanted)
        for change_request in pending:
            messages.warning(
                request,
                _("The role %(role)s waits for a second person to confirm it.")
                % {"role": roles.label(change_request.role)},
            )

    def user_change_password(self, request, id, form_url=""):
        from crm.security.services import password_set_check

        target = self.get_object(request, id)
        if target is not None:
            if not self.has_change_permission(request, target):
                raise PermissionDenied
            password_set_check(actor=request.user, user=target)
        return super().user_change_password(request, id, form_url)


@admin.register(Team)
class TeamAdmin(AuditedAdminMixin, SimpleHistoryAdmin):
    list_display = ("name", "manager")
    search_fields = ("name",)


admin.site.unregister(Group)


@admin.register(Group)
class RoleGroupAdmin(DjangoGroupAdmin):
    """Roles are groups kept by ``crm.roles.sync_roles``: listed by their translated names."""

    list_display = ("role",)

    @admin.display(description=gettext_lazy("role"), ordering="name")
    def role(self, group):
        return roles.label(group.name)
