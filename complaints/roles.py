"""What each role of ``crm.roles`` may do with the complaints app's models.

Added to the roles from ``ComplaintsConfig.ready()``.
"""

from __future__ import annotations

from crm import roles

VIEW = "complaints.view_complaint"
ADD = "complaints.add_complaint"
CHANGE = "complaints.change_complaint"
HANDLE = "complaints.handle_complaint"
ASSIGN = "complaints.assign_complaint"
VIEW_ALL = "complaints.view_all_complaints"
LOOKUP = "complaints.lookup_caller"
REPORTS = "complaints.view_complaint_reports"
SURVEYS = "complaints.change_survey"
# Historical complaints from a file: the import framework's permission (customers') and
# this target's own.
IMPORT = "complaints.import_complaint"
_IMPORTS = ["customers.import_customer", "customers.view_importjob", "customers.add_importjob"]
_SURVEYS = [
    "complaints.view_survey",
    "complaints.add_survey",
    SURVEYS,
    "complaints.view_surveyinvitation",
]

_REFERENCE = ["category", "rootcause", "slapolicy", "workingperiod", "calendarday"]
_VIEW_REFERENCE = [f"complaints.view_{model}" for model in _REFERENCE]
_WORK = [
    VIEW,
    ADD,
    CHANGE,
    HANDLE,
    LOOKUP,
    "complaints.view_complaintevent",
    "complaints.add_complaintevent",
    "complaints.view_returnvisit",
    "complaints.change_returnvisit",
    *_VIEW_REFERENCE,
]

PERMISSIONS: dict[str, list[str]] = {
    roles.SERVICE_STAFF: _WORK,
    roles.SERVICE_MANAGER: [*_WORK, ASSIGN, VIEW_ALL, REPORTS, IMPORT, *_IMPORTS, *_SURVEYS],
}
# The service manager reads cards as service staff do: those granted to him, masked.
_SERVICE_MANAGER_CUSTOMERS = [
    "customers.view_customer",
    *(
        f"customers.view_{model}"
        for model in ("contact", "identitydocument", "consent", "interaction", "stagemove")
    ),
    "customers.view_customattributevalue",
    "customers.view_businesstype",
    "customers.view_tier",
    "customers.view_servicestage",
    "customers.view_customattribute",
    "customers.add_interaction",
]
PERMISSIONS |= {
    # Complaints follow their customer: reps and sales managers read those of their cards.
    roles.SALES_REP: [VIEW, "complaints.view_complaintevent", *_VIEW_REFERENCE],
    roles.SALES_MANAGER: [VIEW, "complaints.view_complaintevent", *_VIEW_REFERENCE],
    roles.GENERAL_MANAGER: [
        VIEW,
        VIEW_ALL,
        REPORTS,
        "complaints.view_complaintevent",
        "complaints.view_returnvisit",
        *_VIEW_REFERENCE,
    ],
    roles.DPO: [VIEW, VIEW_ALL, "complaints.view_complaintevent", *_VIEW_REFERENCE],
    roles.AUDITOR: [
        VIEW,
        VIEW_ALL,
        "complaints.view_complaintevent",
        "complaints.view_returnvisit",
        *_VIEW_REFERENCE,
    ],
    # The admin keeps the lists, the SLA and the working calendar.
    roles.ADMIN: [
        *_VIEW_REFERENCE,
        *(f"complaints.{action}_{model}" for action in ("add", "change") for model in _REFERENCE),
        "complaints.delete_workingperiod",
        "complaints.delete_calendarday",
    ],
}


def extend_roles() -> None:
    for role, permissions in PERMISSIONS.items():
        roles.extend(role, permissions)
    roles.extend(roles.SERVICE_MANAGER, _SERVICE_MANAGER_CUSTOMERS)
    roles.declare_unused(
        ["complaints.*_historical*"],
        reason="history rows are written by django-simple-history and read on the timeline",
    )
    roles.declare_unused(
        [
            "complaints.delete_complaint",
            "complaints.delete_complaintevent",
            "complaints.change_complaintevent",
            "complaints.delete_returnvisit",
            "complaints.add_returnvisit",
            "complaints.delete_category",
            "complaints.delete_rootcause",
            "complaints.delete_slapolicy",
            "complaints.delete_survey",
            "complaints.add_surveyinvitation",
            "complaints.change_surveyinvitation",
            "complaints.delete_surveyinvitation",
        ],
        reason="complaints and their steps are closed, never deleted; return visits are "
        "scheduled by the resolution; lists are deactivated, never deleted; survey "
        "invitations are written by the round and answered through the signed link, surveys "
        "deactivated, never deleted",
    )
