"""The one guard for model permissions (what a role may do at all, DESIGN §4).

Services, views and API classes call ``require_perm`` before acting; which *objects* a
user may act on is each app's ``access_<entity>`` helper (e.g.
``customers.permissions.access_customer``).
"""

from __future__ import annotations

from crm.exceptions import ForbiddenAction


def require_perm(user, perm: str, message=None) -> None:
    """Refuse with 403 unless ``user`` holds ``perm``; the refusal is audited.

    ``user=None`` is the system itself (a scheduled task acting for no one) and passes.
    Callers still check the object the permission is used on.
    """
    if user is None or user.has_perm(perm):
        return
    raise ForbiddenAction(message, user=user, content_type=None, object_id="", action=perm)
