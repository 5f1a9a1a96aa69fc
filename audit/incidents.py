"""The incident register (DESIGN §3 "Incidents", issue 12 item 5): suspected leaks or losses of
personal data, the customers affected, containment and who was told when.

Every write goes through these services: permission, validation, one transaction, history
with the acting user, one audit event naming the changed fields (never their values). The
affected customers' contact list (names and phones in clear, to notify them) is for the
data protection officer alone (``audit.view_incident_contacts``), and each opening is an
audit event.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import events
from audit.models import Incident, IncidentCustomer
from audit.services import record_event
from crm import privacy

CONTACTS_PERMISSION = "audit.view_incident_contacts"
# Fields an edit may change (the customers are given separately).
EDITABLE = (
    "summary",
    "detected_at",
    "severity",
    "status",
    "containment",
    "authorities_told_at",
    "customers_told_at",
)


def _require(actor, permission: str) -> None:
    if not actor.has_perm(permission):
        raise PermissionDenied


def customers_by_codes(text: str) -> list:
    """The customers named by codes separated by commas, spaces or new lines (one query)."""
    codes = sorted({code.upper() for code in re.split(r"[\s,;，；]+", text or "") if code})
    if not codes:
        return []
    found = list(privacy.subject_model()._base_manager.filter(code__in=codes).order_by("code"))
    missing = sorted(set(codes) - {customer.code for customer in found})
    if missing:
        raise ValidationError(
            {
                "customers": _("No customer has these codes: %(codes)s")
                % {"codes": ", ".join(missing)}
            }
        )
    return found


def _validate(incident: Incident) -> None:
    errors = {}
    if not (incident.summary or "").strip():
        errors["summary"] = [_("Say what happened.")]
    if incident.severity not in Incident.Severity.values:
        errors["severity"] = [_("Choose a severity.")]
    if incident.status not in Incident.Status.values:
        errors["status"] = [_("Choose a status.")]
    now = timezone.now()
    if incident.detected_at is None:
        errors["detected_at"] = [_("Say when it was detected.")]
    elif incident.detected_at > now:
        errors["detected_at"] = [_("An incident cannot be detected in the future.")]
    for name in ("authorities_told_at", "customers_told_at"):
        moment = getattr(incident, name)
        if moment is not None and incident.detected_at is not None:
            if moment < incident.detected_at:
                errors[name] = [_("This cannot be before the incident was detected.")]
            elif moment > now:
                errors[name] = [_("This cannot be in the future.")]
    if errors:
        raise ValidationError(errors)


def _link_customers(incident: Incident, customers, actor) -> tuple[list[str], list[str]]:
    """Make the incident's customers exactly ``customers``; return codes added and removed."""
    wanted = {customer.pk: customer.code for customer in customers}
    current = {link.customer_id: link for link in incident.affected.all()}
    added = [code for pk, code in wanted.items() if pk not in current]
    removed = [link.customer_code for pk, link in current.items() if pk not in wanted]
    for pk, link in current.items():
        if pk not in wanted:
            link._history_user = actor
            link.delete()
    for pk, code in wanted.items():
        if pk not in current:
            link = IncidentCustomer(incident=incident, customer_id=pk, customer_code=code)
            link._history_user = actor
            link.save()
    return sorted(added), sorted(removed)


def incident_create(
    *,
    actor,
    summary: str,
    detected_at: datetime.datetime,
    severity: str,
    customers=(),
    containment: str = "",
    status: str = Incident.Status.OPEN,
    authorities_told_at: datetime.datetime | None = None,
    customers_told_at: datetime.datetime | None = None,
) -> Incident:
    """Record a suspected leak or loss; the actor is who detected it."""
    _require(actor, "audit.add_incident")
    incident = Incident(
        detected_at=detected_at,
        reported_by=actor,
        severity=severity,
        status=status,
        authorities_told_at=authorities_told_at,
        customers_told_at=customers_told_at,
    )
    incident.summary = (summary or "").strip()
    incident.containment = (containment or "").strip()
    _validate(incident)
    with transaction.atomic():
        if status == Incident.Status.CLOSED:
            incident.closed_at = timezone.now()
        incident._history_user = actor
        incident.save()
        added, _removed = _link_customers(incident, customers, actor)
        record_event(
            action=events.INCIDENT_RECORDED,
            actor=actor,
            obj=incident,
            data={"severity": severity, "status": status, "customers": added},
        )
    return incident


def incident_update(*, actor, incident_id: int, customers=None, **changes) -> Incident:
    """Change an incident; ``customers`` (when given) replaces the list of those affected.

    The audit event names the fields that changed and the customer codes added or removed,
    never the text itself. Unchanged input changes nothing and records nothing.
    """
    _require(actor, "audit.change_incident")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident_id)
        changed = []
        for name, value in changes.items():
            if name in ("summary", "containment"):
                value = (value or "").strip()
            if getattr(incident, name) != value:
                setattr(incident, name, value)
                changed.append(name)
        _validate(incident)
        if "status" in changed:
            closing = incident.status == Incident.Status.CLOSED
            incident.closed_at = timezone.now() if closing else None
        if changed:
            incident._history_user = actor
            incident.save()
        added, removed = ([], [])
        if customers is not None:
            added, removed = _link_customers(incident, customers, actor)
        if not changed and not added and not removed:
            return incident
        record_event(
            action=events.INCIDENT_CHANGED,
            actor=actor,
            obj=incident,
            data={
                "fields": sorted(changed),
                **({"customers_added": added} if added else {}),
                **({"customers_removed": removed} if removed else {}),
                **({"status": incident.status} if "status" in changed else {}),
            },
        )
    return incident


def incident_list(*, user) -> QuerySet:
    """Incidents the user may read (DPO, auditor), newest first, with their customer count."""
    if not user.has_perm("audit.view_incident"):
        return Incident.objects.none()
    return (
        Incident.objects.select_related("reported_by")
        .annotate(customer_count=Count("affected"))
        .order_by("-detected_at", "-id")
    )


@dataclass
class Contact:
    customer_id: int
    code: str
    name: str
    phone: str


def incident_contacts(*, actor, incident: Incident) -> list[Contact]:
    """The affected customers' names and phones in clear, to notify them (DPO only, audited).

    Bounded queries whatever the number of customers: the links, the customers, and their
    data keys in one query (``preload_keys``). A purged customer reads as unavailable.
    """
    _require(actor, CONTACTS_PERMISSION)
    links = list(incident.affected.all())
    customer_model = privacy.subject_model()
    customers = {
        customer.pk: customer
        for customer in customer_model.objects.filter(pk__in=[link.customer_id for link in links])
        .order_by("code")
        .preload_keys()
    }
    contacts = []
    for link in links:
        customer = customers.get(link.customer_id)
        name = _readable(getattr(customer, "name", "")) if customer else ""
        phone = _readable(getattr(customer, "phone", "")) if customer else ""
        contacts.append(Contact(link.customer_id, link.customer_code, name, phone))
    record_event(
        action=events.INCIDENT_CONTACTS_VIEWED,
        actor=actor,
        obj=incident,
        data={"customers": [link.customer_code for link in links]},
    )
    return contacts


def _readable(value) -> str:
    from crm import personal_data
    from crm.fields import is_unavailable

    if is_unavailable(value):
        return str(personal_data.unavailable_label(value))
    return value or ""
