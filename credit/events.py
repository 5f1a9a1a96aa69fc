"""Audit event types of the credit app."""

from django.utils.translation import gettext_lazy as _

from audit.events import register

ACCOUNT_SUBMITTED = register("credit.account_submitted", _("Account opening submitted"))
ACCOUNT_APPROVED = register("credit.account_approved", _("Account opening approved"))
ACCOUNT_REJECTED = register("credit.account_rejected", _("Account opening rejected"))
ACCOUNT_TERMINATED = register("credit.account_terminated", _("Trading terminated"))
CONDITION_FULFILLED = register("credit.condition_fulfilled", _("Account condition fulfilled"))
LIMIT_REQUESTED = register("credit.limit_requested", _("Credit limit requested"))
LIMIT_APPROVED = register("credit.limit_approved", _("Credit limit approved"))
LIMIT_REJECTED = register("credit.limit_rejected", _("Credit limit rejected"))
LIMIT_SUPERSEDED = register("credit.limit_superseded", _("Credit limit superseded"))
GRADE_CONFIRMED = register("credit.grade_confirmed", _("Credit grade confirmed"))
GRADE_FACTS_CHANGED = register("credit.grade_facts_changed", _("Credit grade facts changed"))
INVESTIGATION_RECORDED = register(
    "credit.investigation_recorded", _("Credit investigation recorded")
)
ATTACHMENT_ADDED = register("credit.attachment_added", _("Investigation attachment added"))
ATTACHMENT_DOWNLOADED = register(
    "credit.attachment_downloaded", _("Investigation attachment downloaded")
)
ORDER_CHECKED = register("credit.order_checked", _("Order credit-checked"))
ORDER_RELEASED = register("credit.order_released", _("Blocked order released"))
ORDER_REJECTED = register("credit.order_rejected", _("Blocked order rejected"))
INVOICE_RECORDED = register("credit.invoice_recorded", _("Invoice recorded"))
INVOICE_WRITTEN_OFF = register("credit.invoice_written_off", _("Invoice written off"))
PAYMENT_RECORDED = register("credit.payment_recorded", _("Payment recorded"))
NOTE_RECORDED = register("credit.note_recorded", _("Note received recorded"))
NOTE_STATUS_CHANGED = register("credit.note_status_changed", _("Note status changed"))
HOLD_PLACED = register("credit.hold_placed", _("Hold on shipments placed"))
HOLD_RELEASED = register("credit.hold_released", _("Hold on shipments released"))
RESPONSE_RECORDED = register("credit.response_recorded", _("Deterioration response recorded"))
RISK_REPORT_RAISED = register("credit.risk_report_raised", _("Risk report raised"))
RISK_REPORT_DISMISSED = register("credit.risk_report_dismissed", _("Risk report dismissed"))
SETTINGS_CHANGED = register("credit.settings_changed", _("Credit settings changed"))
RECEIVABLES_IMPORTED = register("credit.receivables_imported", _("Receivables imported"))
