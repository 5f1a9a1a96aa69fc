"""The merge's "cannot be undone" question in a real browser (system Chromium): it comes
only once the form is filled in. Without a reason the browser asks for the reason and
no question is shown; with one, the question is shown (and, declined, nothing is sent).
Runs on PostgreSQL with Chromium installed, like tests/test_browser.py.
"""

import pytest

from crm.tests.factories import PASSWORD, TeamFactory
from customers.tests.factories import make_customer, manager_of, rep
from tests.browser import BROWSER, sign_in

pytestmark = BROWSER


@pytest.fixture
def cards():
    """Made before the browser starts (Playwright's loop must not reach the database)."""
    north = TeamFactory(name="North")
    owner = rep(team=north)
    manager_of(north, username="mia")
    survivor = make_customer(owner, name="张明华", phone="13812345678")
    duplicate = make_customer(owner, name="张明华", phone="13887654321")
    return survivor.code, duplicate.code


def test_the_merge_asks_only_once_the_reason_is_given(live_url, cards, browser_page):
    page = browser_page
    survivor, duplicate = cards
    sign_in(page, live_url, "mia", PASSWORD)
    page.goto(f"{live_url}/customers/merge/preview/?survivor={survivor}&duplicate={duplicate}")

    dialogs = []

    def decline(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", decline)
    posts = []
    page.on("request", lambda request: request.method == "POST" and posts.append(request.url))
    button = page.locator("[data-testid=merge-confirm] button[type=submit]")

    # No reason: the browser's own message, no question, nothing sent.
    button.click()
    page.wait_for_timeout(300)
    assert dialogs == []
    assert posts == []
    assert page.locator("#id_reason:invalid").count() == 1
    assert page.locator("#id_reason:focus").count() == 1

    # A reason: the question comes; declined, nothing is sent.
    page.fill("#id_reason", "同一客户的两张档案")
    button.click()
    page.wait_for_timeout(300)
    assert len(dialogs) == 1
    assert "This cannot be undone." in dialogs[0]
    assert posts == []
