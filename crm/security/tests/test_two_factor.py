"""Item 2: two-factor for privileged roles when required (issue 14)."""

import pytest
from django.test import Client, override_settings
from django_otp.oath import totp
from rest_framework.test import APIClient

from crm import roles
from crm.security import twofactor
from crm.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _code(device):
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


@override_settings(CRM_REQUIRE_2FA=True)
def test_a_privileged_user_enrols_before_any_page_and_gets_a_token_only_with_a_code():
    user = UserFactory(username="gm", role=roles.GENERAL_MANAGER)
    client = Client()
    client.force_login(user)
    response = client.get("/customers/")
    assert response.status_code == 302
    assert response["Location"].startswith("/security/two-factor/setup/")
    page = client.get("/security/two-factor/setup/")
    assert page.status_code == 200 and b"<svg" in page.content and b"<script>" not in page.content
    device = twofactor.pending_device(user)
    response = client.post("/security/two-factor/setup/", {"code": _code(device)})
    assert response.status_code == 200 and b"Recovery codes" in response.content
    assert client.get("/").status_code == 200

    api = APIClient()
    no_code = api.post("/api/v1/auth/token/", {"username": "gm", "password": PASSWORD})
    assert no_code.status_code == 400 and "otp" in no_code.json()


@override_settings(CRM_REQUIRE_2FA=True)
def test_a_sales_rep_needs_no_second_factor():
    client = Client()
    client.force_login(UserFactory(role=roles.SALES_REP))
    assert client.get("/").status_code == 200


def test_two_factor_is_off_in_development_and_tests():
    client = Client()
    client.force_login(UserFactory(role=roles.GENERAL_MANAGER))
    assert client.get("/").status_code == 200
