"""Reads of the audit trail."""

from django.db.models import F

from audit.models import AuditEvent


def audit_event_list(*, user):
    """Events the user may read: everything for holders of ``audit.view_auditevent``."""
    if not user.has_perm("audit.view_auditevent"):
        return AuditEvent.objects.none()
    # Newest first; an event not chained yet (for an instant after its commit) on top.
    return (
        AuditEvent.objects.select_related("content_type")
        .order_by(F("sequence").desc(nulls_first=True), "-id")
        .preload_keys()
    )
