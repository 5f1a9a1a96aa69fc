"""The credit app's privacy provider (``crm.privacy``): subject access and purge.

Personal text on credit rows (investigation notes, hold reasons, comments) is scrubbed with
the rest of the customer; amounts, dates and statuses stay, so receivables and reports still
add up. A customer is not purged while money is open with him or a hold is on.
"""

from __future__ import annotations

from django.db.models import Max
from django.utils.translation import gettext as _

from crm import privacy

MODELS = (
    "credit.accountcondition",
    "credit.creditaccount",
    "credit.creditlimit",
    "credit.deteriorationresponse",
    "credit.gradedecision",
    "credit.hold",
    "credit.investigation",
)


def open_matters(customer) -> list[str]:
    from credit import selectors

    summary = selectors.credit_summary(customer.pk)
    reasons = []
    if summary.exposure > 0:
        reasons.append(
            _("Open receivables, unsettled notes or orders not yet invoiced: %(amount)s.")
            % {"amount": summary.exposure}
        )
    if summary.on_hold:
        reasons.append(_("A hold on shipments is active."))
    return reasons


def last_activity(customer):
    from credit.models import Invoice, Order

    latest = [
        Order.objects.filter(customer=customer).aggregate(at=Max("created_at"))["at"],
        Invoice.objects.filter(customer=customer).aggregate(at=Max("created_at"))["at"],
    ]
    latest = [value for value in latest if value is not None]
    return max(latest) if latest else None


def register() -> None:
    privacy.register(
        privacy.Provider(
            app="credit", models=MODELS, open_matters=open_matters, last_activity=last_activity
        )
    )
