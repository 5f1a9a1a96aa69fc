"""What each role of ``crm.roles`` may do with the credit app (DESIGN §1, §4).

Added from ``CreditConfig.ready()``. The rep keeps his customers' credit: submits openings,
requests limits, enters orders, investigates and puts holds. The sales manager decides:
openings (first approval), limits up to the cap, blocked orders, holds, grades,
deterioration responses, termination; he records receivables. The general manager decides
above the cap and gives head office's approval. The auditor and the data protection
officer read; service staff get nothing from credit; the admin edits the settings.
"""

from __future__ import annotations

from crm import roles

_MODELS = (
    "creditaccount",
    "accountcondition",
    "creditlimit",
    "investigation",
    "investigationattachment",
    "gradedecision",
    "order",
    "invoice",
    "payment",
    "paymentallocation",
    "note",
    "hold",
    "deteriorationresponse",
    "riskreport",
)
_READ = [f"credit.view_{model}" for model in _MODELS]
_REP = [
    *_READ,
    "credit.add_creditaccount",
    "credit.add_creditlimit",
    "credit.add_order",
    "credit.add_hold",
    "credit.add_investigation",
    "credit.add_investigationattachment",
    # The facts the grade rules need (wholesaler, past breach): the rep knows them first.
    "credit.change_creditaccount",
]
_MANAGER = [
    *_REP,
    "credit.approve_opening",
    "credit.approve_creditlimit",
    "credit.release_order",
    "credit.release_hold",
    "credit.confirm_grade",
    "credit.change_accountcondition",
    "credit.terminate_account",
    "credit.view_credit_reports",
    "credit.add_deteriorationresponse",
    "credit.change_deteriorationresponse",
    "credit.add_invoice",
    "credit.change_invoice",
    "credit.add_payment",
    "credit.add_note",
    "credit.change_note",
    "credit.view_creditsettings",
]
_GENERAL_MANAGER = [
    *_MANAGER,
    "credit.approve_opening_final",
    "credit.approve_creditlimit_above_cap",
]
_READ_ONLY = [*_READ, "credit.view_credit_reports", "credit.view_creditsettings"]

PERMISSIONS: dict[str, list[str]] = {
    roles.SALES_REP: _REP,
    roles.SALES_MANAGER: _MANAGER,
    roles.GENERAL_MANAGER: _GENERAL_MANAGER,
    roles.AUDITOR: _READ_ONLY,
    roles.DPO: _READ_ONLY,
    roles.ADMIN: ["credit.view_creditsettings", "credit.change_creditsettings"],
}


def extend_roles() -> None:
    for role, permissions in PERMISSIONS.items():
        roles.extend(role, permissions)
    roles.declare_unused(
        ["credit.*_historical*"],
        reason="history rows are written by django-simple-history and read on the timeline",
    )
    roles.declare_unused(
        ["credit.delete_*"],
        reason="credit records are decided, superseded, released or written off by services, "
        "never deleted by hand",
    )
    roles.declare_unused(
        [
            "credit.add_creditsettings",
            "credit.add_accountcondition",
            "credit.add_gradedecision",
            "credit.change_gradedecision",
            "credit.add_paymentallocation",
            "credit.change_paymentallocation",
            "credit.add_riskreport",
            "credit.change_riskreport",
            "credit.change_creditlimit",
            "credit.change_order",
            "credit.change_hold",
            "credit.change_investigation",
            "credit.change_investigationattachment",
            "credit.change_payment",
        ],
        reason="written by the credit services as part of a decision (approval, grade "
        "confirmation, payment allocation, risk report, release); one settings row",
    )
