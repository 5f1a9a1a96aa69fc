"""Audit event types: namespaced constants, registered once with a readable label."""

from django.utils.translation import gettext_lazy as _

from crm.auditing import (
    ACCESS_DENIED,
    ADMIN_ADDED,
    ADMIN_CHANGED,
    AUTH_TOKEN_ISSUED,
    DATA_INTEGRITY_FAILURE,
    DATA_KEYS_SWEPT,
    KEYS_ROTATED,
    TEAM_CREATED,
    USER_CREATED,
    USER_ROLE_CHANGED,
    VALUES_REENCRYPTED,
)

AUTH_LOGIN = "auth.login"
AUTH_LOGOUT = "auth.logout"
AUTH_LOGIN_FAILED = "auth.login_failed"
DATA_KEY_DESTROYED = "keys.data_key_destroyed"
AUDIT_CHAIN_VERIFIED = "audit.chain_verified"
AUDIT_EVENTS_EXPORTED = "audit.events_exported"
LEGAL_HOLD_PLACED = "privacy.legal_hold_placed"
LEGAL_HOLD_LIFTED = "privacy.legal_hold_lifted"
CUSTOMER_PURGED = "privacy.customer_purged"
DESTRUCTION_RECORDED = "privacy.destruction_recorded"
DESTRUCTION_RECORD_DOWNLOADED = "privacy.destruction_record_downloaded"
RETENTION_POLICY_CHANGED = "privacy.retention_policy_changed"
SUBJECT_REQUEST_OPENED = "privacy.request_opened"
SUBJECT_REQUEST_CLOSED = "privacy.request_closed"
SUBJECT_ACCESS_PACKAGE = "privacy.access_package_downloaded"
ACCESS_ALERT_RAISED = "privacy.access_alert"
ALERT_THRESHOLD_CHANGED = "privacy.alert_threshold_changed"
INCIDENT_RECORDED = "privacy.incident_recorded"
INCIDENT_CHANGED = "privacy.incident_changed"
INCIDENT_CONTACTS_VIEWED = "privacy.incident_contacts_viewed"
EVIDENCE_REPORT_DOWNLOADED = "privacy.evidence_report_downloaded"

LABELS = {
    AUTH_LOGIN: _("Signed in"),
    AUTH_LOGOUT: _("Signed out"),
    AUTH_LOGIN_FAILED: _("Failed sign-in"),
    AUTH_TOKEN_ISSUED: _("API token issued"),
    ACCESS_DENIED: _("Access denied"),
    USER_CREATED: _("User created"),
    USER_ROLE_CHANGED: _("User role changed"),
    TEAM_CREATED: _("Team created"),
    KEYS_ROTATED: _("Encryption keys rotated"),
    VALUES_REENCRYPTED: _("Encrypted values rewritten in the current format"),
    DATA_KEYS_SWEPT: _("Unused data keys removed"),
    DATA_INTEGRITY_FAILURE: _("Encrypted value failed its integrity check"),
    DATA_KEY_DESTROYED: _("Data key destroyed"),
    AUDIT_CHAIN_VERIFIED: _("Audit chain verified"),
    AUDIT_EVENTS_EXPORTED: _("Audit events exported"),
    LEGAL_HOLD_PLACED: _("Legal hold placed"),
    LEGAL_HOLD_LIFTED: _("Legal hold lifted"),
    CUSTOMER_PURGED: _("Customer's personal data purged"),
    DESTRUCTION_RECORDED: _("Destruction record written"),
    DESTRUCTION_RECORD_DOWNLOADED: _("Destruction record downloaded"),
    RETENTION_POLICY_CHANGED: _("Retention policy changed"),
    SUBJECT_REQUEST_OPENED: _("Subject request opened"),
    SUBJECT_REQUEST_CLOSED: _("Subject request closed"),
    SUBJECT_ACCESS_PACKAGE: _("Subject access package downloaded"),
    ACCESS_ALERT_RAISED: _("Access threshold crossed"),
    ALERT_THRESHOLD_CHANGED: _("Alert threshold changed"),
    INCIDENT_RECORDED: _("Incident recorded"),
    INCIDENT_CHANGED: _("Incident changed"),
    INCIDENT_CONTACTS_VIEWED: _("Incident's contact list opened"),
    EVIDENCE_REPORT_DOWNLOADED: _("Evidence report downloaded"),
    ADMIN_ADDED: _("Added in the admin site"),
    ADMIN_CHANGED: _("Changed in the admin site"),
}


def register(action: str, label) -> str:
    """Register an event type of another app (called at import time of its events module)."""
    if "." not in action:
        raise ValueError("Audit actions are namespaced: '<area>.<what_happened>'.")
    LABELS.setdefault(action, label)
    return action


def label(action: str) -> str:
    from crm import auditing

    return str(LABELS.get(action) or auditing.LABELS.get(action, action))


def all_labels() -> dict:
    """Every registered event type (this registry and the building blocks') with its label."""
    from crm import auditing

    return {**auditing.LABELS, **LABELS}


# The labels of the purposes a reveal is made for ("call_back"…), registered by the app that
# offers them, so that the audit console shows them translated without importing that app.
PURPOSES: dict = {}


def register_purpose(code: str, label) -> None:
    PURPOSES.setdefault(code, label)


def purpose_label(code: str) -> str:
    return str(PURPOSES.get(code, code)) if code else ""
