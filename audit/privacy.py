"""The audit app's privacy provider (``crm.privacy``).

For subject access it lists who accessed or changed the customer's data (the audit events
about the card or under its data key) and the privacy registers' rows about the customer.
On purge the audit trail is kept as it is (append-only; a reason is shredded with the data
key), the registers' free text is emptied; an active legal hold vetoes a deletion.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from crm import privacy

MODELS = ("audit.auditevent", "audit.legalhold", "audit.subjectrequest", "audit.incident")


def events_about(customer):
    from django.contrib.contenttypes.models import ContentType

    from audit.models import AuditEvent

    content_type = ContentType.objects.get_for_model(type(customer))
    return AuditEvent.objects.filter(
        Q(content_type=content_type, object_id=str(customer.pk))
        | Q(subject_key_id=customer.data_key_id)
    )


def _export(customer) -> dict[str, list[dict]]:
    from audit.models import AuditEvent

    events = (
        events_about(customer)
        .select_related("content_type")
        .order_by(*AuditEvent._meta.ordering)
        .preload_keys()
    )
    accesses = [
        {
            "occurred_at": event.occurred_at.isoformat(),
            "actor": event.actor_username,
            "action": event.action,
            "action_label": event.action_label,
            "object_type": event.content_type.model if event.content_type else "",
            "object_id": event.object_id,
            "ip_address": event.ip_address,
        }
        for event in events
    ]
    exported = {"audit.auditevent": accesses}
    for label in ("audit.legalhold", "audit.subjectrequest"):
        exported[label] = privacy.export_model_rows(label, customer)
    exported["audit.incident"] = _incidents_of(customer)
    return exported


def _incidents_of(customer) -> list[dict]:
    """The incidents that affected the customer: what the customer is owed (when it was
    found, how serious, when they were told), not the register's free text, which is about
    every customer affected."""
    from audit.models import Incident

    rows = Incident.objects.filter(affected__customer_id=customer.pk).order_by("detected_at")
    return [
        {
            "id": incident.pk,
            "detected_at": incident.detected_at.isoformat(),
            "severity": incident.severity,
            "status": incident.status,
            "authorities_told_at": incident.authorities_told_at.isoformat()
            if incident.authorities_told_at
            else None,
            "customers_told_at": incident.customers_told_at.isoformat()
            if incident.customers_told_at
            else None,
        }
        for incident in rows
    ]


def _open_matters(customer) -> list[str]:
    from audit.models import LegalHold

    if LegalHold.objects.filter(customer_id=customer.pk, lifted_at__isnull=True).exists():
        return [_("A legal hold is active.")]
    return []


def register() -> None:
    privacy.register(
        privacy.Provider(
            app="audit",
            models=MODELS,
            export=_export,
            open_matters=_open_matters,
            keep_on_purge=("audit.auditevent",),
        )
    )
