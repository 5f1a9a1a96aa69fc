"""Web ground: sign-in, the home page by role, language switch, error pages, health."""

import re
from unittest import mock

import pytest
from django.urls import reverse

from crm import roles
from crm.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_login_page_renders_with_local_assets(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "vendor/bootstrap/bootstrap.min.css" in html
    assert "vendor/htmx/htmx.min.js" in html
    # No asset from another origin (a random CSRF token may well spell "cdn").
    assert re.search(r"""(src|href)=["'](https?:)?//""", html) is None


def test_home_requires_sign_in(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_sign_in_then_home(client):
    UserFactory(username="carol", role=roles.SALES_REP)
    response = client.post(
        reverse("login"), {"username": "carol", "password": PASSWORD}, follow=True
    )
    assert response.status_code == 200
    assert b"Welcome" in response.content


@pytest.mark.parametrize(
    ("role", "sees_audit", "sees_admin"),
    [
        (roles.SALES_REP, False, False),
        (roles.SALES_MANAGER, False, False),
        (roles.GENERAL_MANAGER, False, False),
        (roles.SERVICE_STAFF, False, False),
        (roles.DPO, True, False),
        (roles.AUDITOR, True, False),
        (roles.ADMIN, False, True),
    ],
)
def test_home_lists_what_the_role_may_open(client, role, sees_audit, sees_admin):
    client.force_login(UserFactory(role=role))
    html = client.get(reverse("home")).content.decode()
    assert (reverse("audit:event-list") in html) is sees_audit
    assert (reverse("admin:index") in html) is sees_admin
    assert reverse("api-docs") in html


@pytest.mark.parametrize("role", [roles.DPO, roles.AUDITOR])
def test_audit_console_for_oversight_roles(client, role, django_assert_max_num_queries):
    for i in range(60):
        # From 60 addresses: one address is locked out (and rate-limited) long before 60.
        client.post(
            reverse("login"), {"username": f"nobody{i}", "password": "x"}, REMOTE_ADDR=f"10.0.0.{i}"
        )
    client.force_login(UserFactory(role=role))
    # Content types are cached for the process after their first use (a server's first
    # request): warm, so the count does not depend on which test ran before.
    from django.contrib.contenttypes.models import ContentType

    from customers.models import Customer

    ContentType.objects.get_for_model(Customer)
    with django_assert_max_num_queries(9):
        response = client.get(reverse("audit:event-list"), {"action": "auth.login_failed"})
    assert response.status_code == 200
    html = response.content.decode()
    # 50 rows of that event type, and the action picker's option of it.
    assert html.count("data-event-row") == 50
    assert (
        html.count(
            '<td class="audit-action" data-col="action" data-label="Action">Failed sign-in</td>'
        )
        == 50
    )
    assert '<option value="auth.login_failed" selected>Failed sign-in</option>' in html
    assert b"Page 1 of 2" in response.content


@pytest.mark.parametrize("role", [roles.SALES_REP, roles.SERVICE_STAFF, roles.ADMIN])
def test_audit_console_refused_to_others_with_a_friendly_page(client, role):
    client.force_login(UserFactory(role=role))
    response = client.get(reverse("audit:event-list"))
    assert response.status_code == 403
    assert b"You are not allowed to open this page" in response.content


def test_friendly_404(client, settings):
    settings.DEBUG = False
    client.force_login(UserFactory(role=roles.SALES_REP))
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert b"This page does not exist" in response.content


def test_friendly_500(client):
    from django.test import RequestFactory

    from crm.views import error_500

    response = error_500(RequestFactory().get("/"))
    assert response.status_code == 500
    assert b"Something went wrong" in response.content


def test_language_switch_to_chinese(client):
    client.force_login(UserFactory(role=roles.SALES_REP))
    response = client.post(
        reverse("set_language"), {"language": "zh-hans", "next": "/"}, follow=True
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in html
    assert "退出" in html  # "Sign out"
    assert "Sign out" not in html


def test_header_offers_both_languages(client):
    html = client.get(reverse("login")).content.decode()
    assert 'value="en"' in html and 'value="zh-hans"' in html


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "keys_database": "ok",
        "broker": "ok",
    }


def test_healthz_503_when_database_down(client):
    with mock.patch("crm.health.database_state", side_effect=lambda alias: "down"):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "down"


def test_healthz_503_when_broker_unreachable(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    from crm.celery import app

    original = app.connection_for_write
    unreachable = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    with mock.patch.object(app, "connection_for_write", lambda: original(unreachable)):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] == "down"


def test_admin_site_changes_are_audited(client):
    from django.contrib.auth.models import Group

    from audit.models import AuditEvent
    from crm.models import User

    admin = UserFactory(role=roles.ADMIN)
    client.force_login(admin)
    response = client.post(
        reverse("admin:crm_team_add"), {"name": "East", "manager": ""}, follow=True
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="admin.added")
    assert event.actor_id == admin.pk and event.data == {"fields": ["name"]}
    rep = UserFactory(role=roles.SALES_REP)
    manager_group = Group.objects.get(name=roles.SALES_MANAGER)
    response = client.post(
        reverse("admin:crm_user_change", args=[rep.pk]),
        {
            "username": rep.username,
            "first_name": "",
            "last_name": "",
            "email": "",
            "is_active": "on",
            "groups": [manager_group.pk],
            "team": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert User.objects.get(pk=rep.pk).has_role(roles.SALES_MANAGER)
    changed = AuditEvent.objects.get(action="user.role_changed")
    assert changed.data == {"roles": [roles.SALES_MANAGER]}


def test_admins_cannot_make_superusers(client):
    from crm.models import User

    admin = UserFactory(role=roles.ADMIN)
    client.force_login(admin)
    client.post(
        reverse("admin:crm_user_change", args=[admin.pk]),
        {
            "username": admin.username,
            "first_name": "",
            "last_name": "",
            "email": "",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert not User.objects.get(pk=admin.pk).is_superuser
