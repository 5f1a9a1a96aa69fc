"""Who may see and act on which complaint (DESIGN §4, §6.4).

* Holders of ``view_all_complaints`` (service manager, general manager, DPO, auditor) see
  every complaint.
* Service staff (``handle_complaint``) see the queue: complaints assigned to them and the
  unassigned ones.
* Everyone else with ``view_complaint`` (reps, sales managers) sees the complaints of the
  customers they may see: complaints follow their customer.

Everything filters in SQL. ``access_complaint`` is the one way adapters fetch a complaint
by id: missing and forbidden look the same (404), and the attempt is audited.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from complaints.models import Complaint
from complaints.roles import (
    ADD,
    ASSIGN,
    CHANGE,
    HANDLE,
    IMPORT,
    LOOKUP,
    REPORTS,
    SURVEYS,
    VIEW,
    VIEW_ALL,
)
from crm.exceptions import ForbiddenAction, HiddenObject
from crm.ids import is_object_id
from customers import permissions as customer_perms

__all__ = [
    "ADD",
    "ASSIGN",
    "CHANGE",
    "HANDLE",
    "IMPORT",
    "LOOKUP",
    "REPORTS",
    "SURVEYS",
    "VIEW",
    "VIEW_ALL",
    "access_complaint",
    "can_act",
    "visible_complaints",
]


def visible_complaints(user, queryset: QuerySet | None = None) -> QuerySet:
    """The complaints ``user`` may see, filtered in SQL."""
    queryset = Complaint.objects.all() if queryset is None else queryset
    if not user.is_authenticated or not user.has_perm(VIEW):
        return queryset.none()
    if user.has_perm(VIEW_ALL):
        return queryset
    if user.has_perm(HANDLE):
        return queryset.filter(Q(assignee=user) | Q(assignee__isnull=True))
    customers = customer_perms.visible_customers(user).values("pk")
    return queryset.filter(customer__in=customers)


def can_act(user, complaint: Complaint) -> bool:
    """Move, annotate and resolve: the assignee, or whoever assigns (the service manager).
    An unassigned complaint may be taken by any service staff member."""
    if not user.has_perm(CHANGE):
        return False
    if user.has_perm(ASSIGN):
        return True
    return user.has_perm(HANDLE) and complaint.assignee_id in (None, user.pk)


def access_complaint(user, complaint_id, *, action: str = "view") -> Complaint:
    """Fetch a complaint the user may see (``action="change"``: may also act on it).

    Invisible or missing: 404 (``HiddenObject``); visible but not his to act on: 403.
    Both are audited.
    """
    complaint = (
        visible_complaints(
            user,
            Complaint.objects.select_related(
                "customer", "category", "received_by", "assignee", "root_cause", "repeat_of"
            ),
        )
        .filter(pk=complaint_id)
        .first()
        if is_object_id(complaint_id)
        else None
    )
    if complaint is not None and (action == "view" or can_act(user, complaint)):
        return complaint
    denial = {
        "user": user,
        "content_type": ContentType.objects.get_for_model(Complaint),
        "object_id": complaint_id,
        "action": action,
    }
    if complaint is None:
        denied = HiddenObject(**denial)
    else:
        denied = ForbiddenAction(_("This complaint is assigned to someone else."), **denial)
    denied.record()
    raise denied


def refuse(user, complaint: Complaint, action: str, message=None) -> ForbiddenAction:
    """An audited 403 about a complaint the user sees (raise it)."""
    return ForbiddenAction(
        message,
        user=user,
        content_type=ContentType.objects.get_for_model(Complaint),
        object_id=complaint.pk,
        action=action,
    )


def assignee_may_reveal_phone(user, customer, fields) -> bool:
    """DESIGN §3: the assignee of an open complaint may see the customer's phone in clear
    (the reveal is audited with its purpose). A rule of ``customers.reveal_rules``."""
    if set(fields) != {"phone"} or not user.is_authenticated or not user.has_perm(HANDLE):
        return False
    return (
        Complaint.objects.filter(customer=customer, assignee=user)
        .exclude(status=Complaint.Status.CLOSED)
        .exists()
    )
