"""The roles of DESIGN §1 as groups, and the model permissions each carries.

Permissions are named ``app_label.codename``. Apps that land later add their
permissions here; ``sync_roles`` (run by a data migration and after every ``migrate``)
creates missing groups and grants what is listed. It only adds, so permissions an
admin granted by hand survive a deploy.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

SALES_REP = "sales_rep"
SALES_MANAGER = "sales_manager"
GENERAL_MANAGER = "general_manager"
SERVICE_STAFF = "service_staff"
DPO = "data_protection_officer"
AUDITOR = "auditor"
ADMIN = "admin"

LABELS = {
    SALES_REP: _("Sales rep"),
    SALES_MANAGER: _("Sales manager"),
    GENERAL_MANAGER: _("General manager"),
    SERVICE_STAFF: _("Service staff"),
    DPO: _("Data protection officer"),
    AUDITOR: _("Auditor"),
    ADMIN: _("Administrator"),
}
ROLES = tuple(LABELS)

_VIEW_PEOPLE = ["crm.view_user", "crm.view_team"]
_VIEW_REFERENCE = [
    "customers.view_businesstype",
    "customers.view_tier",
    "customers.view_servicestage",
    "customers.view_customattribute",
]
_CUSTOMER_RECORDS = [
    "contact",
    "identitydocument",
    "consent",
    "interaction",
    "stagemove",
    "customattributevalue",
]
_READ_CUSTOMERS = ["customers.view_customer"] + [
    f"customers.view_{model}" for model in _CUSTOMER_RECORDS
]
_KEEP_CUSTOMERS = [
    *_READ_CUSTOMERS,
    "customers.add_customer",
    "customers.change_customer",
    "customers.reveal_customer",
    "customers.export_customer",
    # Clear export needs a reason and covers only the customers the user may reveal.
    "customers.export_clear_customer",
    "customers.view_visitplanentry",
    "customers.add_visitplanentry",
    "customers.change_visitplanentry",
    *(f"customers.add_{model}" for model in _CUSTOMER_RECORDS),
    *(f"customers.change_{model}" for model in _CUSTOMER_RECORDS),
]
_CAMPAIGNS = [
    "customers.view_campaign",
    "customers.add_campaign",
    "customers.change_campaign",
    "customers.view_campaignsend",
]
_IMPORTS = ["customers.import_customer", "customers.view_importjob", "customers.add_importjob"]

PERMISSIONS: dict[str, list[str]] = {
    SALES_REP: [*_VIEW_PEOPLE, *_VIEW_REFERENCE, *_KEEP_CUSTOMERS, *_IMPORTS],
    SALES_MANAGER: [
        *_VIEW_PEOPLE,
        *_VIEW_REFERENCE,
        *_KEEP_CUSTOMERS,
        *_IMPORTS,
        *_CAMPAIGNS,
        "customers.merge_customer",
    ],
    GENERAL_MANAGER: [
        *_VIEW_PEOPLE,
        *_VIEW_REFERENCE,
        *_KEEP_CUSTOMERS,
        *_IMPORTS,
        *_CAMPAIGNS,
        "customers.merge_customer",
        "customers.view_all_customers",
    ],
    # Service staff see the customers granted to them, masked; they log interactions.
    SERVICE_STAFF: [
        *_VIEW_PEOPLE,
        *_VIEW_REFERENCE,
        *_READ_CUSTOMERS,
        "customers.add_interaction",
    ],
    DPO: [
        *_VIEW_PEOPLE,
        *_VIEW_REFERENCE,
        *_READ_CUSTOMERS,
        "customers.view_all_customers",
        "customers.reveal_customer",
        "customers.add_consent",
        "customers.change_consent",
        "customers.view_campaign",
        "customers.view_campaignsend",
        "customers.view_importjob",
        "audit.view_auditevent",
        "audit.verify_audit_chain",
    ],
    AUDITOR: [
        *_VIEW_PEOPLE,
        *_VIEW_REFERENCE,
        *_READ_CUSTOMERS,
        "customers.view_all_customers",
        "customers.view_campaign",
        "customers.view_campaignsend",
        "customers.view_importjob",
        "audit.view_auditevent",
        "audit.verify_audit_chain",
    ],
    ADMIN: [
        *_VIEW_REFERENCE,
        *(
            f"customers.{action}_{model}"
            for action in ("add", "change")
            for model in ("businesstype", "tier", "servicestage", "customattribute")
        ),
        "crm.view_user",
        "crm.add_user",
        "crm.change_user",
        "crm.view_team",
        "crm.add_team",
        "crm.change_team",
        "auth.view_group",
        "django_celery_beat.view_periodictask",
        "django_celery_beat.change_periodictask",
    ],
}

# Roles whose members may use the Django admin site (they stay non-superusers).
STAFF_ROLES = {ADMIN}


def extend(role: str, permissions: list[str]) -> None:
    """Add permissions to a role (for apps that land later, from their AppConfig)."""
    PERMISSIONS[role] = sorted({*PERMISSIONS[role], *permissions})


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
