"""Complaints.

Reads that encode rules: querysets narrowed to what the user may see, the board, the
card's tab and timeline, the dashboard queue, the service reports (computed in SQL).
"""

from __future__ import annotations

import datetime
import math
from decimal import Decimal

from django.db.models import Avg, Count, F, Q, QuerySet
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints import permissions as perms
from complaints.models import Complaint, ComplaintEvent

LIST_RELATED = ("customer", "category", "assignee", "received_by")
OPEN = (
    Complaint.Status.RECEIVED,
    Complaint.Status.INVESTIGATING,
    Complaint.Status.RESOLVED,
    Complaint.Status.CUSTOMER_INFORMED,
)
RUNNING = (Complaint.Status.RECEIVED, Complaint.Status.INVESTIGATING)


def overdue_q(now=None) -> Q:
    """Complaints past a deadline they still run against."""
    now = now or timezone.now()
    return Q(status=Complaint.Status.RECEIVED, first_response_due__lt=now) | Q(
        status__in=RUNNING, resolution_due__lt=now
    )


# ``?assignee=none``: the complaints nobody handles yet.
UNASSIGNED = "none"


def complaint_list(*, user, filters: dict | None = None) -> QuerySet:
    """The complaints the user may see, with the board's filters as ``filters.ComplaintFilter``
    cleans them (status, assignee: a user or ``UNASSIGNED``, severity, category, channel,
    overdue); values open lazily, keys preloaded."""
    filters = filters or {}
    queryset = perms.visible_complaints(
        user, Complaint.objects.select_related(*LIST_RELATED)
    ).preload_keys()
    if filters.get("status"):
        queryset = queryset.filter(status=filters["status"])
    assignee = filters.get("assignee")
    if assignee == UNASSIGNED:
        queryset = queryset.filter(assignee__isnull=True)
    elif assignee:
        queryset = queryset.filter(assignee=assignee)
    for name in ("severity", "channel", "kind"):
        if filters.get(name):
            queryset = queryset.filter(**{name: filters[name]})
    if filters.get("category"):
        queryset = queryset.filter(category__code=filters["category"])
    if filters.get("customer"):
        queryset = queryset.filter(customer_id=filters["customer"])
    overdue = filters.get("overdue")
    if overdue in (True, "true", "1", "on"):
        queryset = queryset.filter(overdue_q())
    elif overdue in (False, "false", "0"):
        queryset = queryset.exclude(overdue_q())
    return queryset.order_by("-received_at", "-id")


BOARD_COLUMN_SIZE = 30


def complaint_board(*, user, filters: dict | None = None) -> list[dict]:
    """The board's columns, one per status: the count and the first cards of each.

    Two queries: the counts (grouped) and the cards of every column (a window would do it
    in one on PostgreSQL; the open columns are short, the closed one is cut to its newest).
    """
    base = complaint_list(user=user, filters={**(filters or {}), "status": ""})
    counts = dict(
        base.order_by().values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    recent_closed = timezone.now() - datetime.timedelta(days=30)
    rows = list(
        base.filter(
            Q(status__in=OPEN) | Q(status=Complaint.Status.CLOSED, closed_at__gte=recent_closed)
        ).order_by("status", "resolution_due", "-received_at")[: BOARD_COLUMN_SIZE * 5]
    )
    now = timezone.now()
    columns = []
    for status, label in Complaint.Status.choices:
        cards = [row for row in rows if row.status == status][:BOARD_COLUMN_SIZE]
        for card in cards:
            card.is_overdue = card.overdue(now)
        columns.append(
            {"status": status, "label": label, "count": counts.get(status, 0), "cards": cards}
        )
    return columns


def complaints_of_customer(*, customer, user, limit: int = 50) -> list[Complaint]:
    """The card's complaints the user may see (the card's tab)."""
    return list(
        perms.visible_complaints(user, Complaint.objects.select_related("category", "assignee"))
        .filter(customer=customer)
        .order_by("-received_at", "-id")[:limit]
    )


def status_label(code: str) -> str:
    """A status code's translated label ("" for none; an unknown code as it is)."""
    return str(dict(Complaint.Status.choices).get(code, code)) if code else ""


def complaint_events(complaint: Complaint) -> list[ComplaintEvent]:
    """The complaint's own timeline (notes open under its key, preloaded), each event with
    the label of the status it moved to (``to_status_label``)."""
    events = list(
        ComplaintEvent.objects.filter(complaint=complaint)
        .select_related("actor", "user")
        .order_by("at", "id")
        .preload_keys()
    )
    for event in events:
        event.to_status_label = status_label(event.to_status)
    return events


def customer_timeline_entries(*, customer, user, limit: int):
    """Complaint events on the customer's timeline: codes and statuses, no notes."""
    from customers.selectors import TimelineEntry

    if not user.has_perm(perms.VIEW):
        return []
    visible = perms.visible_complaints(user).filter(customer=customer).values("pk")
    rows = (
        ComplaintEvent.objects.filter(complaint__in=visible)
        .exclude(kind=ComplaintEvent.Kind.NOTE)
        .select_related("complaint", "actor")
        .order_by("-at", "-id")[:limit]
    )
    entries = []
    for row in rows:
        status = Complaint.Status(row.to_status).label if row.to_status else ""
        title = _("Complaint %(code)s: %(what)s") % {
            "code": row.complaint.code,
            "what": status or row.get_kind_display(),
        }
        actor = row.actor.get_full_name() or row.actor.username if row.actor else ""
        entries.append(TimelineEntry(row.at, "complaint", title, actor=actor))
    return entries


def service_queue_summary(*, user) -> dict:
    """The dashboard panel of service staff: his open complaints (soonest due first), and
    how many wait unassigned and are overdue. Three queries."""
    mine = list(
        Complaint.objects.filter(assignee=user, status__in=OPEN)
        .select_related("category")
        .order_by("resolution_due", "received_at")[:10]
    )
    now = timezone.now()
    for complaint in mine:
        complaint.is_overdue = complaint.overdue(now)
    counts = perms.visible_complaints(user).aggregate(
        unassigned=Count("id", filter=Q(assignee__isnull=True, status__in=OPEN)),
        overdue=Count("id", filter=overdue_q(now)),
    )
    return {"my_complaints": mine, **counts}


def assignable_users():
    """Service staff a complaint may go to (active holders of ``handle_complaint``), one
    query (the pickers of the board and the complaint page)."""
    from crm.models import User

    app_label, codename = perms.HANDLE.split(".")
    return (
        User.objects.filter(is_active=True)
        .filter(
            Q(
                groups__permissions__content_type__app_label=app_label,
                groups__permissions__codename=codename,
            )
            | Q(
                user_permissions__content_type__app_label=app_label,
                user_permissions__codename=codename,
            )
        )
        .distinct()
        .order_by("username")
    )


# --- reports (DESIGN §6.4), in SQL -------------------------------------------------------


def _moment(day):
    """A date as the aware midnight it begins with; a datetime as it is."""
    if day is None or isinstance(day, datetime.datetime):
        return day
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def _period(queryset, start, end):
    start, end = _moment(start), _moment(end)
    if start:
        queryset = queryset.filter(received_at__gte=start)
    if end:
        queryset = queryset.filter(received_at__lt=end)
    return queryset


def _percentile(queryset, field: str, fraction: Decimal) -> Decimal | None:
    """The nearest-rank percentile of ``field`` over ``queryset``: a count and one ordered
    row (two queries, any database)."""
    values = queryset.filter(**{f"{field}__isnull": False})
    count = values.count()
    if not count:
        return None
    rank = max(math.ceil(fraction * count), 1)
    return values.order_by(field).values_list(field, flat=True)[rank - 1]


def service_report(*, user, start=None, end=None, period: str = "month") -> dict:
    """Volume by category and by channel per week or month, SLA compliance, time to first
    response and to resolution (median and 90th percentile, business hours), satisfaction
    (average and distribution), repeat rate and top root causes, over the complaints
    received in [start, end)."""
    base = _period(perms.visible_complaints(user), start, end).filter(kind=Complaint.Kind.COMPLAINT)
    trunc = TruncWeek if period == "week" else TruncMonth
    by_category = list(
        base.annotate(period=trunc("received_at"))
        .values("period", "category__code")
        .annotate(count=Count("id"))
        .order_by("period", "category__code")
    )
    by_channel = list(
        base.annotate(period=trunc("received_at"))
        .values("period", "channel")
        .annotate(count=Count("id"))
        .order_by("period", "channel")
    )
    totals = base.aggregate(
        total=Count("id"),
        responded=Count("id", filter=Q(first_responded_at__isnull=False)),
        responded_on_time=Count(
            "id",
            filter=Q(first_responded_at__isnull=False)
            & (
                Q(first_response_due__isnull=True)
                | Q(first_responded_at__lte=F("first_response_due"))
            ),
        ),
        resolved=Count("id", filter=Q(resolved_at__isnull=False)),
        resolved_on_time=Count(
            "id",
            filter=Q(resolved_at__isnull=False)
            & (Q(resolution_due__isnull=True) | Q(resolved_at__lte=F("resolution_due"))),
        ),
        repeats=Count("id", filter=Q(is_repeat=True)),
        csat_average=Avg("satisfaction_score"),
        csat_count=Count("satisfaction_score"),
    )
    distribution = dict(
        base.filter(satisfaction_score__isnull=False)
        .values_list("satisfaction_score")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("satisfaction_score", "n")
    )
    root_causes = list(
        base.filter(root_cause__isnull=False)
        .values("root_cause__code", "root_cause__name")
        .annotate(count=Count("id"))
        .order_by("-count", "root_cause__code")[:10]
    )

    def share(part, whole):
        if not whole:
            return None
        return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))

    half, ninety = Decimal("0.5"), Decimal("0.9")
    return {
        "by_category": by_category,
        "by_channel": by_channel,
        "total": totals["total"],
        "first_response_compliance": share(totals["responded_on_time"], totals["responded"]),
        "resolution_compliance": share(totals["resolved_on_time"], totals["resolved"]),
        "first_response_median": _percentile(base, "first_response_hours", half),
        "first_response_p90": _percentile(base, "first_response_hours", ninety),
        "resolution_median": _percentile(base, "resolution_hours", half),
        "resolution_p90": _percentile(base, "resolution_hours", ninety),
        "csat_average": (
            Decimal(str(totals["csat_average"])).quantize(Decimal("0.01"))
            if totals["csat_average"] is not None
            else None
        ),
        "csat_distribution": {score: distribution.get(score, 0) for score in range(1, 6)},
        "repeat_rate": share(totals["repeats"], totals["total"]),
        "top_root_causes": root_causes,
        "surveys": survey_report(start=start, end=end),
    }


# --- satisfaction surveys ---------------------------------------------------------------


def survey_list() -> list:
    """The surveys with the counts of their current round (two queries)."""
    from complaints.models import Survey, SurveyInvitation

    today = timezone.localdate()
    surveys = list(Survey.objects.order_by("-is_active", "name", "id"))
    rounds = {survey.pk: survey.round_of(today) for survey in surveys}
    counts: dict[tuple, dict] = {}
    if surveys:
        rows = (
            SurveyInvitation.objects.filter(survey__in=surveys, round__in=set(rounds.values()))
            .values("survey_id", "round")
            .annotate(invited=Count("id"), answered=Count("responded_at"))
            .order_by()
        )
        counts = {(row["survey_id"], row["round"]): row for row in rows}
    for survey in surveys:
        survey.current_round = rounds[survey.pk]
        row = counts.get((survey.pk, survey.current_round), {})
        survey.invited, survey.answered = row.get("invited", 0), row.get("answered", 0)
    return surveys


def survey_get(pk):
    from django.shortcuts import get_object_or_404

    from complaints.models import Survey

    return get_object_or_404(Survey, pk=pk)


def survey_report(*, start=None, end=None) -> dict:
    """CSAT from the satisfaction surveys: invitations sent in [start, end), how many were
    answered, the average score and its distribution. Two queries."""
    from complaints.models import SurveyInvitation

    start, end = _moment(start), _moment(end)
    base = SurveyInvitation.objects.all()
    if start:
        base = base.filter(sent_at__gte=start)
    if end:
        base = base.filter(sent_at__lt=end)
    totals = base.aggregate(
        invited=Count("id"), answered=Count("responded_at"), average=Avg("score")
    )
    distribution = dict(
        base.filter(score__isnull=False)
        .values_list("score")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("score", "n")
    )
    invited, answered = totals["invited"], totals["answered"]
    return {
        "invited": invited,
        "answered": answered,
        "response_rate": (
            (Decimal(answered) * 100 / Decimal(invited)).quantize(Decimal("0.1"))
            if invited
            else None
        ),
        "csat_average": (
            Decimal(str(totals["average"])).quantize(Decimal("0.01"))
            if totals["average"] is not None
            else None
        ),
        "csat_distribution": {score: distribution.get(score, 0) for score in range(1, 6)},
    }
