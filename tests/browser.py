"""What the browser tests share: the system Chromium, the marks every browser test carries,
and signing in through the login form. The ``live_url`` and ``browser_page`` fixtures live in
the root ``conftest.py``.

A browser test runs where Chromium is installed (CI installs it) and on PostgreSQL: the live
server needs a transactional test database, whose clean-up SQLite's append-only audit
triggers refuse. Its data is made before the browser starts (Playwright's loop must not
reach the database).
"""

from __future__ import annotations

import os
import shutil

import pytest
from django.conf import settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")

# ``pytestmark = BROWSER`` (or ``@pytest.mark.usefixtures`` … plus ``*BROWSER`` on one test).
BROWSER = [
    pytest.mark.browser,
    pytest.mark.skipif(not POSTGRES, reason="the live server needs PostgreSQL here"),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Chromium is not installed"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def browser_test(function):
    """The ``BROWSER`` marks on one test of a module whose other tests are not."""
    for mark in reversed(BROWSER):
        function = mark(function)
    return function


def sign_in(page, live_url: str, username: str, password: str, *, language: str = "") -> None:
    """Through the login form, as a person does; ``language`` sets the language cookie."""
    if language:
        page.context.clear_cookies()
        page.context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_url}]
        )
    page.goto(f"{live_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_url}/")
