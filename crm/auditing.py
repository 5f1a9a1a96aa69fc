"""The audit hook of the building blocks.

``crm`` imports no app, yet its services (users, teams, key rotation, denied access) must
leave audit events. The audit app plugs its writer in here at start-up
(``AuditConfig.ready``); everything in ``crm`` records through ``record``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured

AUTH_TOKEN_ISSUED = "auth.token_issued"
ACCESS_DENIED = "access.denied"
USER_CREATED = "user.created"
TEAM_CREATED = "team.created"
KEYS_ROTATED = "keys.rotated"
VALUES_REENCRYPTED = "keys.values_reencrypted"
DATA_KEYS_SWEPT = "keys.orphans_swept"
DATA_INTEGRITY_FAILURE = "data.integrity_failure"
USER_ROLE_CHANGED = "user.role_changed"
ADMIN_ADDED = "admin.added"
ADMIN_CHANGED = "admin.changed"

_recorder: Callable | None = None

# Event types named by the building blocks beyond those above (``crm.security``), with
# their labels; the audit app's label lookup reads them.
LABELS: dict = {}


def event_type(action: str, label) -> str:
    """Name an event type of the building blocks and its label; returns the action."""
    if "." not in action:
        raise ValueError("Audit actions are namespaced: '<area>.<what_happened>'.")
    LABELS.setdefault(action, label)
    return action


def set_recorder(recorder: Callable) -> None:
    global _recorder
    _recorder = recorder


def record(**event):
    if _recorder is None:
        raise ImproperlyConfigured("No audit recorder: is the audit app installed?")
    return _recorder(**event)
