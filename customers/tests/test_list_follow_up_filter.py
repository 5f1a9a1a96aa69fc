"""The customer list's "Follow-up: Overdue" filter (``follow_up=overdue``): the cards with a
follow-up not done that was due before today; the calendar's overdue strip links to it."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.filters import CustomerFilter
from customers.models import Customer, Interaction
from customers.tests import test_workspace_calendar as calendar_tests
from customers.tests.factories import api_client_for, make_customer
from customers.tests.test_views import LIST_QUERIES
from customers.tests.test_workspace_calendar import follow_up, planned_visit
from customers.views import calendar as calendar_views

pytestmark = pytest.mark.django_db

world = calendar_tests.world  # the calendar's teams and people (a fixture)

DAY = datetime.timedelta(days=1)
LIST = "customers:list"


def _codes(html: str, customers) -> set[str]:
    return {customer.code for customer in customers if customer.code in html}


def _done(interaction):
    Interaction.objects.filter(pk=interaction.pk).update(follow_up_done=True)


@pytest.fixture
def cards(world):
    """The owner's cards, each with a different follow-up state."""
    owner, today = world["owner"], timezone.localdate()
    cards = {name: make_customer(owner) for name in ("late", "twice", "done", "today", "soon")}
    cards["none"] = make_customer(owner)
    follow_up(owner, cards["late"], today - 3 * DAY)
    follow_up(owner, cards["twice"], today - 40 * DAY)
    follow_up(owner, cards["twice"], today - DAY)  # two overdue: the card once
    _done(follow_up(owner, cards["done"], today - 5 * DAY))
    follow_up(owner, cards["today"], today)  # due today: not yet overdue
    follow_up(owner, cards["soon"], today + 2 * DAY)
    planned_visit(owner, cards["none"], today - 2 * DAY)  # a missed visit is no follow-up
    return cards


def test_lists_exactly_the_cards_with_a_follow_up_overdue(client, world, cards):
    client.force_login(world["owner"])
    html = client.get(reverse(LIST), {"follow_up": "overdue"}).content.decode()
    assert _codes(html, cards.values()) == {cards["late"].code, cards["twice"].code}
    assert "2 customers" in html
    # Without the filter, every card.
    html = client.get(reverse(LIST), {"clear": "all"}).content.decode()
    assert _codes(html, cards.values()) == {card.code for card in cards.values()}
    # A card done with its late follow-up leaves the filtered list.
    Interaction.objects.filter(customer=cards["late"]).update(follow_up_done=True)
    html = client.get(reverse(LIST), {"follow_up": "overdue"}).content.decode()
    assert _codes(html, cards.values()) == {cards["twice"].code} and "1 customer" in html


def test_the_filter_keeps_the_lists_visibility(client, world, cards):
    today = timezone.localdate()
    theirs, far = make_customer(world["colleague"]), make_customer(world["stranger"])
    follow_up(world["colleague"], theirs, today - DAY)
    follow_up(world["stranger"], far, today - DAY)
    everyone = [*cards.values(), theirs, far]
    expected = {
        "owner": {cards["late"].code, cards["twice"].code},
        "manager": {cards["late"].code, cards["twice"].code, theirs.code},
        "south_manager": {far.code},
        "gm": {cards["late"].code, cards["twice"].code, theirs.code, far.code},
    }
    for role, codes in expected.items():
        client.force_login(world[role])
        html = client.get(reverse(LIST), {"follow_up": "overdue"}).content.decode()
        assert _codes(html, everyone) == codes, role
    # A merged card is not listed (the list never lists one).
    Customer.objects.filter(pk=cards["late"].pk).update(status=Customer.Status.MERGED)
    client.force_login(world["owner"])
    html = client.get(reverse(LIST), {"follow_up": "overdue"}).content.decode()
    assert _codes(html, everyone) == {cards["twice"].code}


def test_the_filter_shows_its_chip_and_its_field(client, world, cards):
    client.force_login(world["owner"])
    html = client.get(reverse(LIST), {"follow_up": "overdue"}).content.decode()
    chips = html.split('data-testid="filter-chips"', 1)[1].split("</div>", 1)[0]
    assert 'value="follow_up"' in chips  # the chip removes this filter
    assert "Follow-up: </span>Overdue" in chips
    assert 'name="follow_up"' in html and '<option value="overdue" selected>' in html
    # An unknown value is refused as any of the list's choices: no card listed.
    html = client.get(reverse(LIST), {"follow_up": "someday"}).content.decode()
    assert _codes(html, cards.values()) == set()
    # Its chip removes it: the whole list again.
    html = client.get(reverse(LIST), {"follow_up": "overdue", "clear": "follow_up"})
    assert _codes(html.content.decode(), cards.values()) == {c.code for c in cards.values()}


def test_the_filter_is_known_everywhere_the_list_filters_are():
    assert CustomerFilter.base_filters["follow_up"].extra["choices"] == [
        ("overdue", CustomerFilter.base_filters["follow_up"].extra["choices"][0][1])
    ]
    from customers.selectors import audience_filter_names
    from customers.services.saved_views import saved_filter_names

    assert "follow_up" in saved_filter_names() and "follow_up" in audience_filter_names()


@pytest.mark.parametrize("rows", [3, 23])
def test_the_filtered_list_costs_the_same_queries(client, world, assert_queries, rows):
    owner, today = world["owner"], timezone.localdate()
    for n in range(rows):
        customer = make_customer(owner)
        follow_up(owner, customer, today - (n + 1) * DAY)
        follow_up(owner, customer, today - (n + 2) * DAY)
    make_customer(owner)  # none: not listed
    client.force_login(world["manager"])
    client.get(reverse(LIST), {"follow_up": "overdue"})  # kept as his last used filters
    # The list's own count (LIST_QUERIES, customers/tests/test_views.py) less the read of
    # the last used filters (cached in the session now): the filter is an EXISTS in the
    # count and page queries, no query of its own.
    with assert_queries(default=LIST_QUERIES["default"] - 1, keys=LIST_QUERIES["keys"]):
        response = client.get(reverse(LIST), {"follow_up": "overdue"})
    assert f"{rows} customers" in response.content.decode()


def test_the_api_list_takes_the_filter(world, cards):
    api = api_client_for(world["owner"])
    body = api.get("/api/v1/customers/", {"follow_up": "overdue"}).json()
    assert body["count"] == 2
    assert {row["code"] for row in body["results"]} == {cards["late"].code, cards["twice"].code}


# --- the calendar's strip links to it ------------------------------------------------------


def _strip_more(html: str) -> str:
    strip = html.split('data-testid="cal-overdue-strip"', 1)[1].split("</section>", 1)[0]
    return strip.split('data-testid="cal-more"', 1)[0].rsplit('href="', 1)[1].split('"', 1)[0]


def test_the_strips_more_leads_to_the_filtered_list(client, world, cards, monkeypatch):
    monkeypatch.setattr(calendar_views, "OVERDUE_SHOWN", 1)
    today = timezone.localdate()
    theirs = make_customer(world["colleague"])
    follow_up(world["colleague"], theirs, today - 50 * DAY)
    follow_up(world["colleague"], make_customer(world["colleague"]), today - 60 * DAY)
    client.force_login(world["manager"])

    html = client.get(reverse("customers:calendar")).content.decode()
    assert _strip_more(html) == reverse(LIST) + "?follow_up=overdue"
    html = client.get(reverse("customers:calendar"), {"owner": world["colleague"].pk})
    link = _strip_more(html.content.decode())
    assert link == reverse(LIST) + f"?follow_up=overdue&amp;owner={world['colleague'].pk}"
    # Followed, the link lists the colleague's cards with an overdue follow-up: 2, not 0.
    listed = client.get(link.replace("&amp;", "&")).content.decode()
    assert "2 customers" in listed and theirs.code in listed
    assert cards["late"].code not in listed

    client.force_login(world["gm"])
    html = client.get(reverse("customers:calendar"), {"team": world["north"].pk})
    link = _strip_more(html.content.decode())
    assert link == reverse(LIST) + f"?follow_up=overdue&amp;team={world['north'].pk}"
    listed = client.get(link.replace("&amp;", "&")).content.decode()
    assert "4 customers" in listed  # the owner's two, the colleague's two
