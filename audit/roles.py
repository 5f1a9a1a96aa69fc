"""What each role of ``crm.roles`` may do with the audit trail (from ``AuditConfig.ready()``)."""

from __future__ import annotations

from crm import roles

_READ_TRAIL = ["audit.view_auditevent", "audit.verify_audit_chain"]


def extend_roles() -> None:
    # Only the oversight roles read the trail; nobody writes it but ``record_event``.
    roles.extend(roles.DPO, _READ_TRAIL)
    roles.extend(roles.AUDITOR, _READ_TRAIL)
    roles.declare_unused(
        ["audit.add_auditevent", "audit.change_auditevent", "audit.delete_auditevent"],
        reason="the trail is append-only and written only by audit.services.record_event",
    )
    roles.declare_unused(
        ["audit.*_chaincheckpoint"],
        reason="checkpoints are taken by the chain task and verify_audit_chain",
    )
