"""End to end in a real browser: sign in, search, open a card, switch tabs and reveal.

Runs where Chromium is installed (CI installs it) and on PostgreSQL: the live server
needs a transactional test database, whose clean-up SQLite's append-only audit triggers
refuse.
"""

import pytest

from crm.tests.factories import PASSWORD, TeamFactory
from customers.tests.factories import make_customer, rep
from tests.browser import BROWSER, sign_in

pytestmark = BROWSER


@pytest.fixture
def customer():
    """The data, made before the browser starts: Playwright's event loop must not reach
    the database from the test's side (it would open a connection of its own)."""
    owner = rep(team=TeamFactory(name="North"), username="alice")
    make_customer(owner, name="李雷")
    return make_customer(owner, name="张明华", phone="13812345678")


def test_rep_finds_a_customer_switches_tabs_and_reveals(live_url, customer, browser_page):
    page = browser_page

    sign_in(page, live_url, "alice", PASSWORD)

    page.goto(f"{live_url}/customers/")
    # The live search posts its term (htmx POST): a phone never reaches the address bar.
    searches = []
    page.on("request", lambda request: searches.append((request.method, request.url)))
    page.fill("#id_q", "13812345678")
    # Selectors, not script predicates: the CSP forbids evaluating strings as JavaScript.
    page.wait_for_selector("#customer-rows tbody tr:first-child:last-child")
    assert "13812345678" not in page.url
    assert ("POST", f"{live_url}/customers/") in searches
    assert not [url for _method, url in searches if "13812345678" in url]
    page.fill("#id_q", "明华")
    # The rows carry the posted filters for the export buttons: wait for this search's rows.
    page.wait_for_selector("#customer-export input[name=q][value='明华']", state="attached")
    assert "张*华" in page.inner_text("#customer-rows")
    assert page.url == f"{live_url}/customers/"

    page.click(f"text={customer.code}")
    page.click("a.nav-link:has-text('Interactions')")  # htmx swaps the tab in place
    page.wait_for_selector("#tab-content form[action$='/interactions/new/']")
    assert page.url.endswith("?tab=interactions")
    page.click("a.nav-link:has-text('Profile')")
    page.wait_for_selector("#reveal-area")

    page.check("#reveal-area input[type=checkbox][value=phone]")
    page.select_option("#reveal-area select[name=purpose]", "other")
    page.fill("#reveal-area input[name=reason]", "calling back about the order")
    page.click("#reveal-area button:has-text('Reveal')")
    page.wait_for_selector("#reveal-area .alert-warning")
    assert "13812345678" in page.inner_text("#reveal-area")
