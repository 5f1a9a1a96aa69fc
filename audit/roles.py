"""What each role of ``crm.roles`` may do with the audit trail (from ``AuditConfig.ready()``)."""

from __future__ import annotations

from crm import roles

_READ_TRAIL = [
    "audit.view_auditevent",
    "audit.verify_audit_chain",
    "audit.view_privacy_report",
]
# The privacy registers (issue 12): the auditor reads them, the DPO works them.
_READ_PRIVACY = [
    "audit.view_retentionpolicy",
    "audit.view_legalhold",
    "audit.view_destructionrecord",
    "audit.view_purgedsubject",
    "audit.view_subjectrequest",
    "audit.view_alertthreshold",
    "audit.view_accessalert",
    "audit.view_incident",
]
_WORK_PRIVACY = [
    "audit.change_retentionpolicy",
    "audit.add_legalhold",
    "audit.change_legalhold",
    "audit.purge_customers",
    "audit.add_subjectrequest",
    "audit.change_subjectrequest",
    "audit.change_alertthreshold",
    "audit.change_accessalert",
    "audit.add_incident",
    "audit.change_incident",
    "audit.view_incident_contacts",
]


def extend_roles() -> None:
    # Only the oversight roles read the trail; nobody writes it but ``record_event``.
    roles.extend(roles.DPO, _READ_TRAIL + _READ_PRIVACY + _WORK_PRIVACY)
    roles.extend(roles.AUDITOR, _READ_TRAIL + _READ_PRIVACY)
    roles.declare_unused(
        ["audit.*_historical*"],
        reason="history of the privacy registers is read through the registers' pages",
    )
    roles.declare_unused(
        [
            "audit.delete_retentionpolicy",
            "audit.add_retentionpolicy",
            "audit.delete_legalhold",
            "audit.add_destructionrecord",
            "audit.change_destructionrecord",
            "audit.delete_destructionrecord",
            "audit.add_purgedsubject",
            "audit.change_purgedsubject",
            "audit.delete_purgedsubject",
            "audit.delete_subjectrequest",
            "audit.add_alertthreshold",
            "audit.delete_alertthreshold",
            "audit.add_accessalert",
            "audit.delete_accessalert",
            "audit.delete_incident",
        ],
        reason="privacy records are evidence: kept, and written only by the audit services "
        "(categories and thresholds are fixed rows edited in place)",
    )
    roles.declare_unused(
        ["audit.*_incidentcustomer"],
        reason="an incident's customers are written by the incident services and read "
        "through the incident",
    )
    roles.declare_unused(
        ["audit.add_auditevent", "audit.change_auditevent", "audit.delete_auditevent"],
        reason="the trail is append-only and written only by audit.services.record_event",
    )
    roles.declare_unused(
        ["audit.*_chaincheckpoint"],
        reason="checkpoints are taken by the chain task and verify_audit_chain",
    )
