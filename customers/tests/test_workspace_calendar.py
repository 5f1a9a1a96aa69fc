"""The follow-up calendar (issue 13 item 4): follow-ups and planned visits of the user's
scope by month, week and day; bounded queries; the same visibility as the list."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from crm import roles
from crm.tests.factories import TeamFactory, UserFactory
from customers import calendar as cal
from customers import services
from customers.models import Customer, Interaction
from customers.tests.factories import api_client_for, make_customer, manager_of, rep
from tests.browser import browser_test, sign_in

pytestmark = pytest.mark.django_db

URL = "customers:calendar"
API = "customer-calendar"


def follow_up(owner, customer, day):
    """A follow-up due on ``day`` (a past day is written after the service, which only
    takes today or later)."""
    today = timezone.localdate()
    interaction = services.interaction_log(
        actor=owner, customer=customer, kind="call", summary="回访", next_follow_up=max(day, today)
    )
    if day < today:
        Interaction.objects.filter(pk=interaction.pk).update(next_follow_up=day)
    return interaction


def planned_visit(owner, customer, day):
    return services.visit_plan_add(actor=owner, customer=customer, next_visit_on=day)


@pytest.fixture
def world():
    north, south = TeamFactory(name="North"), TeamFactory(name="South")
    owner = rep(team=north, first_name="Jun", last_name="Li")
    colleague = rep(team=north, first_name="Mei", last_name="Wang")
    stranger = rep(team=south, first_name="Tao", last_name="Zhao")
    return {
        "north": north,
        "south": south,
        "owner": owner,
        "colleague": colleague,
        "stranger": stranger,
        "manager": manager_of(north),
        "south_manager": manager_of(south),
        "gm": UserFactory(role=roles.GENERAL_MANAGER),
    }


def _page(client, user, **params):
    client.force_login(user)
    response = client.get(reverse(URL), params)
    assert response.status_code == 200
    return response.content.decode()


# --- the date grid ------------------------------------------------------------------------


def test_month_grid_covers_whole_weeks_from_monday():
    start, end = cal.view_range("month", datetime.date(2026, 2, 11))
    assert start == datetime.date(2026, 1, 26) and start.weekday() == 0
    assert end == datetime.date(2026, 3, 1) and end.weekday() == 6
    days = cal.build_days("month", datetime.date(2026, 2, 11), datetime.date(2026, 2, 11), {})
    assert len(cal.weeks(days)) == 5 and all(len(week) == 7 for week in cal.weeks(days))
    assert not days[0].in_month and days[6].in_month


def test_week_and_neighbours():
    wednesday = datetime.date(2026, 12, 30)
    assert cal.view_range("week", wednesday) == (
        datetime.date(2026, 12, 28),
        datetime.date(2027, 1, 3),
    )
    assert cal.neighbours("week", wednesday) == (
        datetime.date(2026, 12, 21),
        datetime.date(2027, 1, 4),
    )
    assert cal.neighbours("month", datetime.date(2026, 12, 31)) == (
        datetime.date(2026, 11, 1),
        datetime.date(2027, 1, 1),
    )
    assert cal.neighbours("day", wednesday)[1] == datetime.date(2026, 12, 31)


def test_a_wrong_date_is_today():
    today = datetime.date(2026, 5, 4)
    assert cal.parse_day("2026-02-30", today) == today
    assert cal.parse_day("x", today) == today
    assert cal.parse_day(None, today) == today
    assert cal.parse_day("2026-02-03", today) == datetime.date(2026, 2, 3)
    assert cal.parse_day("9999-12-31", today) == today  # paging from it would overflow


# --- the page -------------------------------------------------------------------------------


@pytest.mark.parametrize("entries", [1, 20])
def test_month_shows_entries_capped_per_day_in_fixed_queries(
    client, world, assert_queries, entries
):
    owner, today = world["owner"], timezone.localdate()
    customers = [make_customer(owner) for _ in range(entries)]
    for customer in customers:
        follow_up(owner, customer, today)
    client.force_login(owner)
    # 9: session, user, 2 permissions, follow-ups, visits, the overdue strip (the month
    # holds today: its follow-ups and its unrecorded visits, one query each with its count,
    # even when empty), the user's groups (menu).
    with assert_queries(default=9, keys=1):
        response = client.get(reverse(URL))
    html = response.content.decode()
    shown = min(entries, 3)
    assert html.count('data-testid="cal-follow_up-') == shown
    first = sorted(c.code for c in customers)[0]
    assert f'data-testid="cal-follow_up-{first}"' in html
    if entries > shown:
        assert f"+{entries - shown} more" in html
        week = reverse(URL) + f"?view=week&amp;date={today.isoformat()}"
        assert week in html
    else:
        assert 'data-testid="cal-more"' not in html


@pytest.mark.parametrize("entries", [1, 20])
def test_week_view_for_the_general_manager_in_fixed_queries(client, world, assert_queries, entries):
    owner, today = world["owner"], timezone.localdate()
    for _ in range(entries):
        customer = make_customer(owner)
        follow_up(owner, customer, today)
        planned_visit(owner, customer, today)
    client.force_login(world["gm"])
    # Two more than before: the overdue strip's follow-ups and visits (the week holds today).
    with assert_queries(default=11, keys=1):
        response = client.get(reverse(URL), {"view": "week"})
    html = response.content.decode()
    assert html.count('data-testid="cal-follow_up-') == min(entries, 10)
    # The combined cap: follow-ups first, then visits, ten a day in the week view.
    assert html.count('data-testid="cal-visit-') == min(2 * entries, 10) - min(entries, 10)
    if entries > 5:
        assert f"+{2 * entries - 10} more" in html
    assert "Jun Li" in html  # the owner, shown to those who oversee others


def test_entries_show_the_name_as_the_list_does(client, world):
    owner, today = world["owner"], timezone.localdate()
    person = make_customer(owner, name="张三丰")
    company = make_customer(owner, kind=Customer.Kind.ORGANISATION, name="华为技术有限公司")
    follow_up(owner, person, today)
    planned_visit(owner, company, today)
    html = _page(client, owner, view="day")
    assert "张三丰" not in html and "张*丰" in html
    assert "华为技术有限公司" in html
    assert reverse("customers:detail", args=[person.pk]) + "?tab=interactions" in html
    assert reverse("customers:detail", args=[company.pk]) in html
    assert "Planned visit" in html and "Follow-up" in html
    # A rep's own calendar does not name the owner on every entry.
    assert "Jun Li" not in html.split('data-testid="cal-day-')[1]


def test_overdue_follow_ups_are_flagged(client, world):
    owner, today = world["owner"], timezone.localdate()
    yesterday = today - datetime.timedelta(days=1)
    late, due = make_customer(owner), make_customer(owner)
    follow_up(owner, late, yesterday)
    follow_up(owner, due, today)
    done = follow_up(owner, make_customer(owner), yesterday)
    Interaction.objects.filter(pk=done.pk).update(follow_up_done=True)
    html = _page(client, owner, view="week", date=yesterday.isoformat())
    assert html.count('data-testid="cal-overdue"') == 1
    late_entry = html.split(f'data-testid="cal-follow_up-{late.code}"')[1].split("</li>")[0]
    assert "Overdue" in late_entry
    assert f"cal-follow_up-{done.customer.code}" not in html


def test_scope_a_rep_sees_only_his_own(client, world):
    today = timezone.localdate()
    mine = make_customer(world["owner"])
    theirs = make_customer(world["colleague"])
    far = make_customer(world["stranger"])
    follow_up(world["owner"], mine, today)
    follow_up(world["colleague"], theirs, today)
    planned_visit(world["stranger"], far, today)
    html = _page(client, world["owner"], view="week")
    assert mine.code in html and theirs.code not in html and far.code not in html
    # A manager sees his team, filters by rep, never another team.
    html = _page(client, world["manager"], view="week")
    assert mine.code in html and theirs.code in html and far.code not in html
    assert 'id="cal-owner"' in html and 'id="cal-team"' not in html
    html = _page(client, world["manager"], view="week", owner=world["colleague"].pk)
    assert mine.code not in html and theirs.code in html
    # Another team's rep is not a choice: the filter is ignored, the scope still holds.
    html = _page(client, world["manager"], view="week", owner=world["stranger"].pk)
    assert far.code not in html and mine.code in html
    # The general manager sees everything, by team or rep.
    html = _page(client, world["gm"], view="week")
    assert all(c.code in html for c in (mine, theirs, far))
    html = _page(client, world["gm"], view="week", team=world["south"].pk)
    assert far.code in html and mine.code not in html
    html = _page(client, world["gm"], view="week", owner=world["owner"].pk)
    assert mine.code in html and theirs.code not in html and far.code not in html


def test_service_staff_see_only_what_is_shared(client, world):
    today = timezone.localdate()
    shared, other = make_customer(world["owner"]), make_customer(world["owner"])
    follow_up(world["owner"], shared, today)
    follow_up(world["owner"], other, today)
    service = UserFactory(role=roles.SERVICE_STAFF)
    services.customer_access_grant(
        actor=world["manager"],
        customer=shared,
        user=service,
        reason="complaint",
        expires_at=timezone.now() + datetime.timedelta(days=1),
    )
    html = _page(client, service, view="week")
    assert shared.code in html and other.code not in html


@pytest.mark.parametrize("role", [roles.DPO, roles.AUDITOR])
def test_dpo_and_auditor_read_every_calendar_like_the_list(client, world, role):
    today = timezone.localdate()
    customer = make_customer(world["stranger"])
    follow_up(world["stranger"], customer, today)
    html = _page(client, UserFactory(role=role), view="week")
    assert customer.code in html and 'id="cal-owner"' not in html


def test_permissions(client):
    assert client.get(reverse(URL)).status_code == 302
    client.force_login(UserFactory(role=roles.ADMIN))
    assert client.get(reverse(URL)).status_code == 403
    assert client.post(reverse(URL)).status_code in (403, 405)


def test_navigation_and_wrong_parameters(client, world):
    html = _page(client, world["owner"], view="week", date="2026-12-30")
    assert "date=2026-12-21" in html and "date=2027-01-04" in html
    assert f"date={timezone.localdate().isoformat()}" in html
    html = _page(client, world["owner"], view="nonsense", date="not-a-date", owner="x")
    assert 'data-testid="cal-month"' in html
    html = _page(client, world["owner"], date="9999-12-31", owner="99999999999", team="1")
    assert 'data-testid="cal-month"' in html


def test_dates_in_the_users_language(client, world):
    html = _page(client, world["owner"], view="week", date="2026-11-04")
    assert "Monday, November 2" in html and "Nov. 2, 2026" in html
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    html = _page(client, world["owner"], date="2026-11-04")
    assert "2026年11月" in html and "星期一" in html
    html = _page(client, world["owner"], view="week", date="2026-11-04")
    assert "2026年11月2日" in html and "11月2日" in html
    translation.activate("en")


WEEKDAY_AND_DATE = "%(weekday)s, %(date)s"  # the day's heading (a translatable order)


def test_weekday_and_date_read_in_the_chinese_order(client, world, monkeypatch):
    from django.utils.translation import trans_real

    catalog = trans_real.translation("zh-hans")._catalog
    if WEEKDAY_AND_DATE not in catalog:  # not yet in the compiled catalog: as it will be
        monkeypatch.setitem(catalog._catalogs[0], WEEKDAY_AND_DATE, "%(date)s %(weekday)s")
    assert catalog[WEEKDAY_AND_DATE] == "%(date)s %(weekday)s"
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    for view in ("week", "month"):
        html = _page(client, world["owner"], view=view, date="2026-11-30")
        assert "11月30日 星期一" in html and "星期一, " not in html
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = _page(client, world["owner"], view="week", date="2026-11-30")
    assert "Monday, November 30" in html
    translation.activate("en")


def test_phone_layout_has_its_list_of_days(client, world):
    html = _page(client, world["owner"])
    assert "customers/calendar.css" in html and "cal-dayfull" in html


# --- the API --------------------------------------------------------------------------------


def test_api_lists_the_entries_of_a_range(world, assert_queries):
    owner, today = world["owner"], timezone.localdate()
    mine, theirs = make_customer(owner), make_customer(world["stranger"])
    follow_up(owner, mine, today)
    planned_visit(owner, mine, today + datetime.timedelta(days=2))
    follow_up(world["stranger"], theirs, today)
    api = api_client_for(owner)
    end = today + datetime.timedelta(days=6)
    with assert_queries(keys=0):  # ids and codes only: no card's key is unwrapped
        response = api.get(reverse(API), {"start": today.isoformat(), "end": end.isoformat()})
    assert response.status_code == 200
    entries = response.json()["entries"]
    assert {(e["customer"], e["code"], e["kind"], e["owner"]) for e in entries} == {
        (mine.pk, mine.code, "follow_up", owner.pk),
        (mine.pk, mine.code, "visit", owner.pk),
    }
    assert all("name" not in entry for entry in entries)


def test_api_refuses_a_range_over_62_days(world):
    api = api_client_for(world["owner"])
    today = timezone.localdate()
    too_far = today + datetime.timedelta(days=62)
    assert api.get(reverse(API), {"start": today, "end": too_far}).status_code == 400
    fine = today + datetime.timedelta(days=61)
    assert api.get(reverse(API), {"start": today, "end": fine}).status_code == 200
    assert api.get(reverse(API), {"start": fine, "end": today}).status_code == 400
    assert api.get(reverse(API), {"start": "x"}).status_code == 400
    assert api.get(reverse(API), {"start": "9999-12-31"}).status_code == 400
    assert api.get(reverse(API)).status_code == 200  # the current week


def test_api_permissions(world):
    from rest_framework.test import APIClient

    assert APIClient().get(reverse(API)).status_code in (401, 403)
    assert api_client_for(UserFactory(role=roles.ADMIN)).get(reverse(API)).status_code == 403
    assert api_client_for(world["gm"]).get(reverse(API)).status_code == 200


def test_linked_from_the_board_the_dashboard_and_the_menu(client, world):
    client.force_login(world["owner"])
    calendar = reverse(URL)
    assert calendar in client.get(reverse("customers:board")).content.decode()
    home = client.get(reverse("home")).content.decode()
    assert f"{calendar}?view=week" in home  # the follow-up panel
    assert f'href="{calendar}"' in home  # the menu


# --- in a browser: the month on a 390 px phone ---------------------------------------------


@pytest.fixture
def phone_page(browser_page):
    """The browser at 390 × 844 (a phone)."""
    browser_page.set_viewport_size({"width": 390, "height": 844})
    return browser_page


@pytest.fixture
def busy_rep():
    from crm.tests.factories import PASSWORD

    owner = rep(team=TeamFactory(name="North"), username="calendar-rep")
    today = timezone.localdate()
    for n in range(5):
        customer = make_customer(owner, name=f"客户名称很长的一家单位{n}")
        follow_up(owner, customer, today)
        planned_visit(owner, customer, today)
    return owner, PASSWORD


@browser_test
def test_the_month_is_a_list_of_days_on_a_phone(busy_rep, live_url, phone_page):
    (owner, password), page = busy_rep, phone_page
    sign_in(page, live_url, owner.username, password)
    page.goto(f"{live_url}/customers/calendar/")
    page.wait_for_selector("[data-testid=cal-month]")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    today = timezone.localdate().isoformat()
    assert page.is_visible(f"[data-testid=cal-day-{today}]")
    assert page.is_visible(f"[data-testid=cal-day-{today}] [data-testid=cal-more]")
    assert not page.is_visible("[data-testid=cal-month] thead")  # a list, not a grid
    page.set_viewport_size({"width": 1280, "height": 900})
    assert page.is_visible("[data-testid=cal-month] thead")
    page.goto(f"{live_url}/customers/calendar/?view=week")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
