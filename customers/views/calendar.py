"""The follow-up calendar (issue 13 item 4): follow-ups due and planned visits of the
customers the user may see, by month, week or day.

The same visibility as the customer list (``selectors.follow_up_calendar`` filters on
``visible_customers``). A manager narrows to one of his reps, the general manager to a
team or a rep; a rep sees his own cards. Entries come in a fixed number of queries, at
most a few per day; the rest of a day is "+N more", a link to a closer view.

A range that holds today lists above it what is overdue from before its first day: the
follow-ups not done and the planned visits not recorded (``OVERDUE_SHOWN`` of them, oldest
first — a few on a phone — then "+N more" to the customer list filtered on overdue
follow-ups, with the picked rep or team): two more queries, whatever their number. The
cards' keys, the range's and the strip's, are unwrapped together.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from crm.ids import is_object_id
from crm.models import Team
from customers import calendar as cal
from customers import permissions as perms
from customers import selectors

# Entries shown per day (of each kind fetched) in each view.
PER_DAY = {"month": 3, "week": 10, "day": 100}
# Where a day's "+N more" leads: a closer view of the same day.
CLOSER = {"month": "week", "week": "day"}
# Overdue follow-ups and unrecorded visits from before the range listed above it (the rest:
# "+N more").
OVERDUE_SHOWN = 20


def _int(value) -> int | None:
    value = (value or "").strip()
    return int(value) if is_object_id(value) and len(value) < 10 else None


def _filters(request) -> dict:
    """The rep and team pickers the user gets, and the chosen (valid) values."""
    user = request.user
    owners = list(selectors.owner_candidates(user))  # managers: their team; the GM: all
    sees_all = user.has_perm(perms.VIEW_ALL)
    teams = list(Team.objects.order_by("name")) if sees_all else []
    owner_id = _int(request.GET.get("owner"))
    team_id = _int(request.GET.get("team"))
    if owner_id not in {owner.pk for owner in owners}:
        owner_id = None
    if team_id not in {team.pk for team in teams}:
        team_id = None
    return {
        "owners": owners if len(owners) > 1 else [],
        "teams": teams,
        "owner_id": owner_id,
        "team_id": team_id,
        "show_owner": sees_all or len(owners) > 1,
    }


def _link(view: str, day, owner_id=None, team_id=None) -> str:
    params = {"view": view, "date": day.isoformat()}
    if owner_id:
        params["owner"] = owner_id
    if team_id:
        params["team"] = team_id
    return f"{reverse('customers:calendar')}?{urlencode(params)}"


def _more_link(view: str, day, owner_id, team_id) -> str:
    """A day's "+N more": the closer view, or from the day view the filtered list."""
    if view in CLOSER:
        return _link(CLOSER[view], day, owner_id, team_id)
    params = {key: value for key, value in (("owner", owner_id), ("team", team_id)) if value}
    query = urlencode(params)
    return reverse("customers:list") + (f"?{query}" if query else "")


def _overdue_link(owner_id, team_id) -> str:
    """The strip's "+N more": the customer list filtered on overdue follow-ups and on the
    picked rep (the list's ``owner``: the card's owner, as the strip's follow-ups) or team
    (the list's ``team``: the card's team, the owner's since every assignment sets it)."""
    params = {"follow_up": "overdue"}
    params.update({key: value for key, value in (("owner", owner_id), ("team", team_id)) if value})
    return f"{reverse('customers:list')}?{urlencode(params)}"


@login_required
@permission_required(perms.VIEW, raise_exception=True)
@require_http_methods(["GET"])
def calendar_view(request):
    today = timezone.localdate()
    view = request.GET.get("view", "month")
    if view not in cal.VIEWS:
        view = "month"
    anchor = cal.parse_day(request.GET.get("date"), today)
    filters = _filters(request)
    owner_id, team_id = filters["owner_id"], filters["team_id"]
    start, end = cal.view_range(view, anchor)
    found = selectors.follow_up_calendar(
        request.user,
        start=start,
        end=end,
        today=today,
        owner_id=owner_id,
        team_id=team_id,
        per_day=PER_DAY[view],
        names=False,  # with the strip's, below
    )
    overdue = None
    if cal.shows_overdue_before(start, end, today):
        overdue = selectors.follow_up_overdue_before(
            request.user,
            before=start,
            today=today,
            owner_id=owner_id,
            team_id=team_id,
            limit=OVERDUE_SHOWN,
        )
        overdue.more_link = _overdue_link(owner_id, team_id)
    cal.names_preload(found, overdue)
    days = cal.build_days(view, anchor, today, found)
    for day in days:
        day.link = _link("day", day.day, owner_id, team_id)
        day.more_link = _more_link(view, day.day, owner_id, team_id) if day.more else ""
    previous, following = cal.neighbours(view, anchor)
    return render(
        request,
        "customers/calendar.html",
        {
            "view": view,
            "anchor": anchor,
            "start": start,
            "end": end,
            "today": today,
            "days": days,
            "overdue": overdue if overdue and overdue.total else None,
            "weeks": cal.weeks(days) if view == "month" else [],
            "weekdays": [day.day for day in days[:7]],
            "empty": not any(day.total for day in days),
            "previous_url": _link(view, previous, owner_id, team_id),
            "next_url": _link(view, following, owner_id, team_id),
            "today_url": _link(view, today, owner_id, team_id),
            "view_urls": {name: _link(name, anchor, owner_id, team_id) for name in cal.VIEWS},
            **filters,
        },
    )


urlpatterns = [
    path("calendar/", calendar_view, name="calendar"),
]
