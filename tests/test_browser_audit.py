"""The audit console on a 390 px phone, in Chinese, in a real browser (system Chromium): each
event is a readable block (the action on whole lines, never one character a line, the time
on one line) and the page is never wider than the phone. Runs on PostgreSQL with Chromium
installed, like tests/test_browser.py.
"""

import pytest
from django.conf import settings

from audit.services import record_event
from crm.tests.factories import PASSWORD
from customers.tests.factories import company_people, make_customer
from tests.browser import BROWSER, sign_in

pytestmark = BROWSER

# Per cell of a column: its width, its text's line count and its text's length.
CELLS = """column => Array.from(
    document.querySelectorAll(`#event-rows td[data-col=${column}]`), cell => {
        const range = document.createRange();
        range.selectNodeContents(cell);
        const tops = new Set(Array.from(range.getClientRects(), rect => Math.round(rect.top)));
        return {width: cell.getBoundingClientRect().width, lines: tops.size,
                length: cell.textContent.trim().length};
    })"""
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def dpo():
    """The DPO and a trail of events with long and short action names, made before the
    browser starts (its event loop must not reach the database from the test's side)."""
    people = company_people()
    customer = make_customer(people["owner"])
    for action in (
        "auth.password_changed",
        "customers.viewed",
        "customers.revealed",
        "auth.locked_out",
    ):
        record_event(action=action, actor=people["owner"], obj=customer, reason="回访")
    return people["dpo"]


def test_the_audit_console_is_readable_on_a_phone_in_chinese(live_url, dpo, browser_page):
    page = browser_page
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "zh-hans", "url": live_url}]
    )
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_url, dpo.username, PASSWORD)

    page.goto(f"{live_url}/audit/events/")
    assert page.locator("#event-rows [data-event-row]").count() >= 4
    actions = page.evaluate(CELLS, "action")
    assert len(actions) >= 4
    for cell in actions:
        # Never one character a line: whole lines of the block, at least four characters each.
        assert cell["lines"] == 1 or cell["lines"] * 4 <= cell["length"], cell
        assert cell["width"] > 200, cell
    for cell in page.evaluate(CELLS, "time"):
        assert cell["lines"] == 1, cell
    assert page.evaluate(OVERFLOW) <= 0

    # A desktop keeps the table, the action still on one line.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_url}/audit/events/")
    assert all(cell["lines"] == 1 for cell in page.evaluate(CELLS, "action"))
    assert page.evaluate(OVERFLOW) <= 0
