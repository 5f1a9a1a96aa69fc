"""Business hours on the working calendar kept as data (DESIGN §6.4).

A day's working hours are its weekday's ``WorkingPeriod`` rows, unless the day is a
``CalendarDay``: a public holiday has none, a make-up working day (调休) has those of the
weekday it names. ``WorkingCalendar`` loads the periods and the exceptions of a span of
dates in two queries, then answers in Python:

* ``add(start, hours)``: the moment ``hours`` business hours after ``start`` (a receipt
  outside working hours starts counting at the next working moment);
* ``between(start, end)``: the business hours from ``start`` to ``end``.

All times are in the project's time zone (``TIME_ZONE``); results are aware datetimes.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

# How far ahead one load of the calendar reaches; a deadline further away loads more.
SPAN_DAYS = 120
# A calendar with no working hours at all would never reach a deadline.
MAX_DAYS = 3660


class NoWorkingHours(ValueError):
    """The calendar has no working hours within ten years: no deadline can be reached."""


class WorkingCalendar:
    """The working hours per weekday and the exceptions (holidays, make-up days)."""

    def __init__(self, periods=None, days=None):
        from complaints.models import CalendarDay, WorkingPeriod

        if periods is None:
            periods = list(WorkingPeriod.objects.values_list("weekday", "start", "end"))
        self.weekly: dict[int, list[tuple[datetime.time, datetime.time]]] = {}
        for weekday, start, end in periods:
            self.weekly.setdefault(weekday, []).append((start, end))
        for spans in self.weekly.values():
            spans.sort()
        self._days: dict[datetime.date, tuple[str, int]] | None = (
            None if days is None else dict(days)
        )
        self._loaded: tuple[datetime.date, datetime.date] | None = None
        self._model = CalendarDay

    # --- the exceptions, loaded per span of dates --------------------------------------

    def _load(self, first: datetime.date, last: datetime.date) -> None:
        rows = self._model.objects.filter(date__gte=first, date__lte=last).values_list(
            "date", "kind", "hours_of"
        )
        if self._days is None:
            self._days = {}
        self._days.update({date: (kind, hours_of) for date, kind, hours_of in rows})
        if self._loaded is None:
            self._loaded = (first, last)
        else:
            self._loaded = (min(self._loaded[0], first), max(self._loaded[1], last))

    def _exception(self, day: datetime.date):
        if not self._fixed and (
            self._loaded is None or not (self._loaded[0] <= day <= self._loaded[1])
        ):
            self._load(day, day + datetime.timedelta(days=SPAN_DAYS))
        return (self._days or {}).get(day)

    _fixed = False

    @classmethod
    def fixed(cls, periods, days) -> WorkingCalendar:
        """A calendar from given data, reading nothing from the database (tests, bench)."""
        calendar = cls(periods=periods, days=days)
        calendar._fixed = True
        return calendar

    def spans(self, day: datetime.date) -> list[tuple[datetime.time, datetime.time]]:
        """The working spans of ``day``."""
        exception = self._exception(day)
        if exception is not None:
            kind, hours_of = exception
            if kind == "holiday":
                return []
            return self.weekly.get(hours_of, [])
        return self.weekly.get(day.weekday(), [])

    # --- answers ---------------------------------------------------------------------------

    def _aware(self, day: datetime.date, moment: datetime.time) -> datetime.datetime:
        return timezone.make_aware(datetime.datetime.combine(day, moment))

    def add(self, start: datetime.datetime, hours, *, calendar_hours: bool = False):
        """The moment ``hours`` business hours (or calendar hours) after ``start``."""
        remaining = datetime.timedelta(hours=float(Decimal(str(hours))))
        if calendar_hours:
            return start + remaining
        local = timezone.localtime(start)
        day = local.date()
        for _offset in range(MAX_DAYS):
            for span_start, span_end in self.spans(day):
                begin = max(self._aware(day, span_start), local)
                end = self._aware(day, span_end)
                if end <= begin:
                    continue
                available = end - begin
                if remaining <= available:
                    if remaining == datetime.timedelta(0):
                        return begin
                    return begin + remaining
                remaining -= available
            day += datetime.timedelta(days=1)
        raise NoWorkingHours("The working calendar has no working hours.")

    def between(self, start: datetime.datetime, end: datetime.datetime) -> Decimal:
        """Business hours from ``start`` to ``end`` (0 when ``end`` is not after it)."""
        if end <= start:
            return Decimal("0.00")
        local_start, local_end = timezone.localtime(start), timezone.localtime(end)
        total = datetime.timedelta(0)
        day = local_start.date()
        while day <= local_end.date():
            for span_start, span_end in self.spans(day):
                begin = max(self._aware(day, span_start), local_start)
                finish = min(self._aware(day, span_end), local_end)
                if finish > begin:
                    total += finish - begin
            day += datetime.timedelta(days=1)
        return (Decimal(total.total_seconds()) / Decimal(3600)).quantize(Decimal("0.01"))


def hours_between(start, end, *, calendar_hours: bool = False, calendar=None) -> Decimal:
    """Business (or calendar) hours between two moments."""
    if calendar_hours:
        seconds = max((end - start).total_seconds(), 0)
        return (Decimal(seconds) / Decimal(3600)).quantize(Decimal("0.01"))
    return (calendar or WorkingCalendar()).between(start, end)


def deadlines(severity: str, received_at, *, calendar=None):
    """(first response due, resolution due) of a complaint of ``severity``; ``(None, None)``
    when no SLA policy covers the severity."""
    from complaints.models import SlaPolicy

    policy = SlaPolicy.objects.filter(severity=severity).first()
    if policy is None:
        return None, None
    calendar = calendar or WorkingCalendar()
    return (
        calendar.add(
            received_at, policy.first_response_hours, calendar_hours=policy.calendar_hours
        ),
        calendar.add(received_at, policy.resolution_hours, calendar_hours=policy.calendar_hours),
    )


def policy_counts_calendar_hours(severity: str) -> bool:
    from complaints.models import SlaPolicy

    return SlaPolicy.objects.filter(severity=severity, calendar_hours=True).exists()
