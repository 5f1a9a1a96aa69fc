"""The privacy evidence report (issue 12 item 8): what happened to personal data in a period.

For a period of local days it counts, in SQL and with a fixed number of queries whatever the
volume: consents given and withdrawn (counted by the app that keeps consents, through
``register``), reveals and exports (audit events, classed as access monitoring classes
them), access alerts, purges (runs and customers), subject requests received and their
timeliness, incidents. ``manage.py privacy_report`` and the Evidence page show the same rows.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit import monitoring
from audit.models import (
    AccessAlert,
    AuditEvent,
    DestructionRecord,
    Incident,
    PurgedSubject,
    SubjectRequest,
)

# (key, label, fn(start, end) -> [(key, label, count)]): counts kept by other apps (the
# customers app counts consents). ``start`` and ``end`` are aware moments, end excluded.
_sections: dict[str, tuple] = {}


def register(key: str, label, count: Callable) -> None:
    """Add a section of counts another app keeps; call from its ``AppConfig.ready()``."""
    _sections[key] = (label, count)


@dataclass(frozen=True)
class Row:
    section: str
    key: str
    label: str
    count: int


def _bounds(start: datetime.date, end: datetime.date):
    def midnight(day):
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))

    return midnight(start), midnight(end + datetime.timedelta(days=1))


def privacy_report(*, start: datetime.date, end: datetime.date) -> list[Row]:
    """The report's rows for the local days ``start``–``end`` (both included)."""
    since, until = _bounds(start, end)
    today = timezone.localdate()
    rows: list[Row] = []

    for _key, (label, count) in _sections.items():
        for key, item_label, value in count(since, until):
            rows.append(Row(str(label), key, str(item_label), value))

    in_period = Q(occurred_at__gte=since, occurred_at__lt=until)
    accesses = AuditEvent.objects.filter(in_period).aggregate(
        reveals=Count("id", filter=monitoring.action_filter(monitoring.REVEAL)),
        exports=Count("id", filter=monitoring.action_filter(monitoring.EXPORT)),
    )
    alerts = AccessAlert.objects.filter(window_start__gte=since, window_start__lt=until).count()
    section = _("Accesses")
    rows += [
        Row(section, "reveals", _("Personal data revealed"), accesses["reveals"]),
        Row(section, "exports", _("Exports"), accesses["exports"]),
        Row(section, "alerts", _("Access alerts raised"), alerts),
    ]

    purges = DestructionRecord.objects.filter(
        started_at__gte=since, started_at__lt=until, status=DestructionRecord.Status.DONE
    ).aggregate(runs=Count("id"), subjects=Sum("subjects"))
    purged = PurgedSubject.objects.filter(created_at__gte=since, created_at__lt=until).count()
    section = _("Retention")
    rows += [
        Row(section, "purge_runs", _("Purge runs"), purges["runs"]),
        Row(section, "customers_purged", _("Customers purged"), purged),
    ]

    received = SubjectRequest.objects.filter(received_on__gte=start, received_on__lte=end)
    closed = ~Q(status=SubjectRequest.Status.OPEN)
    requests = received.annotate(
        completed_on=TruncDate("completed_at", tzinfo=timezone.get_current_timezone())
    ).aggregate(
        total=Count("id"),
        on_time=Count("id", filter=closed & Q(completed_on__lte=F("due_on"))),
        late=Count("id", filter=closed & Q(completed_on__gt=F("due_on"))),
        overdue=Count("id", filter=Q(status=SubjectRequest.Status.OPEN, due_on__lt=today)),
        pending=Count("id", filter=Q(status=SubjectRequest.Status.OPEN, due_on__gte=today)),
        **{kind: Count("id", filter=Q(kind=kind)) for kind in SubjectRequest.Kind.values},
    )
    section = _("Subject requests")
    rows.append(Row(section, "requests", _("Requests received"), requests["total"]))
    rows += [
        Row(section, f"requests_{kind}", str(label), requests[kind])
        for kind, label in SubjectRequest.Kind.choices
    ]
    rows += [
        Row(section, "requests_on_time", _("Answered on time"), requests["on_time"]),
        Row(section, "requests_late", _("Answered late"), requests["late"]),
        Row(section, "requests_overdue", _("Open and overdue"), requests["overdue"]),
        Row(section, "requests_pending", _("Open, not yet due"), requests["pending"]),
    ]

    incidents = Incident.objects.filter(detected_at__gte=since, detected_at__lt=until).aggregate(
        total=Count("id"),
        serious=Count(
            "id", filter=Q(severity__in=[Incident.Severity.HIGH, Incident.Severity.CRITICAL])
        ),
        authorities=Count("id", filter=Q(authorities_told_at__isnull=False)),
        customers=Count("id", filter=Q(customers_told_at__isnull=False)),
        open=Count("id", filter=~Q(status=Incident.Status.CLOSED)),
    )
    section = _("Incidents")
    rows += [
        Row(section, "incidents", _("Incidents detected"), incidents["total"]),
        Row(section, "incidents_serious", _("of high or critical severity"), incidents["serious"]),
        Row(section, "incidents_authorities", _("Authorities told"), incidents["authorities"]),
        Row(section, "incidents_customers", _("Customers told"), incidents["customers"]),
        Row(section, "incidents_open", _("Not closed yet"), incidents["open"]),
    ]
    return rows


SECTION_CONSENTS = gettext_lazy("Consents")


def as_table(rows: list[Row]) -> list[list]:
    """The rows as a CSV table: section, key, label, count."""
    return [[row.section, row.key, row.label, row.count] for row in rows]
