"""Credit: every write that matters, one function per business action (``<entity>_<verb>``)."""

from credit.services.accounts import (
    account_approve,
    account_reject,
    account_submit,
    account_terminate,
    condition_fulfil,
    grade_confirm,
    grade_facts_set,
    grade_propose,
    missing_card_fields,
    risk_report_dismiss,
)
from credit.services.attachments import attachment_add, attachment_open
from credit.services.investigations import (
    credit_settings_update,
    investigation_record,
    response_record,
    response_status_set,
)
from credit.services.limits import limit_approve, limit_reject, limit_request
from credit.services.orders import (
    hold_place,
    hold_release,
    order_create,
    order_reject,
    order_release,
    warning_refresh,
)
from credit.services.receivables import (
    invoice_create,
    invoice_write_off,
    note_record,
    note_status_set,
    notes_overdue_check,
    payment_record,
    risk_report_raise,
)

__all__ = [
    "account_approve",
    "account_reject",
    "account_submit",
    "account_terminate",
    "attachment_add",
    "attachment_open",
    "condition_fulfil",
    "credit_settings_update",
    "grade_confirm",
    "grade_facts_set",
    "grade_propose",
    "hold_place",
    "hold_release",
    "investigation_record",
    "invoice_create",
    "invoice_write_off",
    "limit_approve",
    "limit_reject",
    "limit_request",
    "missing_card_fields",
    "note_record",
    "note_status_set",
    "notes_overdue_check",
    "order_create",
    "order_reject",
    "order_release",
    "payment_record",
    "response_record",
    "response_status_set",
    "risk_report_dismiss",
    "risk_report_raise",
    "warning_refresh",
]
