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


def status_transition_refusal(from_status: str, to_status: str) -> str:
    """Why a card may not go from ``from_status`` to ``to_status`` ("" when it may)."""
    if to_status in STATUS_TRANSITIONS.get(from_status, ()):
        return ""
    return _("A %(from)s card cannot become %(to)s.") % {
        "from": Status(from_status).label,
        "to": Status(to_status).label if to_status in Status.values else to_status,
    }


def may_reopen(actor: User, owner_team_manager_id: int | None) -> bool:
    """A closed card is reopened by the manager of its owner's team or the general manager."""
    return actor.has_perm(perms.VIEW_ALL) or (
        owner_team_manager_id is not None and owner_team_manager_id == actor.pk
    )


def status_needs_reason(from_status: str, to_status: str) -> bool:
    """Leaving the active trade (dormant, closed), or reopening, says why."""
    return to_status in REASON_REQUIRED or from_status == Status.CLOSED


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
    refusal = status_transition_refusal(from_status, to_status)
    if refusal:
        raise ValidationError({"to_status": [refusal]})
    if from_status == Status.CLOSED:
        team = customer.owner.team if customer.owner_id else None
        if not may_reopen(actor, team.manager_id if team is not None else None):
            raise perms.refuse(
                actor, customer, "reopen", _("Only a manager may reopen a closed card.")
            )
    if status_needs_reason(from_status, to_status) and not reason:
        raise ValidationError({"reason": [_("Say why the status changes.")]})
    customer.status = to_status
    customer.version += 1
    _save(customer, actor, reason)
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


# --- owners: reassign a card, a selection, or a leaving rep's whole book (item 5) ---------

# Cards reassigned, or put on a plan, from one list selection at most (a page holds 100).
MAX_SELECTION = 500
HANDOVER_BATCH = 500  # cards locked and saved per round of a hand-over


def _selection(customer_ids) -> list[int]:
    try:
        ids = sorted({int(pk) for pk in customer_ids})
    except (TypeError, ValueError):
        ids = []
    if not ids:
        raise ValidationError({"customers": [_("Select at least one customer.")]})
    if len(ids) > MAX_SELECTION:
        raise ValidationError(
            {"customers": [_("Select at most %(count)d customers.") % {"count": MAX_SELECTION}]}
        )
    return ids


def _check_owner(actor: User, owner: User | None) -> User:
    from customers.selectors import owner_candidates

    if owner is None or not owner_candidates(actor).filter(pk=owner.pk).exists():
        raise ValidationError(
            {
                "owner": [
                    _(
                        "Choose an active sales rep or manager of your own team (the "
                        "general manager: of any team)."
                    )
                ]
            }
        )
    return owner


def _reassign_one(actor: User, customer: Customer, owner: User, reason: str) -> bool:
    """Give ``customer`` (locked, keys preloaded) to ``owner``; False when he owns it."""
    if customer.owner_id == owner.pk:
        return False
    customer.owner, customer.team = owner, owner.team
    customer.version += 1
    _save(customer, actor, reason)
    return True


def _lock_reassignable(actor: User, ids: list[int]) -> list[Customer]:
    """The customers of ``ids`` the actor may reassign, locked; every one or a refusal."""
    allowed = perms.reassignable_customers(actor, Customer.objects.filter(pk__in=ids)).exclude(
        status=Customer.Status.MERGED
    )
    customers = list(
        Customer.objects.filter(pk__in=allowed.values("pk"))
        .select_for_update()
        .order_by("pk")
        .preload_keys()
    )
    if len(customers) != len(ids):
        raise ValidationError(
            {
                "customers": [
                    _("Some selected customers are not yours to reassign: nothing was changed.")
                ]
            }
        )
    return customers


@transaction.atomic
def customer_owner_change(
    *, actor: User, customer_id: int, owner: User | None, reason: str = ""
) -> Customer:
    """Give one card to another owner: a manager within his team, the GM across teams.

    The card's team follows the new owner. One history row (reason recorded) and one
    ``customers.owner_changed`` event with both owners' ids.
    """
    require_perm(actor, perms.REASSIGN)
    customer = perms.access_customer(actor, customer_id, action="change")
    if not perms.can_reassign(actor, customer):
        raise perms.refuse(actor, customer, "reassign", _("You may not reassign this customer."))
    owner = _check_owner(actor, owner)
    reason = (reason or "").strip()
    (customer,) = _lock_reassignable(actor, [customer.pk])
    _owner_change_recorded(actor, customer, owner, reason, bulk=False)
    return customer


def _owner_change_recorded(actor, customer, owner, reason: str, *, bulk: bool) -> bool:
    """Give one locked card to ``owner`` and record its ``customers.owner_changed`` event;
    False (nothing written) when it is already his."""
    previous = customer.owner_id
    if not _reassign_one(actor, customer, owner, reason):
        return False
    record_event(
        action=events.CUSTOMER_OWNER_CHANGED,
        actor=actor,
        obj=customer,
        reason=reason,
        data={"from_owner_id": previous, "to_owner_id": owner.pk, "bulk": bulk},
    )
    return True


@transaction.atomic
def customers_reassign(*, actor: User, customer_ids, owner: User | None, reason: str = "") -> int:
    """Give the customers selected on the list to another owner (all or none).

    Each card changed gets its history row and its own ``customers.owner_changed`` event
    (marked ``bulk``), as a change from the card would: the card's audit trail shows it.
    Returns how many cards changed owner (those already his are left alone).
    """
    require_perm(actor, perms.REASSIGN)
    ids = _selection(customer_ids)
    owner = _check_owner(actor, owner)
    reason = (reason or "").strip()
    return sum(
        _owner_change_recorded(actor, customer, owner, reason, bulk=True)
        for customer in _lock_reassignable(actor, ids)
    )


@transaction.atomic
def customers_hand_over(
    *, actor: User, from_user: User | None, to_user: User | None, reason: str = ""
) -> int:
    """Give every live card of ``from_user`` (a rep who leaves) to ``to_user``.

    A manager hands over within the teams he manages, the general manager anywhere. Each
    card gets a history row with the reason; the hand-over is one
    ``customers.handed_over`` event with both users' ids and the count (a book of
    thousands of cards is one decision, not thousands). Returns the count.
    """
    from customers.selectors import handover_sources

    require_perm(actor, perms.REASSIGN)
    if from_user is None or not handover_sources(actor).filter(pk=from_user.pk).exists():
        raise ValidationError({"from_user": [_("Choose a sales rep or manager of your own team.")]})
    to_user = _check_owner(actor, to_user)
    if to_user.pk == from_user.pk:
        raise ValidationError({"owner": [_("Choose someone else to take the customers over.")]})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the customers are handed over.")]})
    return customers_book_transfer(actor=actor, from_user=from_user, to_user=to_user, reason=reason)


def customers_book_transfer(*, actor: User, from_user: User, to_user: User, reason: str) -> int:
    """Move every live card of ``from_user`` to ``to_user`` in batches; one
    ``customers.handed_over`` event. The caller has checked who may, and the successor
    (``customers_hand_over`` for managers, ``customers.offboarding`` for user admins)."""
    book = (
        Customer.objects.filter(owner=from_user)
        .exclude(status=Customer.Status.MERGED)
        .order_by("pk")
    )
    count, last = 0, 0
    while True:
        batch = list(book.filter(pk__gt=last).select_for_update().preload_keys()[:HANDOVER_BATCH])
        if not batch:
            break
        last = batch[-1].pk
        count += sum(_reassign_one(actor, customer, to_user, reason) for customer in batch)
        if len(batch) < HANDOVER_BATCH:
            break
    record_event(
        action=events.CUSTOMERS_HANDED_OVER,
        actor=actor,
        obj=from_user,
        reason=reason,
        data={"from_user_id": from_user.pk, "to_user_id": to_user.pk, "count": count},
    )
    return count


# --- the list's other bulk actions -----------------------------------------------------


@transaction.atomic
def customers_visit_plan_add(
    *, actor: User, customer_ids, rep: User | None = None
) -> dict[str, int]:
    """Put the selected prospects on a visit plan: each card's owner's, or ``rep``'s.

    For those who may reassign (a manager plans within his team, the GM anywhere; ``rep``
    must be someone he could make owner). Cards that are not prospects, or already on
    that plan, are skipped and counted. One ``customers.visit_plan_added`` event with the
    counts.
    """
    from customers.models import VisitPlanEntry

    require_perm(actor, perms.REASSIGN)
    require_perm(actor, "customers.add_visitplanentry")
    ids = _selection(customer_ids)
    if rep is not None:
        rep = _check_owner(actor, rep)
    customers = _lock_reassignable(actor, ids)
    planned = set(
        VisitPlanEntry.objects.filter(
            customer_id__in=ids, status=VisitPlanEntry.Status.ACTIVE
        ).values_list("rep_id", "customer_id")
    )
    added = not_prospects = already = 0
    for customer in customers:
        planner_id = rep.pk if rep is not None else customer.owner_id
        if customer.status != Customer.Status.PROSPECT:
            not_prospects += 1
        elif (planner_id, customer.pk) in planned:
            already += 1
        else:
            entry = VisitPlanEntry(
                customer=customer, data_key_id=customer.data_key_id, rep_id=planner_id
            )
            _save(entry, actor)
            added += 1
    counts = {"added": added, "not_prospects": not_prospects, "already_planned": already}
    record_event(
        action=events.CUSTOMERS_PLANNED,
        actor=actor,
        data={**counts, "rep_id": rep.pk if rep is not None else None},
    )
    return counts
