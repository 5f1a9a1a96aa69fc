"""The roles of DESIGN §1 as groups, and the model permissions each carries.

This module holds the mechanism and the role names. Permissions are named
``app_label.codename``; each app adds its own to the roles with ``extend(role, [...])``
from its ``AppConfig.ready()`` (``customers.roles``, ``audit.roles``) and declares the
ones no role holds with ``declare_unused([...], reason=...)``. ``sync_roles`` (run by a
data migration and after every ``migrate``, when every app is ready) creates missing
groups and grants what is listed. It only adds, so permissions an admin granted by hand
survive a deploy.
"""

from __future__ import annotations

import fnmatch

from django.utils.translation import gettext_lazy as _

SALES_REP = "sales_rep"
SALES_MANAGER = "sales_manager"
GENERAL_MANAGER = "general_manager"
SERVICE_STAFF = "service_staff"
SERVICE_MANAGER = "service_manager"
DPO = "data_protection_officer"
AUDITOR = "auditor"
ADMIN = "admin"

LABELS = {
    SALES_REP: _("Sales rep"),
    SALES_MANAGER: _("Sales manager"),
    GENERAL_MANAGER: _("General manager"),
    SERVICE_STAFF: _("Service staff"),
    SERVICE_MANAGER: _("Service manager"),
    DPO: _("Data protection officer"),
    AUDITOR: _("Auditor"),
    ADMIN: _("Administrator"),
}
ROLES = tuple(LABELS)

# What each role gets from the ``crm`` app itself (users, teams) and from the framework apps
# the project installs; every other app adds its own from its ``AppConfig.ready()``.
PERMISSIONS: dict[str, list[str]] = {role: [] for role in ROLES}
_UNUSED: dict[str, str] = {}  # permission or fnmatch pattern -> why no role holds it


def extend(role: str, permissions: list[str]) -> None:
    """Add permissions (``app_label.codename``) to a role; call from ``AppConfig.ready()``."""
    if role not in PERMISSIONS:
        raise ValueError(f"unknown role {role!r}; choose from {ROLES}")
    malformed = [perm for perm in permissions if perm.count(".") != 1]
    if malformed:
        raise ValueError(f"permissions are named app_label.codename: {malformed}")
    PERMISSIONS[role] = sorted({*PERMISSIONS[role], *permissions})


def declare_unused(permissions: list[str], *, reason: str) -> None:
    """Say that no role holds these permissions, and why.

    Each item is a permission or an ``fnmatch`` pattern (``"customers.delete_*"``). A test
    checks that every permission of every installed app is held by a role or declared here.
    """
    if not reason.strip():
        raise ValueError("declare_unused needs a reason")
    for pattern in permissions:
        _UNUSED[pattern] = reason


def unused_reason(permission: str) -> str | None:
    """Why no role holds ``permission``, if it was declared unused."""
    if permission in _UNUSED:
        return _UNUSED[permission]
    for pattern, reason in _UNUSED.items():
        if fnmatch.fnmatchcase(permission, pattern):
            return reason
    return None


def granted() -> set[str]:
    return {perm for perms in PERMISSIONS.values() for perm in perms}


def unaccounted(permissions) -> list[str]:
    """The permissions neither held by a role nor declared unused."""
    held = granted()
    return sorted(p for p in permissions if p not in held and unused_reason(p) is None)


extend(ADMIN, ["crm.view_user", "crm.add_user", "crm.change_user"])
extend(ADMIN, ["crm.view_team", "crm.add_team", "crm.change_team", "auth.view_group"])
extend(ADMIN, ["django_celery_beat.view_periodictask", "django_celery_beat.change_periodictask"])
for _role in (
    SALES_REP,
    SALES_MANAGER,
    GENERAL_MANAGER,
    SERVICE_STAFF,
    SERVICE_MANAGER,
    DPO,
    AUDITOR,
):
    extend(_role, ["crm.view_user", "crm.view_team"])

declare_unused(
    ["crm.delete_user", "crm.delete_team"],
    reason="users and teams are deactivated, never deleted: history and audit point at them",
)
declare_unused(
    ["crm.*_historical*", "crm.*_datakey", "crm.*_searchdigest", "crm.*_counter"],
    reason="kept by services (history, data keys, search digests, code counters), never by hand",
)
declare_unused(["crm.*_idempotencyrecord"], reason="written by the API's idempotency layer")
declare_unused(
    ["crm.*_exportjob"],
    reason="an export job is made by the export service and seen by its owner only",
)
declare_unused(
    ["crm.*_notification"],
    reason="notifications are written by crm.notifications and read by their recipient only",
)
declare_unused(
    ["auth.*_permission", "auth.add_group", "auth.change_group", "auth.delete_group"],
    reason="roles and their permissions are code (crm.roles), synced after every migrate",
)
declare_unused(
    ["contenttypes.*", "sessions.*", "admin.*_logentry"],
    reason="framework bookkeeping; the audit trail is the record users read",
)
declare_unused(
    ["authtoken.*"],
    reason="each user gets his own API token by signing in to the API (crm.api), never by hand",
)
declare_unused(
    ["guardian.*"],
    reason="object grants are given through each app's grant service, never edited directly",
)
declare_unused(
    [
        "django_celery_beat.add_periodictask",
        "django_celery_beat.delete_periodictask",
        "django_celery_beat.*_periodictasks",
        "django_celery_beat.*schedule",
    ],
    reason="schedules come from settings.CELERY_BEAT_SCHEDULE; an admin only pauses or moves them",
)


# Roles whose members may use the Django admin site (they stay non-superusers).
STAFF_ROLES = {ADMIN}


def label(role: str) -> str:
    return str(LABELS.get(role, role))


def sync_roles(group_model, permission_model, *, only_apps: set[str] | None = None) -> None:
    """Create the role groups and grant their listed permissions that exist so far."""
    for role in ROLES:
        group, _created = group_model.objects.get_or_create(name=role)
        wanted = [
            perm.split(".", 1)
            for perm in PERMISSIONS.get(role, [])
            if only_apps is None or perm.split(".", 1)[0] in only_apps
        ]
        if not wanted:
            continue
        by_app: dict[str, list[str]] = {}
        for app_label, codename in wanted:
            by_app.setdefault(app_label, []).append(codename)
        for app_label, codenames in by_app.items():
            perms = permission_model.objects.filter(
                content_type__app_label=app_label, codename__in=codenames
            )
            group.permissions.add(*perms)
