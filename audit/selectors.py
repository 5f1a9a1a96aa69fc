"""Reads of the audit trail."""

from audit.models import AuditEvent


def audit_event_list(*, user):
    """Events the user may read: everything for holders of ``audit.view_auditevent``."""
    if not user.has_perm("audit.view_auditevent"):
        return AuditEvent.objects.none()
    return AuditEvent.objects.select_related("content_type").order_by("-sequence")
