"""The customer list (issue 13 item 2): search hint, filters behind one button with chips,
sortable headers, page size, remembered filters, a phone layout."""

import pytest
from django.urls import reverse

from crm.tests.factories import TeamFactory
from customers.models import Customer
from customers.tests.factories import make_customer, rep

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return rep(team=TeamFactory(name="North"))


def test_the_search_hint_and_collapsed_filters_are_shown(client, owner):
    client.force_login(owner)
    html = client.get(reverse("customers:list")).content.decode()
    assert 'placeholder="name, phone, ID number, e-mail, code"' in html
    assert 'id="search-hint"' in html and 'data-bs-target="#more-filters"' in html
    assert '<div class="collapse" id="more-filters">' in html
    assert "customer-table" in html and "<script>" not in html


def test_active_filters_show_as_chips_and_a_chip_removes_its_filter(client, owner):
    make_customer(owner)
    client.force_login(owner)
    response = client.post(
        reverse("customers:list"), {"status": "prospect"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert 'data-testid="filter-chips"' in html and 'name="clear" value="status"' in html
    assert "Prospect" in html
    response = client.post(
        reverse("customers:list"), {"status": "prospect", "clear": "status"}, HTTP_HX_REQUEST="true"
    )
    assert 'data-testid="filter-chips"' not in response.content.decode()


def test_headers_sort_and_page_size_bounds_the_rows(client, owner):
    customers = [make_customer(owner) for _ in range(12)]
    client.force_login(owner)
    html = client.post(
        reverse("customers:list"), {"ordering": "-code", "page_size": "10"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    codes = [c.code for c in sorted(customers, key=lambda c: c.code, reverse=True)]
    assert html.index(codes[0]) < html.index(codes[1])
    assert codes[-1] not in html  # 10 per page: the 12th is on page 2
    assert 'aria-sort="descending"' in html
    odd = client.post(reverse("customers:list"), {"page_size": "7"}, HTTP_HX_REQUEST="true")
    assert all(c.code in odd.content.decode() for c in customers)  # unknown size: 25


def test_last_filters_are_remembered_but_never_the_search_term(client, owner):
    make_customer(owner)
    client.force_login(owner)
    client.post(reverse("customers:list"), {"status": "active", "q": "13812345678"})
    assert client.session["customers.list.filters"] == {"status": "active"}
    html = client.get(reverse("customers:list")).content.decode()
    assert 'name="clear" value="status"' in html and "13812345678" not in html
    assert Customer.objects.count() == 1
