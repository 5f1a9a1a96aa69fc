"""Items 5-8: JSON errors, SQLite waits, safe next, no demo data in production, CSP."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import OperationalError
from django.test import Client, override_settings
from rest_framework.test import APIClient

from crm import roles
from crm.api.exceptions import exception_handler
from crm.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def api_for(role):
    api = APIClient()
    api.force_authenticate(UserFactory(role=role))
    return api


def test_deeply_nested_json_is_a_400_with_a_json_body():
    """Found: deeply nested JSON gave a 500."""
    body = "[" * 100_000 + "]" * 100_000
    response = api_for(roles.ADMIN).generic(
        "POST", "/api/v1/teams/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert "detail" in response.json()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_body_over_the_limit_gets_a_json_answer():
    """Found: a body over the limit gave an HTML 400."""
    response = api_for(roles.ADMIN).generic(
        "POST",
        "/api/v1/teams/",
        '{"name": "' + "x" * 5000 + '"}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    assert response.status_code in (400, 413)
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()


def test_an_unknown_api_path_is_json():
    response = APIClient().get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_locked_sqlite_database_is_a_409_not_a_500():
    """Found: two simultaneous PATCHes on SQLite gave "database is locked" 500."""
    response = exception_handler(OperationalError("database is locked"), {})
    assert response.status_code == 409 and response.data["code"] == "conflict"
    for alias in settings.DATABASES.values():
        if alias["ENGINE"].endswith("sqlite3"):
            assert alias["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
            assert alias["OPTIONS"]["timeout"] >= 5


def test_reverify_does_not_redirect_to_another_site():
    """Found: the re-verify POST redirected to any ``next``."""
    from customers.tests.factories import make_customer

    rep = UserFactory(role=roles.SALES_REP)
    customer = make_customer(owner=rep)
    client = Client()
    client.force_login(rep)
    for target in ("https://evil.example/", "//evil.example/x"):
        response = client.post(f"/customers/{customer.pk}/reverify/", {"next": target})
        assert response.status_code == 302
        assert response["Location"] == f"/customers/{customer.pk}/"
    response = client.post(f"/customers/{customer.pk}/reverify/", {"next": "/customers/"})
    assert response["Location"] == "/customers/"


def test_seed_demo_refuses_under_production():
    """Found: seed_demo ran under DJANGO_ENV=production with the documented password."""
    from crm.tests.test_settings import PRODUCTION

    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(PRODUCTION, CRM_ENV_FILE="")
    result = subprocess.run(
        [sys.executable, "manage.py", "seed_demo"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "refuses to run when DJANGO_ENV=production" in result.stderr


def test_pages_carry_a_strict_content_security_policy():
    client = Client()
    client.force_login(UserFactory(role=roles.SALES_REP))
    policy = client.get("/")["Content-Security-Policy"]
    assert (
        "script-src 'self'" in policy and "unsafe-inline" not in policy.split("style-src-attr")[0]
    )
    assert "frame-ancestors 'none'" in policy


@override_settings(PRODUCTION=True)
def test_schema_and_docs_need_a_signed_in_user_in_production():
    """Found: /api/schema/ and /api/docs/ were public."""
    assert APIClient().get("/api/docs/").status_code in (401, 403)
    assert APIClient().get("/api/schema/").status_code in (401, 403)
    assert api_for(roles.SALES_REP).get("/api/docs/").status_code == 200
