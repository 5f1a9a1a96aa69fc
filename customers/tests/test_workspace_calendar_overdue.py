"""The follow-up calendar's overdue strip and unrecorded visits (docs/workspace.md, "Known
limits"): a range that holds today lists, above it, the follow-ups overdue from before its
first day (the same scope and pickers, bounded, counted, in a fixed number of queries); a
planned visit on a past day is flagged "not recorded"."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from customers import calendar as cal
from customers import selectors, services
from customers.api import calendar as calendar_api
from customers.models import Interaction
from customers.tests import test_workspace_calendar as calendar_tests
from customers.tests.factories import api_client_for, make_customer
from customers.tests.test_workspace_calendar import API, URL, _page, follow_up, planned_visit
from customers.views import calendar as calendar_views
from tests.browser import browser_test, sign_in

pytestmark = pytest.mark.django_db

world = calendar_tests.world  # the same teams and people (a fixture)

DAY = datetime.timedelta(days=1)
STRIP = 'data-testid="cal-overdue-strip"'


def _month_start(today):
    return cal.view_range("month", today)[0]


def _strip(html: str) -> str:
    """The overdue strip's markup ("" without one)."""
    if STRIP not in html:
        return ""
    return html.split(STRIP, 1)[1].split("</section>", 1)[0]


def _calendar(html: str) -> str:
    """The range's markup (after the strip)."""
    return html.split("</section>", 1)[1] if STRIP in html else html


# --- the page ------------------------------------------------------------------------------


def test_strip_lists_the_follow_ups_overdue_from_before_the_range(client, world):
    owner, today = world["owner"], timezone.localdate()
    start = _month_start(today)
    oldest, older, in_range = make_customer(owner), make_customer(owner), make_customer(owner)
    follow_up(owner, older, start - DAY)
    follow_up(owner, oldest, start - 40 * DAY)
    follow_up(owner, in_range, start)
    done = follow_up(owner, make_customer(owner), start - 3 * DAY)
    Interaction.objects.filter(pk=done.pk).update(follow_up_done=True)

    html = _page(client, owner)

    strip = _strip(html)
    assert 'data-testid="cal-overdue-count">2<' in strip
    codes = [oldest.code, older.code]
    assert [strip.index(f"cal-follow_up-{code}") for code in codes] == sorted(
        strip.index(f"cal-follow_up-{code}") for code in codes
    )  # the oldest first
    assert f'datetime="{(start - 40 * DAY).isoformat()}"' in strip
    assert in_range.code not in strip and done.customer.code not in strip
    assert 'data-testid="cal-more"' not in strip
    # The range's own days are as before: the in-range one there, not the others.
    assert f"cal-follow_up-{in_range.code}" in _calendar(html)
    assert oldest.code not in _calendar(html) and older.code not in _calendar(html)
    # Above the calendar (on a phone, above the list of days).
    assert html.index(STRIP) < html.index('data-testid="cal-month"')


def test_strip_keeps_the_scope_and_the_pickers(client, world):
    today = timezone.localdate()
    before = _month_start(today) - 5 * DAY
    mine, theirs = make_customer(world["owner"]), make_customer(world["colleague"])
    far = make_customer(world["stranger"])
    follow_up(world["owner"], mine, before)
    follow_up(world["colleague"], theirs, before)
    follow_up(world["stranger"], far, before)

    strip = _strip(_page(client, world["owner"]))
    assert mine.code in strip and theirs.code not in strip and far.code not in strip
    assert 'data-testid="cal-overdue-count">1<' in strip
    strip = _strip(_page(client, world["manager"]))
    assert mine.code in strip and theirs.code in strip and far.code not in strip
    strip = _strip(_page(client, world["manager"], owner=world["colleague"].pk))
    assert theirs.code in strip and mine.code not in strip
    assert 'data-testid="cal-overdue-count">1<' in strip
    # Another team's rep is no choice of the manager's: still his own team only.
    strip = _strip(_page(client, world["manager"], owner=world["stranger"].pk))
    assert far.code not in strip and mine.code in strip
    strip = _strip(_page(client, world["gm"], team=world["south"].pk))
    assert far.code in strip and mine.code not in strip and theirs.code not in strip
    # The owner's name, as on the range's entries, for those who see others' cards.
    assert "Tao Zhao" in strip
    # Nothing of another team's overdue follow-ups reaches the south team's manager's view.
    assert mine.code not in _page(client, world["south_manager"])


def test_strip_only_in_a_range_that_holds_today(client, world):
    owner, today = world["owner"], timezone.localdate()
    customer = make_customer(owner)
    follow_up(owner, customer, today - 100 * DAY)
    assert STRIP in _page(client, owner, view="day")
    assert STRIP in _page(client, owner, view="week")
    assert STRIP in _page(client, owner, view="month")
    last_week = today - 7 * DAY
    assert STRIP not in _page(client, owner, view="week", date=last_week.isoformat())
    assert STRIP not in _page(client, owner, view="day", date=(today + DAY).isoformat())
    far = cal.add_months(today, 3)  # its grid never reaches back to today
    assert STRIP not in _page(client, owner, view="month", date=far.isoformat())
    assert cal.shows_overdue_before(today, today, today)
    assert not cal.shows_overdue_before(today + DAY, today + 7 * DAY, today)
    assert not cal.shows_overdue_before(today - 7 * DAY, today - DAY, today)


def test_no_strip_without_overdue_follow_ups(client, world):
    owner, today = world["owner"], timezone.localdate()
    follow_up(owner, make_customer(owner), today)
    assert STRIP not in _page(client, owner)


@pytest.mark.parametrize("overdue", [1, 25])
def test_strip_bounded_and_counted_in_fixed_queries(client, world, assert_queries, overdue):
    owner, today = world["owner"], timezone.localdate()
    before = _month_start(today) - DAY
    customers = [make_customer(owner) for _ in range(overdue)]
    for n, customer in enumerate(customers):
        follow_up(owner, customer, before - n * DAY)
    follow_up(owner, make_customer(owner), today)  # the range has its own entry too
    client.force_login(owner)
    # 9 as for any range holding today (see test_workspace_calendar): the strip is two
    # queries (follow-ups, visits) whatever its length; the range's and the strip's keys
    # are unwrapped together.
    with assert_queries(default=9, keys=1):
        response = client.get(reverse(URL))
    strip = _strip(response.content.decode())
    shown = min(overdue, calendar_views.OVERDUE_SHOWN)
    assert strip.count('data-testid="cal-follow_up-') == shown
    assert f'data-testid="cal-overdue-count">{overdue}<' in strip
    # The oldest first: the last made is the oldest.
    assert f"cal-follow_up-{customers[-1].code}" in strip
    if overdue > shown:
        assert f"+{overdue - shown} more" in strip
        # The list, filtered on overdue follow-ups (no picker chosen: none passed).
        more = reverse("customers:list") + "?follow_up=overdue"
        assert f'href="{more}"' in strip
        assert f"cal-follow_up-{customers[0].code}" not in strip  # the newest, left out
        # A phone lists the first five; its own "+N more" counts the others.
        assert strip.count("d-none d-md-block") == shown - 5
        assert f'data-testid="cal-more-phone">+{overdue - 5} more<' in strip
    else:
        assert 'data-testid="cal-more"' not in strip and "cal-more-phone" not in strip
        assert "d-none d-md-block" not in strip
    # Names are read as on the range's entries (masked for a person).
    assert "*" in strip


# --- planned visits not recorded -----------------------------------------------------------


def test_a_past_planned_visit_is_flagged_not_recorded(client, world):
    owner, today = world["owner"], timezone.localdate()
    missed, coming = make_customer(owner), make_customer(owner)
    recorded = make_customer(owner)
    planned_visit(owner, missed, today - DAY)
    planned_visit(owner, coming, today)
    entry = planned_visit(owner, recorded, today - DAY)
    services.visit_record(
        actor=owner, entry_id=entry.pk, outcome="no_result", next_visit_on=today + DAY
    )

    html = _page(client, owner, view="day", date=(today - DAY).isoformat())
    assert html.count('data-testid="cal-not-recorded"') == 1
    missed_entry = html.split(f'data-testid="cal-visit-{missed.code}"')[1].split("</li>")[0]
    assert "Not recorded" in missed_entry
    assert 'data-testid="cal-overdue"' not in missed_entry  # a visit is not "overdue"
    # Recorded from the plan, the visit moved on to its next date: nothing left on the past.
    assert f"cal-visit-{recorded.code}" not in html
    html = _page(client, owner, view="day", date=(today + DAY).isoformat())
    assert f"cal-visit-{recorded.code}" in html and "cal-not-recorded" not in html
    html = _page(client, owner, view="day")
    assert f"cal-visit-{coming.code}" in _calendar(html)
    assert 'data-testid="cal-not-recorded"' not in _calendar(html)
    # Today's page lists yesterday's missed visit in its strip (and only that one).
    assert _strip(html).count('data-testid="cal-not-recorded"') == 1
    assert f"cal-visit-{missed.code}" in _strip(html)


def test_strip_lists_the_unrecorded_visits_from_before_the_range(client, world):
    owner, today = world["owner"], timezone.localdate()
    start = cal.view_range("week", today)[0]
    missed, earlier, in_range = make_customer(owner), make_customer(owner), make_customer(owner)
    late = make_customer(owner)
    planned_visit(owner, missed, start - DAY)  # "last Thursday" of an earlier week
    planned_visit(owner, in_range, start)
    follow_up(owner, late, start - 2 * DAY)
    earlier_entry = planned_visit(owner, earlier, start - 9 * DAY)
    won = planned_visit(owner, make_customer(owner), start - 3 * DAY)
    services.visit_record(actor=owner, entry_id=won.pk, outcome="positive")  # off the plan
    won.refresh_from_db()
    assert won.status == "won"

    html = _page(client, owner, view="week")

    strip = _strip(html)
    assert "Overdue from earlier dates" in strip
    assert 'data-testid="cal-overdue-count">3<' in strip
    assert strip.count('data-testid="cal-not-recorded"') == 2
    order = [f"cal-visit-{earlier.code}", f"cal-follow_up-{late.code}", f"cal-visit-{missed.code}"]
    assert [strip.index(mark) for mark in order] == sorted(strip.index(m) for m in order)
    assert f'datetime="{(start - 9 * DAY).isoformat()}"' in strip
    assert "Planned visit" in strip and "Follow-up" in strip  # each entry says its kind
    assert in_range.code not in strip and won.customer.code not in strip
    assert f"cal-visit-{in_range.code}" in _calendar(html)
    # Recorded from the plan, it moves on and leaves the strip.
    services.visit_record(
        actor=owner, entry_id=earlier_entry.pk, outcome="no_result", next_visit_on=today + DAY
    )
    strip = _strip(_page(client, owner, view="week"))
    assert 'data-testid="cal-overdue-count">2<' in strip and earlier.code not in strip


def test_strip_visits_keep_the_scope_and_the_pickers(client, world):
    start = _month_start(timezone.localdate())
    mine, theirs = make_customer(world["owner"]), make_customer(world["colleague"])
    far = make_customer(world["stranger"])
    planned_visit(world["owner"], mine, start - DAY)
    planned_visit(world["colleague"], theirs, start - DAY)
    planned_visit(world["stranger"], far, start - DAY)

    strip = _strip(_page(client, world["owner"]))
    assert f"cal-visit-{mine.code}" in strip and theirs.code not in strip and far.code not in strip
    strip = _strip(_page(client, world["manager"], owner=world["colleague"].pk))
    assert f"cal-visit-{theirs.code}" in strip and mine.code not in strip
    assert 'data-testid="cal-overdue-count">1<' in strip and "Mei Wang" in strip
    strip = _strip(_page(client, world["gm"], team=world["south"].pk))
    assert f"cal-visit-{far.code}" in strip and mine.code not in strip
    assert 'data-testid="cal-overdue-count">1<' in strip
    assert mine.code not in _page(client, world["south_manager"])


@pytest.mark.parametrize("missed", [1, 25])
def test_strip_visits_bounded_in_fixed_queries(client, world, assert_queries, missed):
    owner, today = world["owner"], timezone.localdate()
    before = _month_start(today) - DAY
    for n in range(missed):
        planned_visit(owner, make_customer(owner), before - n * DAY)
    follow_up(owner, make_customer(owner), before - 100 * DAY)  # the oldest of all
    client.force_login(owner)
    with assert_queries(default=9, keys=1):  # as with follow-ups only
        response = client.get(reverse(URL))
    strip = _strip(response.content.decode())
    shown = min(missed + 1, calendar_views.OVERDUE_SHOWN)
    assert strip.count('data-testid="cal-visit-') == shown - 1
    assert strip.count('data-testid="cal-follow_up-') == 1
    assert f'data-testid="cal-overdue-count">{missed + 1}<' in strip
    if missed + 1 > shown:
        assert f"+{missed + 1 - shown} more" in strip


def test_the_calendar_marks_only_past_visits_not_recorded(world):
    owner, today = world["owner"], timezone.localdate()
    past, current = make_customer(owner), make_customer(owner)
    planned_visit(owner, past, today - DAY)
    planned_visit(owner, current, today)
    follow_up(owner, past, today - DAY)
    found = selectors.follow_up_calendar(owner, start=today - DAY, end=today, today=today)
    entries = {(e.kind, e.day): e for shown, _more in found.values() for e in shown}
    visit, visit_today = entries[("visit", today - DAY)], entries[("visit", today)]
    late = entries[("follow_up", today - DAY)]
    assert (visit.not_recorded, visit_today.not_recorded, late.not_recorded) == (
        True,
        False,
        False,
    )


# --- the API --------------------------------------------------------------------------------


def test_api_gives_the_overdue_before_the_range(world):
    owner, today = world["owner"], timezone.localdate()
    mine, far = make_customer(owner), make_customer(world["stranger"])
    follow_up(owner, mine, today - 30 * DAY)
    follow_up(world["stranger"], far, today - 30 * DAY)
    planned_visit(owner, mine, today - DAY)
    api = api_client_for(owner)
    start, end = today - DAY, today + 5 * DAY

    body = api.get(reverse(API), {"start": start, "end": end}).json()

    assert set(body) == {
        "start",
        "end",
        "entries",
        "more",
        "overdue_before_range",
        "overdue_before_range_count",
    }
    assert body["overdue_before_range"] == [
        {
            "customer": mine.pk,
            "code": mine.code,
            "kind": "follow_up",
            "date": (today - 30 * DAY).isoformat(),
            "owner": owner.pk,
            "overdue": True,
            "not_recorded": False,
        }
    ]
    assert body["overdue_before_range_count"] == 1
    assert [(e["kind"], e["not_recorded"], e["overdue"]) for e in body["entries"]] == [
        ("visit", True, False)
    ]
    # A range starting today: yesterday's unrecorded visit is overdue from before it.
    body = api.get(reverse(API), {"start": today, "end": end}).json()
    assert body["overdue_before_range_count"] == 2
    assert [
        (e["kind"], e["date"], e["overdue"], e["not_recorded"], e["owner"])
        for e in body["overdue_before_range"]
    ] == [
        ("follow_up", (today - 30 * DAY).isoformat(), True, False, owner.pk),
        ("visit", (today - DAY).isoformat(), False, True, owner.pk),
    ]
    # A range that does not hold today: the key is there, empty.
    body = api.get(reverse(API), {"start": today + DAY, "end": today + 7 * DAY}).json()
    assert body["overdue_before_range"] == [] and body["overdue_before_range_count"] == 0
    # The general manager narrowed to the south team sees only the stranger's.
    body = api_client_for(world["gm"]).get(
        reverse(API), {"start": start, "end": end, "team": world["south"].pk}
    )
    assert [e["customer"] for e in body.json()["overdue_before_range"]] == [far.pk]


@pytest.mark.parametrize("overdue", [1, 25])
def test_api_overdue_bounded_in_fixed_queries(world, assert_queries, monkeypatch, overdue):
    monkeypatch.setattr(calendar_api, "OVERDUE_LIMIT", 20)
    owner, today = world["owner"], timezone.localdate()
    for n in range(overdue):
        follow_up(owner, make_customer(owner), today - (10 + n) * DAY)
        planned_visit(owner, make_customer(owner), today - (10 + n) * DAY)
    api = api_client_for(owner)
    # Follow-ups, visits, the overdue follow-ups and the overdue visits (the permissions
    # already read on ``owner`` while setting up); no key unwrapped (ids and codes only).
    with assert_queries(default=4, keys=0):
        response = api.get(reverse(API))
    body = response.json()
    assert len(body["overdue_before_range"]) == min(2 * overdue, 20)
    assert body["overdue_before_range_count"] == 2 * overdue
    dates = [entry["date"] for entry in body["overdue_before_range"]]
    assert dates == sorted(dates)
    kinds = [entry["kind"] for entry in body["overdue_before_range"]]
    assert kinds.count("visit") == kinds.count("follow_up") == min(overdue, 10)


def test_api_overdue_permissions(world):
    from rest_framework.test import APIClient

    from crm import roles
    from crm.tests.factories import UserFactory

    assert APIClient().get(reverse(API)).status_code in (401, 403)
    admin = api_client_for(UserFactory(role=roles.ADMIN))
    assert admin.get(reverse(API)).status_code == 403
    response = api_client_for(world["owner"]).get(reverse(API))
    assert response.status_code == 200 and response.json()["overdue_before_range_count"] == 0


# --- in a browser: the strip above the list of days on a 390 px phone ---------------------


phone_page = calendar_tests.phone_page  # the browser at 390 × 844 (a fixture)


@pytest.fixture
def late_rep():
    from crm.tests.factories import PASSWORD, TeamFactory
    from customers.tests.factories import rep

    owner = rep(team=TeamFactory(name="North"), username="calendar-late-rep")
    today = timezone.localdate()
    before = _month_start(today) - DAY
    for n in range(25):
        customer = make_customer(owner, name=f"客户名称很长的一家逾期单位{n}")
        follow_up(owner, customer, before - n * DAY)
    follow_up(owner, make_customer(owner), today)
    return owner, PASSWORD


@browser_test
def test_the_strip_sits_above_the_days_on_a_phone(late_rep, live_url, phone_page):
    (owner, password), page = late_rep, phone_page
    sign_in(page, live_url, owner.username, password)
    for view in ("month", "week"):
        page.goto(f"{live_url}/customers/calendar/?view={view}")
        strip = page.wait_for_selector("[data-testid=cal-overdue-strip]")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        today = page.query_selector(f"[data-testid=cal-day-{timezone.localdate().isoformat()}]")
        assert today.is_visible()
        assert (
            strip.bounding_box()["y"] + strip.bounding_box()["height"]
            <= (today.bounding_box()["y"])
        )
        # The first five, and "+20 more" (the phone's); the desktop's "+5 more" hidden.
        visible = page.eval_on_selector_all(
            "[data-testid=cal-overdue-strip] li",
            "items => items.filter(i => i.offsetParent).length",
        )
        assert visible == 5
        assert page.inner_text("[data-testid=cal-more-phone]") == "+20 more"
        assert not page.is_visible("[data-testid=cal-overdue-strip] [data-testid=cal-more]")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert page.is_visible("[data-testid=cal-overdue-strip] [data-testid=cal-more]")
    assert not page.is_visible("[data-testid=cal-more-phone]")
    visible = page.eval_on_selector_all(
        "[data-testid=cal-overdue-strip] li", "items => items.filter(i => i.offsetParent).length"
    )
    assert visible == 20
