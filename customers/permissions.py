"""Who may see and act on which customer (DESIGN §4).

A customer is visible to its owner, to the manager of the owner's *current* team (derived
from the owner in SQL, so a rep's move to another team moves his customers' oversight with
him), to holders of ``customers.view_all_customers`` (general manager, data protection
officer, auditor) and to anyone granted it explicitly through django-guardian's direct
foreign-key tables (e.g. service staff on an open complaint) while the grant has not
expired. Child records follow their customer. Everything here filters in SQL.

Seeing personal data in clear (reveal, clear export) belongs only to the *entitled*: the
owner, the owner's team manager, the general manager and the DPO (DESIGN §3); a grant
never gives it.

``access_customer`` is the one way adapters fetch a customer by id: missing and forbidden
look the same (404), and a forbidden attempt is recorded in the audit trail.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.exceptions import ForbiddenAction, HiddenObject
from crm.ids import is_object_id
from customers.models import (
    Customer,
    CustomerGroupObjectPermission,
    CustomerUserObjectPermission,
)

VIEW = "customers.view_customer"
CHANGE = "customers.change_customer"
REVEAL = "customers.reveal_customer"
VIEW_ALL = "customers.view_all_customers"
MERGE = "customers.merge_customer"
EXPORT = "customers.export_customer"
EXPORT_CLEAR = "customers.export_clear_customer"
IMPORT = "customers.import_customer"


def live_grants() -> Q:
    """Grants that have not expired (a lookup on either grant table)."""
    return Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())


def _granted(user) -> Q:
    user_grant = CustomerUserObjectPermission.objects.filter(
        live_grants(),
        content_object=OuterRef("pk"),
        user=user,
        permission__codename="view_customer",
    )
    group_grant = CustomerGroupObjectPermission.objects.filter(
        live_grants(),
        content_object=OuterRef("pk"),
        group__in=user.groups.all(),
        permission__codename="view_customer",
    )
    return Q(Exists(user_grant)) | Q(Exists(group_grant))


def _responsible(user) -> Q:
    """The owner and the manager of the owner's current team (never the stale card team)."""
    return Q(owner=user) | Q(owner__team__manager=user)


def visible_customers(user, queryset: QuerySet | None = None) -> QuerySet:
    """The customers ``user`` may see, as a queryset filtered in SQL."""
    queryset = Customer.objects.all() if queryset is None else queryset
    if not user.is_authenticated or not user.has_perm(VIEW):
        return queryset.none()
    if user.has_perm(VIEW_ALL):
        return queryset
    return queryset.filter(_responsible(user) | _granted(user))


def revealable_customers(user, queryset: QuerySet | None = None) -> QuerySet:
    """The customers whose personal data ``user`` may see in clear, filtered in SQL.

    The owner, the owner's team manager, and holders of ``view_all_customers`` who also hold
    ``reveal_customer`` (general manager, DPO); a grant never counts.
    """
    queryset = visible_customers(user, queryset)
    if not user.has_perm(REVEAL):
        return queryset.none()
    if user.has_perm(VIEW_ALL):
        return queryset
    return queryset.filter(_responsible(user))


def can_see(user, customer: Customer) -> bool:
    return visible_customers(user, Customer.objects.filter(pk=customer.pk)).exists()


def can_change(user, customer: Customer) -> bool:
    """Owners, their team manager and the general manager change a card; grants only read."""
    if not user.has_perm(CHANGE):
        return False
    if user.has_perm(VIEW_ALL):  # the general manager (other overseers cannot change)
        return True
    if customer.owner_id == user.pk:
        return True
    return Customer.objects.filter(pk=customer.pk, owner__team__manager=user).exists()


def can_reveal(user, customer: Customer) -> bool:
    """Entitled to see this customer's personal data in clear (a grant never is)."""
    return revealable_customers(user, Customer.objects.filter(pk=customer.pk)).exists()


def can_export_clear(user) -> bool:
    return user.has_perm(EXPORT) and user.has_perm(EXPORT_CLEAR) and user.has_perm(REVEAL)


def can_grant(user, customer: Customer) -> bool:
    """Who may share a card and see or revoke its grants: those who may change it."""
    return can_change(user, customer)


def can_see_grants(user, customer: Customer) -> bool:
    """Who holds grants on a card: for those who may grant, and for the overseers."""
    return can_grant(user, customer) or user.has_perm(VIEW_ALL)


def access_customer(user, customer_id, *, action: str = "view") -> Customer:
    """Fetch a customer the user may see (``action="change"``: may change).

    Invisible or missing: 404 (``HiddenObject``); visible but not changeable: 403.

    Callers still check the model permission of what they do with it.
    """
    customer = (
        visible_customers(user, Customer.objects.select_related("team", "owner__team"))
        .filter(pk=customer_id)
        .first()
        if is_object_id(customer_id)
        else None
    )
    if customer is not None and (action != "change" or can_change(user, customer)):
        return customer
    denial = {
        "user": user,
        "content_type": _customer_type(),
        "object_id": customer_id,
        "action": action,
    }
    denied = HiddenObject(**denial) if customer is None else ForbiddenAction(**denial)
    denied.record()  # now, or once the transaction it was raised in has ended
    raise denied


def refuse(user, customer: Customer, action: str, message=None) -> ForbiddenAction:
    """An audited 403 about a customer the user sees (raise it)."""
    return ForbiddenAction(
        message,
        user=user,
        content_type=_customer_type(),
        object_id=customer.pk,
        action=action,
    )


def refuse_export_clear(user) -> ForbiddenAction:
    """An audited 403 for a clear export asked for without the right to it (raise it)."""
    return ForbiddenAction(
        _("You are not allowed to export customers' personal data in clear."),
        user=user,
        content_type=_customer_type(),
        object_id="",
        action="export_clear",
    )


def _customer_type():
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(Customer)
