"""Who may see and act on which customer (DESIGN §4).

A customer is visible to its owner, to the manager of its team, to holders of
``customers.view_all_customers`` (general manager, data protection officer, auditor) and to
anyone granted it explicitly through django-guardian's direct foreign-key tables (e.g.
service staff on an open complaint). Child records follow their customer. Everything here
filters in SQL.

``access_customer`` is the one way adapters fetch a customer by id: missing and forbidden
look the same (404), and a forbidden attempt is recorded in the audit trail.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from crm.exceptions import ForbiddenAction, HiddenObject
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
IMPORT = "customers.import_customer"


def _granted(user) -> Q:
    user_grant = CustomerUserObjectPermission.objects.filter(
        content_object=OuterRef("pk"), user=user, permission__codename="view_customer"
    )
    group_grant = CustomerGroupObjectPermission.objects.filter(
        content_object=OuterRef("pk"),
        group__in=user.groups.all(),
        permission__codename="view_customer",
    )
    return Q(Exists(user_grant)) | Q(Exists(group_grant))


def visible_customers(user, queryset: QuerySet | None = None) -> QuerySet:
    """The customers ``user`` may see, as a queryset filtered in SQL."""
    queryset = Customer.objects.all() if queryset is None else queryset
    if not user.is_authenticated or not user.has_perm(VIEW):
        return queryset.none()
    if user.has_perm(VIEW_ALL):
        return queryset
    return queryset.filter(Q(owner=user) | Q(team__manager=user) | _granted(user))


def can_see(user, customer: Customer) -> bool:
    return visible_customers(user, Customer.objects.filter(pk=customer.pk)).exists()


def can_change(user, customer: Customer) -> bool:
    """Owners, their team manager and the general manager change a card; grants only read."""
    if not user.has_perm(CHANGE):
        return False
    if user.has_perm(VIEW_ALL):  # the general manager (other overseers cannot change)
        return True
    return customer.owner_id == user.pk or (
        customer.team_id is not None and customer.team.manager_id == user.pk
    )


def can_reveal(user, customer: Customer) -> bool:
    return user.has_perm(REVEAL) and can_see(user, customer)


def access_customer(user, customer_id, *, action: str = "view") -> Customer:
    """Fetch a customer the user may see (``action="change"``: may change).

    Invisible or missing: 404 (``HiddenObject``); visible but not changeable: 403.

    Callers still check the model permission of what they do with it.
    """
    customer = (
        visible_customers(user, Customer.objects.select_related("team", "owner"))
        .filter(pk=customer_id)
        .first()
        if str(customer_id).isdigit()
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
    if not transaction.get_connection().in_atomic_block:
        denied.record()  # otherwise the adapter records it once the transaction ended
    raise denied


def _customer_type():
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(Customer)
