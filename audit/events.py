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
    return str(LABELS.get(action, action))
