"""Item 1: lockout on every sign-in path, client address, password policy (issue 14)."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import RequestFactory, override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AuditEvent
from crm import roles
from crm.request_context import client_ip
from crm.security import events
from crm.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_thirty_wrong_passwords_then_the_right_one_does_not_sign_in(client, path):
    """Found: 30 wrong passwords in 10 s, then the right one signed in."""
    user = UserFactory(username="victim", role=roles.ADMIN)
    for _ in range(30):
        client.post(path, {"username": "victim", "password": "wrong-password-1"})
    response = client.post(path, {"username": "victim", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action=events.LOCKED_OUT, object_id=str(user.pk)).exists()


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_a_locked_user_sees_a_clear_message(client, path):
    UserFactory(username="victim", role=roles.ADMIN)
    for _ in range(5):
        client.post(path, {"username": "victim", "password": "wrong-password-1"})
    response = client.post(path, {"username": "victim", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert response["Retry-After"] == "900"
    assert "_auth_user_id" not in client.session


def test_the_account_is_locked_from_any_address(client):
    UserFactory(username="victim")
    for i in range(5):
        client.post("/login/", {"username": "victim", "password": "x"}, REMOTE_ADDR=f"10.1.0.{i}")
    response = client.post(
        "/login/", {"username": "victim", "password": PASSWORD}, REMOTE_ADDR="10.9.9.9"
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_an_address_trying_many_accounts_is_locked(client):
    UserFactory(username="someone")
    for i in range(5):
        client.post("/login/", {"username": f"guess{i}", "password": "x"})
    response = client.post("/login/", {"username": "someone", "password": PASSWORD})
    assert response.status_code == 429


def test_the_token_endpoint_locks_too():
    UserFactory(username="bob")
    api = APIClient()
    statuses = [
        api.post("/api/v1/auth/token/", {"username": "bob", "password": "x"}).status_code
        for _ in range(5)
    ]
    assert statuses == [400, 400, 400, 400, 429]  # the fifth failure locks
    response = api.post("/api/v1/auth/token/", {"username": "bob", "password": PASSWORD})
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    assert "token" not in response.json()


@override_settings(CRM_LOGIN_FAILURE_LIMIT=1000, AXES_FAILURE_LIMIT=1000)
def test_rotating_x_forwarded_for_does_not_escape_the_token_throttle():
    """Found: the token throttle trusted any client-sent X-Forwarded-For."""
    api = APIClient()
    statuses = [
        api.post(
            "/api/v1/auth/token/",
            {"username": f"u{i}", "password": "x"},
            HTTP_X_FORWARDED_FOR=f"203.0.113.{i}",
        ).status_code
        for i in range(40)
    ]
    assert statuses.count(429) == 20
    assert statuses[20:] == [429] * 20


def test_a_rate_limited_answer_has_retry_after_and_is_audited_once():
    api = APIClient()
    with override_settings(AXES_FAILURE_LIMIT=1000):
        responses = [
            api.post("/api/v1/auth/token/", {"username": "x", "password": "y"}) for _ in range(25)
        ]
    refused = responses[-1]
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["code"] == "rate_limited"
    assert AuditEvent.objects.filter(action=events.RATE_LIMITED).count() == 1


def test_an_admin_lifts_the_lock_and_it_is_audited(client):
    UserFactory(username="victim")
    for _ in range(5):
        client.post("/login/", {"username": "victim", "password": "x"}, REMOTE_ADDR="10.2.0.1")
    assert AccessAttempt.objects.filter(username="victim").exists()
    admin = UserFactory(role=roles.ADMIN)
    admin_client = type(client)()
    admin_client.force_login(admin)
    changelist = reverse("admin:axes_accessattempt_changelist")
    assert admin_client.get(changelist).status_code == 200
    attempts = list(AccessAttempt.objects.values_list("pk", flat=True))
    response = admin_client.post(
        changelist, {"action": "unlock", "_selected_action": attempts}, follow=True
    )
    assert response.status_code == 200
    assert not AccessAttempt.objects.exists()
    assert AuditEvent.objects.filter(action=events.UNLOCKED, actor_id=admin.pk).count() == len(
        attempts
    )
    response = client.post(
        "/login/", {"username": "victim", "password": PASSWORD}, REMOTE_ADDR="10.2.0.1"
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"]


@pytest.mark.parametrize(
    ("trusted", "count", "forwarded", "expected"),
    [
        (False, 1, "203.0.113.9", "10.0.0.1"),
        (True, 1, "198.51.100.7, 203.0.113.9", "203.0.113.9"),
        (True, 2, "198.51.100.7, 203.0.113.9", "198.51.100.7"),
        (True, 2, "203.0.113.9", "10.0.0.1"),
        (True, 0, "203.0.113.9", "10.0.0.1"),
    ],
)
def test_client_address(trusted, count, forwarded, expected):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(TRUST_X_FORWARDED_FOR=trusted, TRUSTED_PROXY_COUNT=count):
        assert client_ip(request) == expected


def test_password_policy_length_and_common_passwords():
    with pytest.raises(ValidationError):
        validate_password("Short-pw-1")  # 10 characters
    with pytest.raises(ValidationError):
        validate_password("password1234")  # common
    validate_password("demo-Passw0rd!")  # the demo password still passes
    validate_password(PASSWORD)  # and the test factories'


def test_new_passwords_are_hashed_with_argon2():
    from django.conf import settings
    from django.contrib.auth.hashers import get_hasher

    production_hashers = [h for h in settings.PASSWORD_HASHERS if "MD5" not in h]
    assert production_hashers[0].endswith("Argon2PasswordHasher")
    assert get_hasher("argon2").algorithm == "argon2"
