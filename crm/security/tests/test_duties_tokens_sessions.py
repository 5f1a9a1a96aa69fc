"""Items 3 and 4: separation of duties, audited passwords, tokens, sessions (issue 14)."""

import time

import pytest
from django.contrib.auth.models import Group
from django.test import Client, override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AuditEvent
from crm import roles
from crm.security import events
from crm.security.middleware import SEEN_AT, SIGNED_IN_AT
from crm.security.models import ApiToken, RoleChange
from crm.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def _change_form(user, groups):
    return {
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": "",
        "is_active": "on",
        "groups": [Group.objects.get(name=name).pk for name in groups],
        "team": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }


def test_an_admin_cannot_give_himself_roles():
    """Found: an admin added the general-manager and DPO groups to his own account."""
    admin = UserFactory(role=roles.ADMIN)
    client = signed_in(admin)
    url = reverse("admin:crm_user_change", args=[admin.pk])
    client.post(url, _change_form(admin, [roles.ADMIN, roles.GENERAL_MANAGER, roles.DPO]))
    admin.refresh_from_db()
    assert sorted(admin.role_names) == [roles.ADMIN]
    assert not RoleChange.objects.exists()


def test_a_high_trust_role_waits_for_a_second_person():
    admin = UserFactory(role=roles.ADMIN)
    rep = UserFactory(role=roles.SALES_REP)
    client = signed_in(admin)
    client.post(
        reverse("admin:crm_user_change", args=[rep.pk]),
        _change_form(rep, [roles.SALES_REP, roles.DPO]),
    )
    assert sorted(rep.role_names) == [roles.SALES_REP]
    change = RoleChange.objects.get()
    assert (change.role, change.status, change.requested_by) == (roles.DPO, "pending", admin)
    assert AuditEvent.objects.filter(action=events.ROLE_CHANGE_REQUESTED).count() == 1

    # The requester cannot confirm his own request.
    response = client.post(reverse("security:role-change-confirm", args=[change.pk]))
    assert response.status_code == 403
    # A sales manager holds no high-trust role: 404.
    manager = signed_in(UserFactory(role=roles.SALES_MANAGER))
    assert (
        manager.post(reverse("security:role-change-confirm", args=[change.pk])).status_code == 404
    )
    assert sorted(rep.role_names) == [roles.SALES_REP]

    gm = UserFactory(role=roles.GENERAL_MANAGER)
    response = signed_in(gm).post(reverse("security:role-change-confirm", args=[change.pk]))
    assert response.status_code == 302
    assert sorted(rep.role_names) == [roles.DPO, roles.SALES_REP]
    change.refresh_from_db()
    assert (change.status, change.decided_by) == ("confirmed", gm)
    assert AuditEvent.objects.filter(action=events.ROLE_CHANGE_CONFIRMED, actor_id=gm.pk).exists()


def test_a_refusal_to_change_ones_own_roles_stays_in_the_trail():
    """Found: the refusal's event was written inside the transaction the refusal rolled back."""
    from django.core.exceptions import PermissionDenied

    from crm.security.services import user_roles_set

    admin = UserFactory(role=roles.ADMIN)
    with pytest.raises(PermissionDenied):
        user_roles_set(actor=admin, user=admin, role_names=[roles.ADMIN, roles.DPO])
    refusal = AuditEvent.objects.get(action=events.ROLE_CHANGE_REFUSED)
    assert (refusal.actor_id, refusal.data["why"]) == (admin.pk, "own_roles")
    assert admin.role_names == [roles.ADMIN]
    # Setting the roles he already holds is no change, and no refusal.
    assert user_roles_set(actor=admin, user=admin, role_names=[roles.ADMIN]) == []


def test_a_confirmed_admin_role_opens_the_admin_site():
    from crm.security.services import role_change_confirm, user_roles_set

    rep = UserFactory(role=roles.SALES_REP)
    (change,) = user_roles_set(
        actor=UserFactory(role=roles.ADMIN), user=rep, role_names=[roles.ADMIN]
    )
    rep.refresh_from_db()
    assert not rep.is_staff
    role_change_confirm(actor=UserFactory(role=roles.GENERAL_MANAGER), change_id=change.pk)
    rep.refresh_from_db()
    assert rep.is_staff and roles.ADMIN in rep.role_names


def test_a_lower_trust_role_is_given_at_once():
    admin = UserFactory(role=roles.ADMIN)
    rep = UserFactory(role=roles.SALES_REP)
    signed_in(admin).post(
        reverse("admin:crm_user_change", args=[rep.pk]), _change_form(rep, [roles.SALES_MANAGER])
    )
    assert rep.role_names == [roles.SALES_MANAGER]


def test_an_admin_cannot_set_the_password_of_a_dpo():
    """Found: an admin could set the DPO's password."""
    admin = UserFactory(role=roles.ADMIN)
    dpo = UserFactory(role=roles.DPO)
    client = signed_in(admin)
    url = reverse("admin:auth_user_password_change", args=[dpo.pk])
    response = client.post(
        url,
        {
            "password1": "a-new-Passw0rd-9",
            "password2": "a-new-Passw0rd-9",
            "usable_password": "true",
        },
    )
    assert response.status_code == 403
    dpo.refresh_from_db()
    assert dpo.check_password(PASSWORD)
    assert AuditEvent.objects.filter(action=events.PASSWORD_CHANGE_REFUSED).count() == 1


def test_admin_password_changes_are_audited_and_revoke_tokens():
    """Found: admin password changes were not audited."""
    admin = UserFactory(role=roles.ADMIN)
    rep = UserFactory(role=roles.SALES_REP, username="rep")
    key = (
        APIClient()
        .post("/api/v1/auth/token/", {"username": "rep", "password": PASSWORD})
        .json()["token"]
    )
    client = signed_in(admin)
    url = reverse("admin:auth_user_password_change", args=[rep.pk])
    response = client.post(
        url,
        {
            "password1": "a-new-Passw0rd-9",
            "password2": "a-new-Passw0rd-9",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action=events.PASSWORD_CHANGED)
    assert (event.actor_id, event.object_id) == (admin.pk, str(rep.pk))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/users/me/").status_code == 401


def test_own_password_change_is_audited():
    user = UserFactory(role=roles.SALES_REP)
    client = signed_in(user)
    response = client.post(
        reverse("security:password-change"),
        {
            "old_password": PASSWORD,
            "new_password1": "another-Passw0rd-7",
            "new_password2": "another-Passw0rd-7",
        },
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action=events.PASSWORD_CHANGED, actor_id=user.pk).count() == 1


def _token_for(username):
    response = APIClient().post("/api/v1/auth/token/", {"username": username, "password": PASSWORD})
    assert response.status_code == 200
    return response.json()["token"]


def _api(key):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def test_tokens_are_stored_hashed_and_expire():
    UserFactory(username="bob")
    key = _token_for("bob")
    token = ApiToken.objects.get()
    assert key not in {token.digest, token.prefix} and len(key) == 40
    assert round((token.expires_at - token.created_at).total_seconds()) == 8 * 3600
    assert _api(key).get("/api/v1/users/me/").status_code == 200
    ApiToken.objects.update(expires_at=token.created_at)
    assert _api(key).get("/api/v1/users/me/").status_code == 401


def test_tokens_are_listed_and_revoked_by_their_owner_only():
    UserFactory(username="bob")
    UserFactory(username="eve")
    key = _token_for("bob")
    other = _token_for("eve")
    listing = _api(key).get("/api/v1/auth/tokens/").json()
    assert listing["count"] == 1 and listing["results"][0]["is_current"] is True
    assert "digest" not in listing["results"][0]
    mine = listing["results"][0]["id"]
    assert _api(other).delete(f"/api/v1/auth/tokens/{mine}/").status_code == 404
    assert _api(key).delete(f"/api/v1/auth/tokens/{mine}/").status_code == 204
    assert _api(key).get("/api/v1/users/me/").status_code == 401
    assert AuditEvent.objects.filter(action=events.TOKEN_REVOKED).count() == 1


def test_an_admin_lists_and_revokes_another_users_tokens():
    rep = UserFactory(username="bob")
    UserFactory(username="root", role=roles.ADMIN)
    key = _token_for("bob")
    admin_key = _token_for("root")
    listing = _api(admin_key).get(f"/api/v1/auth/tokens/?user={rep.pk}").json()
    assert listing["count"] == 1
    token_id = listing["results"][0]["id"]
    assert _api(admin_key).delete(f"/api/v1/auth/tokens/{token_id}/").status_code == 204
    assert _api(key).get("/api/v1/users/me/").status_code == 401


def test_tokens_end_on_logout_deactivation_and_sign_out_everywhere():
    """Found: tokens survived logout and password change and could not be revoked."""
    user = UserFactory(username="bob")
    key = _token_for("bob")
    client = Client()
    client.post("/login/", {"username": "bob", "password": PASSWORD})
    client.post("/logout/")
    assert _api(key).get("/api/v1/users/me/").status_code == 401

    key = _token_for("bob")
    other_browser = Client()
    other_browser.post("/login/", {"username": "bob", "password": PASSWORD})
    response = _api(key).post("/api/v1/auth/sign-out-everywhere/")
    assert response.status_code == 200 and response.json() == {"sessions": 1, "tokens": 1}
    assert _api(key).get("/api/v1/users/me/").status_code == 401
    assert other_browser.get("/").status_code == 302  # signed out

    key = _token_for("bob")
    admin = UserFactory(role=roles.ADMIN)
    form = _change_form(user, [])
    form.pop("is_active")
    signed_in(admin).post(reverse("admin:crm_user_change", args=[user.pk]), form)
    user.refresh_from_db()
    assert user.is_active is False
    assert ApiToken.objects.live().count() == 0


def test_the_session_is_rotated_on_sign_in():
    UserFactory(username="bob")
    client = Client()
    client.get("/login/")
    client.cookies["sessionid"] = "x" * 32
    client.post("/login/", {"username": "bob", "password": PASSWORD})
    assert client.cookies["sessionid"].value != "x" * 32


@pytest.mark.parametrize(("key", "age"), [(SEEN_AT, 31 * 60), (SIGNED_IN_AT, 8 * 3600 + 1)])
def test_sessions_expire_when_idle_and_at_their_absolute_lifetime(key, age):
    user = UserFactory(role=roles.SALES_REP)
    client = signed_in(user)
    assert client.get("/").status_code == 200
    session = client.session
    session[key] = int(time.time()) - age
    session.save()
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert AuditEvent.objects.filter(action=events.SESSION_EXPIRED).count() == 1
    assert client.get("/").status_code == 302


@override_settings(CRM_SESSION_IDLE_SECONDS=3600)
def test_an_active_session_lives_on():
    client = signed_in(UserFactory(role=roles.SALES_REP))
    session = client.session
    session[SEEN_AT] = int(time.time()) - 1800
    session.save()
    assert client.get("/").status_code == 200
