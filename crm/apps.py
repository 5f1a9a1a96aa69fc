from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles_after_migrate(sender, using="default", apps=None, **kwargs):
    if using != "default":
        return
    from django.contrib.auth.models import Group, Permission

    from crm.roles import sync_roles

    # Django has just created this app's permissions (auth's receiver runs first).
    sync_roles(Group, Permission, only_apps={sender.label})


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Users and teams")

    def ready(self):
        from crm import (  # noqa: F401  (system checks, demo users)
            checks,
            navigation,
            search_index,  # noqa: F401  (digests deleted with their data key)
            seed,
        )

        navigation.register(
            navigation.NavEntry(
                key="api-docs",
                label=_("API documentation"),
                description=_("The REST API under /api/v1/, described with OpenAPI."),
                url_name="api-docs",
                order=95,
            )
        )
        from crm.users import events as _user_events  # noqa: F401  (audit labels)

        navigation.register(
            navigation.NavEntry(
                key="users",
                label=_("Users"),
                description=_("Create users, change roles, deactivate, send set-password links."),
                url_name="users:list",
                permissions=("crm.change_user",),
                order=98,
            )
        )
        navigation.register(
            navigation.NavEntry(
                key="admin",
                label=_("Administration"),
                description=_("Users, teams, roles and reference data."),
                url_name="admin:index",
                staff_only=True,
                order=99,
            )
        )

        # Once per app after each migrate: roles also get permissions of models that
        # land after the role migration.
        post_migrate.connect(_sync_roles_after_migrate, dispatch_uid="crm.sync_roles")
