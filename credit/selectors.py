"""Credit: reads that encode rules: exposure in SQL, what a user may see, inboxes, reports.

Exposure (DESIGN §6.6) = open receivables (invoices not paid, not written off) + notes
received and not settled + accepted (or released) orders not yet invoiced, each summed by
the database in one statement whatever the number of rows.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Case,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from credit import permissions as perms
from credit.models import (
    MONEY,
    CreditAccount,
    CreditLimit,
    CreditSettings,
    GradeDecision,
    Hold,
    Investigation,
    InvestigationAttachment,
    Invoice,
    Note,
    Order,
    RiskReport,
)
from customers.models import Customer

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
_MONEY_FIELD = DecimalField(**MONEY)

UNSETTLED_NOTES = (Note.Status.PENDING, Note.Status.EXTENDED, Note.Status.DISHONOURED)
UNINVOICED_ORDERS = (Order.Status.ACCEPTED, Order.Status.RELEASED)


def credit_settings() -> CreditSettings:
    """The company's credit settings (made with the defaults on first use)."""
    settings_row = CreditSettings.objects.order_by("pk").first()
    if settings_row is None:
        settings_row, _created = CreditSettings.objects.get_or_create(pk=1)
    return settings_row


def _sum(queryset: QuerySet, expression) -> Coalesce:
    total = (
        queryset.order_by()
        .values("customer")
        .annotate(total=Sum(expression, output_field=_MONEY_FIELD))
        .values("total")
    )
    return Coalesce(
        Subquery(total, output_field=_MONEY_FIELD), Value(ZERO), output_field=_MONEY_FIELD
    )


def open_receivables(ref: str = "pk") -> Coalesce:
    return _sum(
        Invoice.objects.filter(
            customer=OuterRef(ref), written_off_at__isnull=True, paid_amount__lt=F("amount")
        ),
        F("amount") - F("paid_amount"),
    )


def unsettled_notes(ref: str = "pk") -> Coalesce:
    return _sum(
        Note.objects.filter(customer=OuterRef(ref), status__in=UNSETTLED_NOTES), F("amount")
    )


def uninvoiced_orders(ref: str = "pk") -> Coalesce:
    return _sum(
        Order.objects.filter(customer=OuterRef(ref), status__in=UNINVOICED_ORDERS), F("amount")
    )


def with_credit(queryset: QuerySet, ref: str = "pk") -> QuerySet:
    """``queryset`` (customers, or rows whose ``ref`` is the customer id) annotated with the
    credit summary: limit, its currency, the three parts of exposure, the hold and the
    account status: one statement."""
    active_limit = CreditLimit.objects.filter(
        customer=OuterRef(ref), status=CreditLimit.Status.ACTIVE
    )
    account = CreditAccount.objects.filter(customer=OuterRef(ref))
    return queryset.annotate(
        cs_limit=Subquery(active_limit.values("amount")[:1], output_field=_MONEY_FIELD),
        cs_limit_currency=Subquery(active_limit.values("currency")[:1]),
        cs_receivables=open_receivables(ref),
        cs_notes=unsettled_notes(ref),
        cs_orders=uninvoiced_orders(ref),
        cs_on_hold=Exists(Hold.objects.filter(customer=OuterRef(ref), status="active")),
        cs_account_status=Subquery(account.values("status")[:1]),
        cs_grade=Subquery(account.values("grade")[:1]),
        cs_currency=Subquery(account.values("currency")[:1]),
    )


@dataclass
class CreditSummary:
    customer_id: int
    grade: str
    limit: Decimal | None
    currency: str
    receivables: Decimal
    notes: Decimal
    orders: Decimal
    on_hold: bool
    account_status: str

    @property
    def exposure(self) -> Decimal:
        return self.receivables + self.notes + self.orders

    @property
    def headroom(self) -> Decimal | None:
        return None if self.limit is None else self.limit - self.exposure

    @property
    def percent_used(self) -> Decimal | None:
        """Exposure as a percentage of the limit, rounded half up to two places."""
        if not self.limit:
            return None
        return (self.exposure * 100 / self.limit).quantize(CENT, rounding=ROUND_HALF_UP)


def _cents(value) -> Decimal:
    """Two places, explicitly (SQLite sums decimals without their scale)."""
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


def _summary(row, default_currency: str) -> CreditSummary:
    return CreditSummary(
        customer_id=row["pk"],
        grade=row["cs_grade"] or "",
        limit=None if row["cs_limit"] is None else _cents(row["cs_limit"]),
        currency=row["cs_limit_currency"] or row["cs_currency"] or default_currency,
        receivables=_cents(row["cs_receivables"]),
        notes=_cents(row["cs_notes"]),
        orders=_cents(row["cs_orders"]),
        on_hold=row["cs_on_hold"],
        account_status=row["cs_account_status"] or "",
    )


_SUMMARY_FIELDS = (
    "pk",
    "cs_limit",
    "cs_limit_currency",
    "cs_receivables",
    "cs_notes",
    "cs_orders",
    "cs_on_hold",
    "cs_account_status",
    "cs_grade",
    "cs_currency",
)


def credit_summary(customer_id: int, *, default_currency: str = "CNY") -> CreditSummary:
    """One customer's credit summary: one query (the caller checked the access)."""
    row = with_credit(Customer.objects.filter(pk=customer_id)).values(*_SUMMARY_FIELDS).get()
    return _summary(row, default_currency)


# --- lists a user may see -------------------------------------------------------------------


def visible(user, model, perm: str) -> QuerySet:
    if not user.is_authenticated or not user.has_perm(perm):
        return model.objects.none()
    return perms.visible(user, model.objects.all())


def limit_inbox(user) -> QuerySet:
    """Pending limit requests this user may decide: managers up to the cap for customers
    they answer for, the general manager those above it; never his own request."""
    if not user.is_authenticated:
        return CreditLimit.objects.none()
    may_under = user.has_perm(perms.APPROVE_LIMIT)
    may_above = user.has_perm(perms.APPROVE_LIMIT_ABOVE_CAP)
    if not (may_under or may_above):
        return CreditLimit.objects.none()
    rows = perms.visible(user, CreditLimit.objects.filter(status=CreditLimit.Status.PENDING))
    rows = rows.exclude(requested_by=user)
    if not may_above:
        rows = rows.filter(needs_general_manager=False, customer__in=_answered_for(user))
    elif not user.has_perm("customers.view_all_customers"):
        rows = rows.filter(customer__in=_answered_for(user))
    return rows.select_related("customer", "requested_by").order_by("created_at", "pk")


def _answered_for(user) -> QuerySet:
    """Customers whose owner is the user or a member of a team he manages (SQL)."""
    return Customer.objects.filter(Q(owner=user) | Q(owner__team__manager=user)).values("pk")


def opening_inbox(user) -> QuerySet:
    """Account openings waiting for this user: the sales manager's first approval, or head
    office's second."""
    if not user.is_authenticated:
        return CreditAccount.objects.none()
    wanted = Q(pk__in=[])
    if user.has_perm(perms.APPROVE_OPENING):
        first = Q(status=CreditAccount.Status.SUBMITTED)
        if not user.has_perm("customers.view_all_customers"):
            first &= Q(customer__in=_answered_for(user))
        wanted |= first
    if user.has_perm(perms.APPROVE_OPENING_FINAL):
        wanted |= Q(status=CreditAccount.Status.MANAGER_APPROVED)
    return (
        perms.visible(user, CreditAccount.objects.filter(wanted))
        .select_related("customer", "submitted_by")
        .order_by("submitted_at", "pk")
    )


def blocked_orders(user) -> QuerySet:
    if not user.is_authenticated or not user.has_perm(perms.RELEASE_ORDER):
        return Order.objects.none()
    rows = perms.visible(user, Order.objects.filter(status=Order.Status.BLOCKED))
    if not user.has_perm("customers.view_all_customers"):
        rows = rows.filter(customer__in=_answered_for(user))
    return rows.select_related("customer", "created_by").order_by("created_at", "pk")


def open_risk_reports(user) -> QuerySet:
    if not user.is_authenticated or not user.has_perm(perms.TERMINATE):
        return RiskReport.objects.none()
    rows = perms.visible(user, RiskReport.objects.filter(status=RiskReport.Status.OPEN))
    return rows.select_related("customer", "note").order_by("created_at", "pk")


def inbox_counts(user) -> dict[str, int]:
    return {
        "openings": opening_inbox(user).count(),
        "limits": limit_inbox(user).count(),
        "orders": blocked_orders(user).count(),
    }


def exceptions_list(user) -> QuerySet:
    return (
        visible(user, CreditLimit, perms.VIEW_LIMIT)
        .filter(is_exception=True)
        .select_related("customer", "decided_by", "requested_by")
        .order_by("-decided_at", "-pk")
    )


def reviews_due(user, *, today: datetime.date | None = None) -> QuerySet:
    """Open accounts of the user's own customers whose periodic review is due."""
    today = today or timezone.localdate()
    if not user.is_authenticated or not user.has_perm(perms.ADD_INVESTIGATION):
        return CreditAccount.objects.none()
    return (
        CreditAccount.objects.filter(
            customer__owner=user, status=CreditAccount.Status.OPEN, next_review_on__lte=today
        )
        .select_related("customer")
        .order_by("next_review_on", "pk")
    )


def exposure_alerts(user, *, limit: int = 20) -> list:
    """The user's visible customers at or above the warning threshold (sorted by % used)."""
    if not user.is_authenticated or not user.has_perm(perms.VIEW_ACCOUNT):
        return []
    rows = perms.visible(user, CreditAccount.objects.filter(warning_active=True))
    return list(rows.select_related("customer").order_by("pk")[:limit])


# --- reports --------------------------------------------------------------------------------


def customers_with_credit(user) -> QuerySet:
    """Visible customers that have a credit account, annotated with their credit summary."""
    if not user.is_authenticated or not user.has_perm(perms.REPORTS):
        return Customer.objects.none()
    from customers.permissions import visible_customers

    return with_credit(
        visible_customers(user, Customer.objects.filter(credit_accounts__isnull=False))
    )


def exposure_report(user) -> list[dict]:
    """Customers with a limit, by % used (highest first): one query."""
    rows = []
    for row in (
        customers_with_credit(user).filter(cs_limit__isnull=False).values("code", *_SUMMARY_FIELDS)
    ):
        summary = _summary(row, "CNY")
        rows.append({"code": row["code"], "summary": summary})
    rows.sort(key=lambda r: (-(r["summary"].percent_used or 0), r["code"]))
    return rows


def grade_report(user) -> list[dict]:
    """How many visible customers hold each grade: one query."""
    from django.db.models import Count

    counts = dict(
        customers_with_credit(user)
        .values_list("credit_accounts__grade")
        .annotate(n=Count("pk"))
        .values_list("credit_accounts__grade", "n")
    )
    return [
        {"grade": grade or "—", "customers": counts.get(grade, 0)} for grade in ("A", "B", "C", "")
    ]


AGEING_BUCKETS = (("0-30", 0, 30), ("31-60", 31, 60), ("61-90", 61, 90), (">90", 91, None))


def ageing_report(user, *, today: datetime.date | None = None) -> list[dict]:
    """Open receivables by days past due (0–30, 31–60, 61–90, > 90), per customer: one
    query. Invoices not yet due count in 0–30."""
    today = today or timezone.localdate()
    if not user.is_authenticated or not user.has_perm(perms.REPORTS):
        return []
    invoices = perms.visible(
        user, Invoice.objects.filter(written_off_at__isnull=True, paid_amount__lt=F("amount"))
    )

    def bucket(low, high):
        since_low = today - datetime.timedelta(days=low)
        condition = Q(due_on__lte=since_low) if low else Q()
        if high is not None:
            condition &= Q(due_on__gt=today - datetime.timedelta(days=high + 1))
        if not low:
            condition = Q(due_on__gt=today - datetime.timedelta(days=high + 1))
        return Sum(
            Case(
                When(condition, then=F("amount") - F("paid_amount")),
                default=Value(ZERO),
                output_field=_MONEY_FIELD,
            )
        )

    rows = (
        invoices.values("customer__code", "currency")
        .annotate(
            **{f"b{i}": bucket(low, high) for i, (_n, low, high) in enumerate(AGEING_BUCKETS)}
        )
        .order_by("customer__code", "currency")
    )
    result = []
    for row in rows:
        # Two places, explicitly (SQLite sums decimals without their scale).
        buckets = [_cents(row[f"b{i}"]) for i in range(len(AGEING_BUCKETS))]
        result.append(
            {
                "code": row["customer__code"],
                "currency": row["currency"],
                "buckets": buckets,
                "total": sum(buckets, ZERO),
            }
        )
    return result


def grade_history(customer) -> QuerySet:
    return GradeDecision.objects.filter(customer=customer).select_related("decided_by")


def investigation_get(user, investigation_id) -> Investigation:
    """An investigation of a customer ``user`` may see, with the view permission; else 404
    (audited), missing and forbidden alike."""
    queryset = Investigation.objects.select_related("author", "customer")
    if not user.is_authenticated or not user.has_perm(perms.VIEW_INVESTIGATION):
        queryset = queryset.none()
    return perms.access_row(user, Investigation, investigation_id, queryset=queryset)


def attachment_get(user, attachment_id) -> InvestigationAttachment:
    """An attachment ``user`` may download: its customer visible to him and the view
    permission held; else 404 (audited). Service staff hold no credit permission: 404."""
    queryset = InvestigationAttachment.objects.all()
    if not user.is_authenticated or not user.has_perm(perms.VIEW_ATTACHMENT):
        queryset = queryset.none()
    return perms.access_row(user, InvestigationAttachment, attachment_id, queryset=queryset)


def attachments_of(investigation: Investigation) -> QuerySet:
    """The attachments of an investigation the caller already fetched through
    ``investigation_get``: one query, whatever their number."""
    return investigation.attachments.select_related("uploaded_by").order_by("pk")
