"""The approvals count in the header (issue 9, item 4): registered in ``crm.navigation``,
loaded by htmx for managers and the general manager, never computed by the page itself."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from credit import services
from credit.tests.factories import people, trading_customer
from crm import navigation

pytestmark = pytest.mark.django_db
D = Decimal
LOADER = 'hx-get="/credit/inbox/badge/" hx-trigger="load"'


@pytest.fixture
def world():
    cast = people()
    return cast, trading_customer(cast, "1000.00")


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("who", "shown"),
    [
        ("north_manager", True),
        ("gm", True),
        ("owner", False),
        ("service", False),
        ("auditor", False),
        ("admin", False),
    ],
)
def test_the_badge_loader_is_in_the_header_of_managers_and_the_general_manager(world, who, shown):
    cast, _customer = world
    page = client_for(cast[who]).get(reverse("home")).content.decode()
    assert (LOADER in page) is shown
    assert ('id="header-badge-credit-approvals"' in page) is shown


def test_the_registry_names_no_app_and_answers_by_permission(world):
    cast, _customer = world
    badge = next(
        b for b in navigation.badges_for(cast["north_manager"]) if b.key == "credit-approvals"
    )
    assert (badge.url, badge.link) == ("/credit/inbox/badge/", "/credit/")
    assert [b.key for b in navigation.badges_for(cast["owner"])] == []


def test_the_badge_shows_the_number_waiting_for_this_manager(world):
    cast, customer = world
    for amount in ("2000.00", "3000.00"):
        services.limit_request(
            actor=cast["owner"], customer=customer, amount=D(amount), justification="x"
        )
    services.order_create(actor=cast["owner"], customer=customer, amount=D("5000"), reference="B")
    badge = client_for(cast["north_manager"]).get(reverse("credit:inbox-badge"))
    assert badge.content.decode() == '<span class="badge text-bg-danger ms-1">3</span>'
    # The south manager answers for none of them.
    assert client_for(cast["south_manager"]).get(reverse("credit:inbox-badge")).content == b""
    # Above the cap only the general manager decides: his count.
    services.limit_request(
        actor=cast["owner"], customer=customer, amount=D("2000000.00"), justification="x"
    )
    gm_badge = client_for(cast["gm"]).get(reverse("credit:inbox-badge")).content.decode()
    assert gm_badge == '<span class="badge text-bg-danger ms-1">4</span>'


def test_pages_pay_no_query_for_the_count(world, assert_queries):
    cast, customer = world
    client = client_for(cast["north_manager"])
    client.get(reverse("credit:reports"))  # warm the session and caches
    with assert_queries() as empty:
        client.get(reverse("credit:reports"))
    for amount in ("2000.00", "3000.00", "4000.00"):
        services.limit_request(
            actor=cast["owner"], customer=customer, amount=D(amount), justification="x"
        )
    with assert_queries(default=empty["default"], keys=empty["keys"]):
        page = client.get(reverse("credit:reports")).content.decode()
    assert LOADER in page and ">3<" not in page
