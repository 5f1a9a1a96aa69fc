"""What the complaints app adds to the customer card, the home page, the header, merges
and reveals, through the registries of ``customers`` and ``crm`` only."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from complaints import permissions as perms


def complaints_tab_context(request, customer) -> dict:
    from complaints import selectors

    return {"complaints": selectors.complaints_of_customer(customer=customer, user=request.user)}


def complaints_tab_permission(user, customer) -> bool:
    return user.has_perm(perms.VIEW)


def complaint_timeline(customer, user, limit):
    from complaints import selectors

    return selectors.customer_timeline_entries(customer=customer, user=user, limit=limit)


def dashboard_context(user):
    if not user.has_perm(perms.HANDLE):
        return None
    from complaints import selectors

    return selectors.service_queue_summary(user=user)


def register_notification_kinds() -> None:
    from crm import notifications

    notifications.register(
        notifications.Kind(
            code="complaints.assigned",
            text=_("Complaint %(complaint)s was assigned to you"),
            email=True,
        )
    )
    notifications.register(
        notifications.Kind(
            code="complaints.escalated",
            text=_("Complaint %(complaint)s is past its SLA deadline"),
            email=True,
        )
    )
    # A leaving colleague's complaints: one message for the lot, not one per complaint.
    notifications.register(
        notifications.Kind(
            code="complaints.handed_over",
            text=_("Complaints handed over to you: %(count)s"),
            email=True,
        )
    )


def register_lookup_purposes() -> None:
    """The audit console shows a caller look-up's purpose by its label, not its code."""
    from audit import events as audit_events
    from complaints.forms import LOOKUP_PURPOSE_CHOICES

    for code, label in LOOKUP_PURPOSE_CHOICES:
        audit_events.register_purpose(code, label)


def register_all() -> None:
    from complaints.models import Complaint, SurveyInvitation
    from crm import dashboard, navigation
    from customers import card_tabs, merge_policies, reveal_rules, timeline

    card_tabs.register(
        card_tabs.CardTab(
            key="complaints",
            label=_("Complaints"),
            template="complaints/card_tab.html",
            context=complaints_tab_context,
            permission=complaints_tab_permission,
            order=75,
        )
    )
    timeline.register(complaint_timeline)
    dashboard.register(
        dashboard.Panel(
            key="complaints",
            template="complaints/_dashboard.html",
            context=dashboard_context,
            order=30,
        )
    )
    for entry in (
        navigation.NavEntry(
            key="complaints",
            label=_("Complaints"),
            description=_("The complaint board: the service queue by status, with SLA clocks."),
            url_name="complaints:board",
            permissions=(perms.VIEW,),
            order=60,
        ),
        navigation.NavEntry(
            key="caller-lookup",
            label=_("Caller look-up"),
            description=_("Find a caller by exact phone, ID number or customer code."),
            url_name="complaints:lookup",
            permissions=(perms.LOOKUP,),
            order=61,
        ),
        navigation.NavEntry(
            key="service-reports",
            label=_("Service reports"),
            description=_("Complaint volume, SLA compliance, time to resolve, satisfaction."),
            url_name="complaints:reports",
            permissions=(perms.REPORTS,),
            order=62,
        ),
        navigation.NavEntry(
            key="satisfaction-surveys",
            label=_("Satisfaction surveys"),
            description=_("Periodic surveys to the customers who consented, and their answers."),
            url_name="complaints:surveys",
            permissions=(perms.SURVEYS,),
            order=63,
        ),
    ):
        navigation.register(entry)
    # A merged card's complaints move to the survivor (re-encrypted under its key).
    merge_policies.register(Complaint, merge_policies.MOVE)
    # Both cards invited in the same round: the survivor's invitation stands, the other
    # stays on the merged card.
    merge_policies.register(SurveyInvitation, merge_policies.KEEP_SURVIVORS)
    # DESIGN §3: the assignee of an open complaint may reveal the phone (audited).
    reveal_rules.register(perms.assignee_may_reveal_phone)
    register_notification_kinds()
    register_lookup_purposes()
