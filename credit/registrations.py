"""What the credit app adds to the customer card and the home page through the registries
of ``customers`` and ``crm`` (registered from ``CreditConfig.ready``)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credit import permissions as perms
from credit import selectors
from credit.models import CreditAccount, CreditLimit, GradeDecision, Hold, Order
from credit.services.accounts import RULES


def _name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def timeline_source(customer, user, limit: int) -> list:
    """Grade changes, limit decisions, holds, blocked orders and the account's opening and
    termination: one query per kind, whatever the card's length."""
    from customers.selectors import TimelineEntry

    if not user.has_perm(perms.VIEW_ACCOUNT):
        return []
    entries = []
    for decision in GradeDecision.objects.filter(customer=customer).select_related("decided_by")[
        :limit
    ]:
        entries.append(
            TimelineEntry(
                decision.created_at,
                "credit",
                _("Credit grade %(grade)s") % {"grade": decision.grade},
                detail=_("proposed %(grade)s (%(rule)s)")
                % {"grade": decision.proposed_grade, "rule": RULES.get(decision.rule, "")},
                actor=_name(decision.decided_by),
            )
        )
    for row in (
        CreditLimit.objects.filter(customer=customer, decided_at__isnull=False)
        .select_related("decided_by")
        .order_by("-decided_at")[:limit]
    ):
        entries.append(
            TimelineEntry(
                row.decided_at,
                "credit",
                _("Credit limit %(amount)s %(currency)s: %(status)s")
                % {
                    "amount": row.amount,
                    "currency": row.currency,
                    "status": row.get_status_display(),
                },
                actor=_name(row.decided_by),
            )
        )
    for hold in Hold.objects.filter(customer=customer).select_related("placed_by", "released_by")[
        :limit
    ]:
        entries.append(
            TimelineEntry(
                hold.created_at, "credit", _("Hold on shipments"), actor=_name(hold.placed_by)
            )
        )
        if hold.released_at:
            entries.append(
                TimelineEntry(
                    hold.released_at,
                    "credit",
                    _("Hold released"),
                    actor=_name(hold.released_by),
                )
            )
    for order in Order.objects.filter(customer=customer, reason__gt="").select_related(
        "created_by"
    )[:limit]:
        entries.append(
            TimelineEntry(
                order.created_at,
                "credit",
                _("Order %(reference)s blocked") % {"reference": order.reference},
                detail=order.get_reason_display(),
                actor=_name(order.created_by),
            )
        )
    account = (
        CreditAccount.objects.filter(customer=customer)
        .select_related("head_office_decided_by", "terminated_by")
        .first()
    )
    if account is not None and account.opened_at:
        entries.append(
            TimelineEntry(
                account.opened_at,
                "credit",
                _("Account opened"),
                actor=_name(account.head_office_decided_by),
            )
        )
    if account is not None and account.terminated_at:
        entries.append(
            TimelineEntry(
                account.terminated_at,
                "credit",
                _("Trading terminated"),
                actor=_name(account.terminated_by),
            )
        )
    return entries


def dashboard_context(user) -> dict | None:
    """The credit panel: approvals waiting (managers), exposure alerts, reviews due."""
    if not user.has_perm(perms.VIEW_ACCOUNT):
        return None
    openings = list(selectors.opening_inbox(user)[:10])
    limits = list(selectors.limit_inbox(user)[:10])
    orders = list(selectors.blocked_orders(user)[:10])
    return {
        "credit_openings": openings,
        "credit_limits": limits,
        "credit_orders": orders,
        "credit_waiting": len(openings) + len(limits) + len(orders),
        "credit_alerts": selectors.exposure_alerts(user, limit=10),
        "credit_reviews": list(selectors.reviews_due(user)[:10]),
    }


TAB_LABEL = gettext_lazy("Credit")
