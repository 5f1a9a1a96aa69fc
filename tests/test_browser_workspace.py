"""Issue 13 in a real browser (system Chromium): each role's dashboard shows figures from
the demo data, the list fits a 390 px phone, a refused reveal shows its error, the board…

Screenshots of each dashboard, the list (desktop and phone) and the card, in English and
Chinese, are saved under $CRM_SCREENSHOTS_DIR (docs/screenshots for the README). Runs on
PostgreSQL with Chromium installed,
like tests/test_browser.py.
"""

import os
import tempfile
from pathlib import Path

import pytest
from django.conf import settings

from tests.browser import BROWSER, sign_in

# The README's screenshots are refreshed with
# ``CRM_SCREENSHOTS_DIR=docs/screenshots make test``; otherwise they go to a scratch folder,
# so a test run never rewrites files of the repository.
SHOTS = Path(
    os.environ.get("CRM_SCREENSHOTS_DIR") or Path(tempfile.gettempdir()) / "crm-screenshots"
)
if not SHOTS.is_absolute():
    SHOTS = Path(settings.BASE_DIR) / SHOTS

pytestmark = BROWSER


@pytest.fixture
def demo():
    """The demo data set, made before the browser starts."""
    from django.core.management import call_command

    call_command("seed_demo", verbosity=0)
    from customers.models import Customer

    return Customer.objects.filter(owner__username="rep1").order_by("code").first()


def _sign_in(page, base_url, username, language="en"):
    sign_in(page, base_url, username, settings.DEMO_PASSWORD, language=language)


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _number(text: str) -> int:
    return int(text.strip() or 0)


def test_dashboards_list_card_in_a_browser(live_url, demo, browser_page):
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})
    for language in ("en", "zh-hans"):
        # A rep: his day, with his customers by stage counted from the demo data.
        _sign_in(page, live_url, "rep1", language)
        stage_counts = page.locator("[data-testid=by-stage] tbody td.text-end").all_inner_texts()
        assert sum(_number(n) for n in stage_counts) > 0
        _shot(page, f"dashboard-rep-{language}")
        # A manager: each rep of his team.
        _sign_in(page, live_url, "manager1", language)
        team = page.locator("[data-testid=team-table] tfoot td.text-end").first.inner_text()
        assert _number(team) > 0
        _shot(page, f"dashboard-manager-{language}")
        # The general manager: company charts drawn, with their numbers in tables.
        _sign_in(page, live_url, "gm", language)
        page.wait_for_selector("canvas[data-chart=chart-status][data-drawn='1']", state="attached")
        figures = page.locator("[data-testid=chart-table-status] td.text-end").all_inner_texts()
        assert sum(_number(n) for n in figures) > 0
        # A dozen menu entries wrap inside the window instead of widening the page.
        assert (
            page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            <= 0
        )
        _shot(page, f"dashboard-gm-{language}")
        # Service staff: the cards shared with them.
        _sign_in(page, live_url, "service1", language)
        assert page.locator("[data-testid=shared]").count() == 1
        _shot(page, f"dashboard-service-{language}")
        # The DPO: reveals, exports and denials per day.
        _sign_in(page, live_url, "dpo", language)
        assert page.locator("[data-testid=privacy-figures] tbody tr").count() == 14
        _shot(page, f"dashboard-dpo-{language}")

        # The list on a desktop, then on a 390 px phone with no horizontal overflow.
        _sign_in(page, live_url, "rep1", language)
        page.goto(f"{live_url}/customers/")
        _shot(page, f"list-desktop-{language}")
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{live_url}/customers/")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        _shot(page, f"list-phone-{language}")
        page.set_viewport_size({"width": 1280, "height": 900})

        # The card: a refused reveal shows its error under the field.
        page.goto(f"{live_url}/customers/{demo.pk}/")
        page.check("#reveal-area input[type=checkbox][value=phone]")
        page.select_option("#reveal-area select[name=purpose]", "other")
        page.click("#reveal-area form[novalidate] button[type=submit]")
        page.wait_for_selector("#reveal-area [data-testid=reveal-error]")
        _shot(page, f"card-{language}")

        # The board: a card moves to another column (htmx), recorded as a stage move.
        page.goto(f"{live_url}/customers/board/")
        card = page.locator(f"[data-testid=board-card-{demo.code}]")
        column = card.locator("xpath=ancestor::section[@data-board-column]")
        before = column.get_attribute("data-board-column")
        options = card.locator("select[name=to_stage] option").evaluate_all(
            "options => options.map(o => o.value)"
        )
        target = next(value for value in options if value != before)
        card.locator("select[name=to_stage]").select_option(target)
        page.wait_for_selector(
            f"section[data-board-column='{target}'] [data-testid=board-card-{demo.code}]"
        )
        _shot(page, f"board-{language}")
