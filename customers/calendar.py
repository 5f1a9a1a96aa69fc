"""The follow-up calendar's dates (issue 13 item 4): pure functions, apart from
``names_preload``'s one unwrap of keys (its reads are ``selectors.follow_up_calendar`` and
``selectors.follow_up_overdue_before``).

Weeks start on Monday. A month is shown as the whole weeks that cover it (the days of the
neighbouring months greyed); a week is Monday to Sunday; a day is itself.

A planned visit on a past day is flagged "not recorded": recording a visit from the plan
(``services.visit_record``) always moves the entry's ``next_visit_on`` on (or clears it),
so an active entry still dated in the past was not recorded.

A range that holds today also lists, above it, what is still open from before its first day
(``Overdue``): the follow-ups not done and the planned visits not recorded. Otherwise last
month's would only show in last month's page, and last Thursday's unrecorded visit not in
this week's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

VIEWS = ("month", "week", "day")

# The longest range the API answers in one request (two months and a bit).
MAX_RANGE_DAYS = 62


@dataclass
class Entry:
    """One thing to do on a day: a follow-up of an interaction or a planned visit."""

    kind: str  # "follow_up" or "visit"
    day: date
    customer: object  # the card, its name readable (key preloaded)
    owner: object | None  # the card's owner (follow-up) or the visiting rep (visit)
    overdue: bool = False
    record_id: int = 0
    not_recorded: bool = False  # a planned visit on a past day, still on the plan

    @property
    def customer_id(self) -> int:
        return self.customer.pk


@dataclass
class Day:
    day: date
    entries: list[Entry] = field(default_factory=list)
    more: int = 0  # entries of the day not shown (over the cap)
    in_month: bool = True
    is_today: bool = False

    @property
    def total(self) -> int:
        return len(self.entries) + self.more

    @property
    def overdue(self) -> int:
        return sum(1 for entry in self.entries if entry.overdue)


@dataclass
class Overdue:
    """The follow-ups not done and the planned visits not recorded from before the range
    shown: the first few (oldest first), and how many in all and of each kind."""

    entries: list[Entry]
    total: int
    follow_ups: int = 0  # of ``total``, the follow-ups
    visits: int = 0  # of ``total``, the planned visits not recorded
    more_link: str = ""  # where the ones not listed are ("+N more")
    phone_shown: int = 5  # listed on a phone (below 768 px), above its list of days

    @property
    def more(self) -> int:
        return self.total - len(self.entries)

    @property
    def phone_more(self) -> int:
        return self.total - min(len(self.entries), self.phone_shown)


# Dates the calendar pages through (a month or a week away never leaves ``date``'s range).
FIRST_YEAR, LAST_YEAR = 1900, 9000


def in_range(day: date) -> bool:
    return FIRST_YEAR <= day.year <= LAST_YEAR


def parse_day(value: str | None, default: date) -> date:
    """``YYYY-MM-DD`` or ``default`` (anything else, say a wrong date, is the default)."""
    try:
        day = date.fromisoformat((value or "").strip()) if value else default
    except ValueError:
        return default
    return day if in_range(day) else default


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first of the month ``months`` away from ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def view_range(view: str, anchor: date) -> tuple[date, date]:
    """First and last day (inclusive) the view shows around ``anchor``."""
    if view == "day":
        return anchor, anchor
    if view == "week":
        start = week_start(anchor)
        return start, start + timedelta(days=6)
    first = month_start(anchor)
    last = add_months(first, 1) - timedelta(days=1)
    return week_start(first), week_start(last) + timedelta(days=6)


def neighbours(view: str, anchor: date) -> tuple[date, date]:
    """The anchors of the previous and the next page of the view."""
    if view == "day":
        return anchor - timedelta(days=1), anchor + timedelta(days=1)
    if view == "week":
        start = week_start(anchor)
        return start - timedelta(days=7), start + timedelta(days=7)
    first = month_start(anchor)
    return add_months(first, -1), add_months(first, 1)


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def build_days(
    view: str, anchor: date, today: date, entries: dict[date, tuple[list[Entry], int]]
) -> list[Day]:
    """The view's days with their entries (``entries``: day → (shown entries, hidden))."""
    start, end = view_range(view, anchor)
    days = []
    for day in days_between(start, end):
        shown, more = entries.get(day, ([], 0))
        days.append(
            Day(
                day=day,
                entries=shown,
                more=more,
                in_month=view != "month" or day.month == anchor.month,
                is_today=day == today,
            )
        )
    return days


def weeks(days: list[Day]) -> list[list[Day]]:
    """Rows of seven days (the month grid)."""
    return [days[i : i + 7] for i in range(0, len(days), 7)]


def shows_overdue_before(start: date, end: date, today: date) -> bool:
    """Whether the range lists what is overdue from before it (it holds today)."""
    return start <= today <= end


def names_preload(found: dict[date, tuple[list[Entry], int]], overdue: Overdue | None) -> int:
    """Unwrap the keys of every card shown (the range's and the strip's) in one query."""
    from crm.encryption import data_keys_preload

    entries = [entry for shown, _hidden in found.values() for entry in shown]
    entries += overdue.entries if overdue else []
    return data_keys_preload({entry.customer.data_key_id for entry in entries})
