"""The credit app's notifications, through the shared block (``crm.notifications``).

Texts hold customer codes, numbers and dates only, never a personal value.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm import roles

URGENT_REPORT = "credit.urgent_report"
EXPOSURE_WARNING = "credit.exposure_warning"
ORDER_BLOCKED = "credit.order_blocked"
OPENING_WAITING = "credit.opening_waiting"
LIMIT_WAITING = "credit.limit_waiting"
HOLD_PLACED = "credit.hold_placed"
RISK_REPORT = "credit.risk_report"

KINDS = {
    URGENT_REPORT: _("Urgent credit report on customer %(customer)s"),
    EXPOSURE_WARNING: _("Customer %(customer)s has used %(percent)s%% of its credit limit"),
    ORDER_BLOCKED: _("Order %(order)s of customer %(customer)s is blocked: %(reason)s"),
    OPENING_WAITING: _("Account opening of customer %(customer)s waits for your approval"),
    LIMIT_WAITING: _(
        "Credit limit %(amount)s %(currency)s for customer %(customer)s waits for your approval"
    ),
    HOLD_PLACED: _("Shipments to customer %(customer)s are on hold"),
    RISK_REPORT: _("Risk report on customer %(customer)s: a note was %(trigger)s"),
}


def register_kinds() -> None:
    from crm import notifications

    for code, text in KINDS.items():
        notifications.register(notifications.Kind(code=code, text=text, email=True))


def card_link(customer) -> str:
    return reverse("customers:detail", args=[customer.pk]) + "?tab=credit"


def managers_of(customer) -> list:
    """Who answers for the customer: the manager of the owner's current team, else the
    general managers."""
    team = getattr(customer.owner, "team", None)
    if team is not None and team.manager_id:
        return [team.manager_id]
    return general_managers()


def general_managers() -> list:
    from crm.models import User

    return list(
        User.objects.filter(groups__name=roles.GENERAL_MANAGER, is_active=True).values_list(
            "pk", flat=True
        )
    )


def send(code: str, *, recipients, customer, params: dict, actor=None, link: str = "") -> list:
    """Notify ``recipients`` inside the caller's transaction (e-mails go on commit)."""
    recipients = [r for r in recipients if r]
    if not recipients:
        return []
    from crm import notifications

    return notifications.notify(
        code=code,
        recipients=recipients,
        params={"customer": customer.code, **params},
        link=link or card_link(customer),
        actor=actor,
    )
