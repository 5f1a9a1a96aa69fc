"""Credit: permission names and the ``access_<entity>()`` helpers (DESIGN §4).

Credit rows follow their customer: a row is visible to whoever sees its customer
(``customers.permissions.visible_customers``, filtered in SQL). A row the user may not see
answers 404 and the attempt is audited, exactly as for a card.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet

from crm.exceptions import HiddenObject
from crm.ids import is_object_id
from customers import permissions as customer_perms
from customers.models import Customer

VIEW_ACCOUNT = "credit.view_creditaccount"
SUBMIT_ACCOUNT = "credit.add_creditaccount"
APPROVE_OPENING = "credit.approve_opening"
APPROVE_OPENING_FINAL = "credit.approve_opening_final"
CONFIRM_GRADE = "credit.confirm_grade"
CHANGE_ACCOUNT = "credit.change_creditaccount"
TERMINATE = "credit.terminate_account"
REPORTS = "credit.view_credit_reports"
REQUEST_LIMIT = "credit.add_creditlimit"
APPROVE_LIMIT = "credit.approve_creditlimit"
APPROVE_LIMIT_ABOVE_CAP = "credit.approve_creditlimit_above_cap"
VIEW_LIMIT = "credit.view_creditlimit"
ADD_ORDER = "credit.add_order"
VIEW_ORDER = "credit.view_order"
RELEASE_ORDER = "credit.release_order"
ADD_HOLD = "credit.add_hold"
RELEASE_HOLD = "credit.release_hold"
VIEW_HOLD = "credit.view_hold"
ADD_INVESTIGATION = "credit.add_investigation"
VIEW_INVESTIGATION = "credit.view_investigation"
ADD_ATTACHMENT = "credit.add_investigationattachment"
VIEW_ATTACHMENT = "credit.view_investigationattachment"
ADD_INVOICE = "credit.add_invoice"
CHANGE_INVOICE = "credit.change_invoice"
VIEW_INVOICE = "credit.view_invoice"
ADD_PAYMENT = "credit.add_payment"
VIEW_PAYMENT = "credit.view_payment"
ADD_NOTE = "credit.add_note"
CHANGE_NOTE = "credit.change_note"
VIEW_NOTE = "credit.view_note"
ADD_RESPONSE = "credit.add_deteriorationresponse"
CHANGE_RESPONSE = "credit.change_deteriorationresponse"
CHANGE_CONDITION = "credit.change_accountcondition"
VIEW_SETTINGS = "credit.view_creditsettings"
CHANGE_SETTINGS = "credit.change_creditsettings"
IMPORT_RECEIVABLES = "credit.add_invoice"


def visible_customer_ids(user) -> QuerySet:
    """The ids of the customers ``user`` may see, as a subquery (SQL, never Python)."""
    return customer_perms.visible_customers(user, Customer.objects.all()).values("pk")


def visible(user, queryset: QuerySet) -> QuerySet:
    """The rows of ``queryset`` whose customer ``user`` may see."""
    if not user.is_authenticated:
        return queryset.none()
    return queryset.filter(customer__in=visible_customer_ids(user))


def access_row(user, model, row_id, *, action: str = "view", queryset: QuerySet | None = None):
    """Fetch a credit row of a customer the user may see, else 404 (audited), missing and
    forbidden alike. Callers still check the model permission of what they do with it."""
    queryset = model.objects.all() if queryset is None else queryset
    row = (
        visible(user, queryset.select_related("customer__owner__team")).filter(pk=row_id).first()
        if is_object_id(row_id)
        else None
    )
    if row is not None:
        return row
    denied = HiddenObject(
        user=user,
        content_type=ContentType.objects.get_for_model(model),
        object_id=row_id,
        action=action,
    )
    denied.record()
    raise denied


def may_decide_for(user, customer: Customer) -> bool:
    """Managers decide for the customers they answer for: the owner's team manager and the
    general manager (``customers.permissions.can_change``)."""
    return customer_perms.can_change(user, customer)
