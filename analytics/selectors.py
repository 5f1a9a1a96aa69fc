"""Sales analytics.

Reads that encode rules: querysets narrowed to what the user may see, report queries.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics import permissions as perms
from analytics.models import Product, PurchaseEstimate, ReportRun
from analytics.reports import Scope
from crm.permissions import require_perm
from customers.permissions import access_customer
from customers.selectors import customer_list


def default_period(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """From the first of the year to today."""
    today = today or timezone.localdate()
    return today.replace(month=1, day=1), today


def report_scope(
    *,
    user,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    business_type: int | None = None,
    rep: int | None = None,
    team: int | None = None,
    customer: int | None = None,
) -> Scope:
    """The scope of a report for ``user``: 403 without the report permission, 404 (audited)
    for a customer he may not see, a field error for a reversed period."""
    require_perm(user, perms.VIEW_REPORTS, _("You are not allowed to see sales reports."))
    first, last = default_period()
    date_from, date_to = date_from or first, date_to or last
    if date_from > date_to:
        raise ValidationError({"date_to": [_("The end of the period is before its start.")]})
    if customer is not None:
        customer = access_customer(user, customer).pk
    return Scope(
        user=user,
        date_from=date_from,
        date_to=date_to,
        business_type=business_type,
        rep=rep,
        team=team,
        customer=customer,
    )


def product_list() -> QuerySet:
    return Product.objects.order_by("code")


def report_run_list(*, user) -> QuerySet:
    if not user.has_perm(perms.VIEW_RUNS):
        return ReportRun.objects.none()
    return ReportRun.objects.defer("workbook", "results").select_related("requested_by")


def purchase_estimate_list(
    *, user, customer: int | None = None, year: int | None = None
) -> QuerySet:
    """The estimates of the customers ``user`` may see (none without the view permission),
    newest year first, with ``customer_code`` annotated (no card is loaded or decrypted)."""
    if not user.has_perm(perms.VIEW_ESTIMATE):
        return PurchaseEstimate.objects.none()
    queryset = PurchaseEstimate.objects.filter(
        customer_id__in=customer_list(user=user).order_by().values("pk")
    )
    if customer is not None:
        queryset = queryset.filter(customer_id=customer)
    if year is not None:
        queryset = queryset.filter(year=year)
    return queryset.annotate(customer_code=F("customer__code")).order_by(
        "-year", "customer__code", "pk"
    )


def visible_customer_by_code(*, user, code: str):
    """The customer with this code if ``user`` may see it, else None (one query; only its
    id and code are loaded, nothing is decrypted)."""
    code = (code or "").strip()
    if not code:
        return None
    return (
        customer_list(user=user).filter(code=code).select_related(None).only("pk", "code").first()
    )
