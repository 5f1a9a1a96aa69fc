"""The credit app's privacy provider (``crm.privacy``): subject access and purge.

Personal text on credit rows (investigation notes, hold reasons, comments) is scrubbed with
the rest of the customer; amounts, dates and statuses stay, so receivables and reports still
add up. Investigation attachments are destroyed: their encrypted files deleted, their names
and stored-file names emptied (rows and history). Subject access lists every attachment
(name, type, size, date). A customer is not purged while money is open with him or a hold
is on.
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
    "credit.investigationattachment",
)
ATTACHMENTS = "credit.investigationattachment"


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


def export(customer) -> dict[str, list[dict]]:
    """The generic export, less the attachments' internal stored-file names."""
    rows = {label: privacy.export_model_rows(label, customer) for label in MODELS}
    for row in rows[ATTACHMENTS]:
        row.pop("stored_file", None)
    return rows


def scrub(customer) -> dict[str, int]:
    """The generic scrub; the attachments' files are deleted first, then their names and
    stored-file names emptied."""
    from credit.services.attachments import attachments_destroy

    attachments_destroy(customer)
    counts = {
        label: privacy.scrub_model_rows(label, customer) for label in MODELS if label != ATTACHMENTS
    }
    counts[ATTACHMENTS] = privacy.scrub_model_rows(
        ATTACHMENTS, customer, extra_fields=("stored_file",)
    )
    return counts


def register() -> None:
    privacy.register(
        privacy.Provider(
            app="credit",
            models=MODELS,
            export=export,
            scrub=scrub,
            open_matters=open_matters,
            last_activity=last_activity,
        )
    )
