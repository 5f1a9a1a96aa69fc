"""Writes of the daily workspace: reveal purposes, status changes, owner changes, hand-over.

Each function checks the permission and the customer's visibility, validates, writes in
one transaction with the history's user and reason, and records one audit event whose
data holds ids, codes and counts only.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import record_event
from crm import roles
from crm.models import User
from crm.permissions import require_perm
from customers import events
from customers import permissions as perms
from customers.models import Customer
from customers.services.cards import _save

# --- reveal purposes (DESIGN §3) -----------------------------------------------------------

OTHER_PURPOSE = "other"
REVEAL_PURPOSES = [
    ("call_back", gettext_lazy("Call back")),
    ("verify_identity", gettext_lazy("Verify identity")),
    ("contract", gettext_lazy("Contract")),
    ("delivery", gettext_lazy("Delivery")),
    ("complaint", gettext_lazy("Complaint handling")),
    ("legal", gettext_lazy("Legal request")),
    (OTHER_PURPOSE, gettext_lazy("Other (say why)")),
]
_PURPOSE_CODES = {code for code, _label in REVEAL_PURPOSES}


def reveal_reason(*, purpose: str, text: str = "") -> str:
    """The audit reason of a reveal for ``purpose``: its code, and the user's words.

    Raises a field error when the purpose is unknown, or is "other" without words.
    """
    text = (text or "").strip()
    if purpose not in _PURPOSE_CODES:
        raise ValidationError({"purpose": [_("Choose why you need to see the data in clear.")]})
    if purpose == OTHER_PURPOSE:
        if not text:
            raise ValidationError({"reason": [_("Say why you need to see the data in clear.")]})
        return text
    return f"{purpose}: {text}" if text else purpose


# --- status (prospect → active → dormant → closed) ---------------------------------------

Status = Customer.Status
# Which statuses a card may move to from each; merged cards never move.
STATUS_TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.PROSPECT: (Status.ACTIVE, Status.CLOSED),
    Status.ACTIVE: (Status.DORMANT, Status.CLOSED),
    Status.DORMANT: (Status.ACTIVE, Status.CLOSED),
    Status.CLOSED: (Status.ACTIVE,),
}
# Leaving the active trade, or reopening a closed card, needs a reason.
REASON_REQUIRED = {Status.DORMANT, Status.CLOSED}


def status_choices_for(customer: Customer) -> list[tuple[str, str]]:
    return [(code, Status(code).label) for code in STATUS_TRANSITIONS.get(customer.status, ())]


@transaction.atomic
def customer_status_change(
    *, actor: User, customer_id: int, to_status: str, reason: str = ""
) -> Customer:
    """Move a card along prospect → active → dormant → closed (and back where allowed).

    Only those who may change the card; a closed card is reopened as active by its team's
    manager or the general manager only. Dormant, closed and reopening need a reason.
    """
    require_perm(actor, perms.CHANGE)
    perms.access_customer(actor, customer_id, action="change")
    customer = Customer.objects.select_for_update().get(pk=customer_id)
    reason = (reason or "").strip()
    from_status = customer.status
    if to_status not in STATUS_TRANSITIONS.get(from_status, ()):
        raise ValidationError(
            {
                "to_status": [
                    _("A %(from)s card cannot become %(to)s.")
                    % {
                        "from": Status(from_status).label,
                        "to": Status(to_status).label if to_status in Status.values else to_status,
                    }
                ]
            }
        )
    reopening = from_status == Status.CLOSED
    if reopening and not actor.has_perm(perms.VIEW_ALL):
        team = customer.owner.team if customer.owner_id else None
        if team is None or team.manager_id != actor.pk:
            raise perms.refuse(
                actor, customer, "reopen", _("Only a manager may reopen a closed card.")
            )
    if (to_status in REASON_REQUIRED or reopening) and not reason:
        raise ValidationError({"reason": [_("Say why the status changes.")]})
    customer.status = to_status
    customer.version += 1
    _save(customer, actor, reason or f"status: {to_status}")
    record_event(
        action=events.CUSTOMER_STATUS_CHANGED,
        actor=actor,
        obj=customer,
        reason=reason,
        data={"from": from_status, "to": to_status},
    )
    return customer


# --- who may act on a card ---------------------------------------------------------------


def may_act_on(user: User, customer: Customer) -> bool:
    """Whether ``user`` may be made responsible for a stage of ``customer``."""
    from customers.selectors import card_actors

    return card_actors(customer).filter(pk=user.pk).exists()


def check_actor(user: User, customer: Customer, *, field: str) -> None:
    if not user.is_active or not may_act_on(user, customer):
        raise ValidationError(
            {field: [_("Choose someone who works on this customer: its team, or a grantee.")]}
        )


ACTING_ROLES = (roles.SALES_REP, roles.SALES_MANAGER, roles.GENERAL_MANAGER, roles.SERVICE_STAFF)
