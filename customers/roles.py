"""What each role of ``crm.roles`` may do with the customers app's models.

Added to the roles from ``CustomersConfig.ready()``; ``crm.roles.sync_roles`` grants them
after every ``migrate``.
"""

from __future__ import annotations

from crm import roles

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
_READ_CUSTOMERS = [
    "customers.view_customer",
    *(f"customers.view_{model}" for model in _CUSTOMER_RECORDS),
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
_READ_CAMPAIGNS = ["customers.view_campaign", "customers.view_campaignsend"]
_IMPORTS = ["customers.import_customer", "customers.view_importjob", "customers.add_importjob"]
_KEEP_REFERENCE = [
    f"customers.{action}_{model}"
    for action in ("add", "change")
    for model in ("businesstype", "tier", "servicestage", "customattribute")
]

PERMISSIONS: dict[str, list[str]] = {
    roles.SALES_REP: [*_VIEW_REFERENCE, *_KEEP_CUSTOMERS, *_IMPORTS],
    roles.SALES_MANAGER: [
        *_VIEW_REFERENCE,
        *_KEEP_CUSTOMERS,
        *_IMPORTS,
        *_CAMPAIGNS,
        "customers.merge_customer",
        "customers.reassign_customer",
    ],
    roles.GENERAL_MANAGER: [
        *_VIEW_REFERENCE,
        *_KEEP_CUSTOMERS,
        *_IMPORTS,
        *_CAMPAIGNS,
        "customers.merge_customer",
        "customers.reassign_customer",
        "customers.view_all_customers",
    ],
    # Service staff see the customers granted to them, masked; they log interactions.
    roles.SERVICE_STAFF: [*_VIEW_REFERENCE, *_READ_CUSTOMERS, "customers.add_interaction"],
    roles.DPO: [
        *_VIEW_REFERENCE,
        *_READ_CUSTOMERS,
        *_READ_CAMPAIGNS,
        "customers.view_all_customers",
        "customers.reveal_customer",
        "customers.add_consent",
        "customers.change_consent",
        "customers.view_importjob",
    ],
    roles.AUDITOR: [
        *_VIEW_REFERENCE,
        *_READ_CUSTOMERS,
        *_READ_CAMPAIGNS,
        "customers.view_all_customers",
        "customers.view_importjob",
    ],
    roles.ADMIN: [*_VIEW_REFERENCE, *_KEEP_REFERENCE],
}


def extend_roles() -> None:
    for role, permissions in PERMISSIONS.items():
        roles.extend(role, permissions)
    roles.declare_unused(
        ["customers.*_historical*"],
        reason="history rows are written by django-simple-history and read on the timeline",
    )
    roles.declare_unused(
        ["customers.delete_*"],
        reason="cards and their records are closed, withdrawn, merged or purged by services, "
        "never deleted by hand",
    )
    roles.declare_unused(
        ["customers.*_customeruserobjectpermission", "customers.*_customergroupobjectpermission"],
        reason="grants on a card are given and revoked with the card's grant service",
    )
    roles.declare_unused(
        ["customers.add_campaignsend", "customers.change_campaignsend"],
        reason="sends are written by the campaign service as it sends",
    )
    roles.declare_unused(
        ["customers.*_savedview"],
        reason="a saved view of the customer list belongs to its user, who alone saves, "
        "renames and deletes it through the saved-view service",
    )
    roles.declare_unused(
        ["customers.change_importjob"], reason="an import job is advanced by the import service"
    )
