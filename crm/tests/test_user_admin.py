"""User administration outside the Django admin (issue 13 item 6): the pages and services."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from crm import roles, services
from crm.models import User
from crm.security.models import RoleChange, UserSession
from crm.tests.factories import PASSWORD, TeamFactory, UserFactory
from customers.models import Customer
from customers.tests.factories import company_people, make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_factory():
    from django.test import Client

    return Client


@pytest.fixture
def cast():
    return company_people()


@pytest.fixture
def admin(cast):
    return cast["admin"]


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def events(action, user):
    return list(AuditEvent.objects.filter(action=action, object_id=str(user.pk)))


def test_event_labels_are_registered_and_translatable():
    from django.utils import translation

    from audit import events as audit_events

    for action in (
        "user.updated",
        "user.deactivated",
        "user.reactivated",
        "user.password_reset_sent",
        "user.password_set_by_link",
    ):
        assert audit_events.label(action) != action
        assert action in audit_events.all_labels()
    with translation.override("en"):
        assert audit_events.label("user.deactivated") == "User deactivated"


# --- create --------------------------------------------------------------------------------


def test_admin_creates_a_user_with_role_and_team_and_a_link_is_mailed(
    admin_client, cast, mailoutbox, django_capture_on_commit_callbacks
):
    north = cast["owner"].team
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("users:create"),
            {
                "first_name": "Li",
                "last_name": "Na",
                "username": "lina",
                "email": "lina@example.com",
                "role": roles.SALES_REP,
                "team": north.pk,
                "send_link": "on",
            },
        )
    user = User.objects.get(username="lina")
    assert response.status_code == 302
    assert response["Location"] == reverse("users:detail", args=[user.pk])
    assert user.role_names == [roles.SALES_REP]
    assert user.team == north
    assert not user.has_usable_password()
    (event,) = events("user.created", user)
    assert event.data["role"] == roles.SALES_REP
    assert event.data["roles"] == [roles.SALES_REP]
    assert event.actor_id == cast["admin"].pk
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["lina@example.com"]


def test_a_high_trust_role_at_creation_waits_for_a_second_person(admin_client):
    admin_client.post(
        reverse("users:create"),
        {"username": "newgm", "role": roles.GENERAL_MANAGER, "email": "", "send_link": ""},
    )
    user = User.objects.get(username="newgm")
    assert user.role_names == []
    assert not user.is_staff
    assert RoleChange.objects.filter(
        user=user, role=roles.GENERAL_MANAGER, status=RoleChange.Status.PENDING
    ).exists()
    page = admin_client.get(reverse("users:detail", args=[user.pk])).content.decode()
    assert "Roles waiting for confirmation" in page
    assert "General manager" in page


def test_create_refuses_a_taken_username(admin_client, cast):
    response = admin_client.post(
        reverse("users:create"),
        {"username": cast["owner"].username.upper(), "role": roles.SALES_REP},
    )
    assert response.status_code == 200
    assert "A user with that username already exists." in response.content.decode()


# --- edit ----------------------------------------------------------------------------------


def test_admin_edits_name_and_team(admin_client, cast):
    user = cast["north_rep"]
    south = cast["south_rep"].team
    response = admin_client.post(
        reverse("users:edit", args=[user.pk]),
        {
            "first_name": "Wang",
            "last_name": user.last_name,
            "email": user.email,
            "team": south.pk,
            "roles": [roles.SALES_REP],
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.first_name, user.team) == ("Wang", south)
    (event,) = events("user.updated", user)
    assert event.data == {"fields": ["first_name", "team"], "roles": [roles.SALES_REP]}
    assert user.history.first().history_user_id == cast["admin"].pk


def test_a_high_trust_role_becomes_a_pending_change(admin_client, cast):
    user = cast["north_rep"]
    response = admin_client.post(
        reverse("users:edit", args=[user.pk]),
        {
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "team": user.team_id,
            "roles": [roles.SALES_REP, roles.AUDITOR],
        },
    )
    assert response.status_code == 302
    assert user.role_names == [roles.SALES_REP]
    change = RoleChange.objects.get(user=user)
    assert (change.role, change.status) == (roles.AUDITOR, RoleChange.Status.PENDING)
    assert change.requested_by == cast["admin"]
    page = admin_client.get(reverse("users:detail", args=[user.pk])).content.decode()
    assert "Auditor" in page and "auditor," not in page


def test_a_plain_role_is_changed_at_once_with_the_roles_in_the_event(admin_client, cast):
    user = cast["north_rep"]
    admin_client.post(
        reverse("users:edit", args=[user.pk]),
        {"first_name": user.first_name, "last_name": user.last_name, "email": user.email,
         "team": user.team_id, "roles": [roles.SALES_MANAGER]},
    )  # fmt: skip
    assert user.role_names == [roles.SALES_MANAGER]
    (event,) = events("user.updated", user)
    assert event.data == {"fields": ["roles"], "roles": [roles.SALES_MANAGER]}
    assert events("user.role_changed", user)


def test_nobody_changes_his_own_roles(admin_client, admin):
    response = admin_client.post(
        reverse("users:edit", args=[admin.pk]),
        {"first_name": "Self", "last_name": "", "email": admin.email,
         "roles": [roles.ADMIN, roles.SALES_MANAGER]},
    )  # fmt: skip
    assert response.status_code == 200
    assert "Nobody may change his own roles." in response.content.decode()
    admin.refresh_from_db()
    assert admin.role_names == [roles.ADMIN]
    assert admin.first_name != "Self"  # the whole edit rolled back
    assert events("user.role_change_refused", admin)


def test_an_admin_does_not_change_the_email_of_someone_trusted_more(admin, cast):
    gm = cast["gm"]
    with pytest.raises(PermissionDenied):
        services.user_update(actor=admin, user=gm, data={"email": "mine@example.com"})
    gm.refresh_from_db()
    assert gm.email != "mine@example.com"


# --- deactivate and hand over --------------------------------------------------------------


def test_deactivate_hands_the_cards_over_and_ends_sessions(admin_client, cast, client_factory):
    owner, successor = cast["owner"], cast["north_rep"]
    cards = [make_customer(owner) for _ in range(3)]
    owner_client = client_factory()
    owner_client.force_login(owner)
    assert UserSession.objects.filter(user=owner).exists()

    page = admin_client.get(reverse("users:deactivate", args=[owner.pk])).content.decode()
    assert "Customer cards: 3" in page
    assert "data-confirm=" in page
    response = admin_client.post(
        reverse("users:deactivate", args=[owner.pk]), {"successor": successor.pk}
    )

    assert response.status_code == 302
    owner.refresh_from_db()
    assert not owner.is_active
    assert set(Customer.objects.filter(pk__in=[c.pk for c in cards]).values_list(
        "owner_id", flat=True)) == {successor.pk}  # fmt: skip
    assert not UserSession.objects.filter(user=owner).exists()
    assert owner_client.get(reverse("home"))["Location"].startswith("/login/")
    (event,) = events("user.deactivated", owner)
    assert event.data["roles"] == [roles.SALES_REP]
    assert event.data["successor_id"] == successor.pk
    assert event.data["handed_over"] == 3
    (handed,) = AuditEvent.objects.filter(action="customers.handed_over")
    assert handed.data["count"] == 3 and handed.actor_id == cast["admin"].pk


def test_deactivate_is_refused_without_a_successor_when_cards_remain(admin_client, cast):
    owner = cast["owner"]
    card = make_customer(owner)
    response = admin_client.post(reverse("users:deactivate", args=[owner.pk]), {})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    with pytest.raises(ValidationError) as refused:
        services.user_deactivate(actor=cast["admin"], user=owner, successor=None)
    assert "successor" in refused.value.error_dict
    owner.refresh_from_db()
    card.refresh_from_db()
    assert owner.is_active and card.owner_id == owner.pk
    assert not events("user.deactivated", owner)


def test_the_successor_must_be_an_active_sales_rep_or_manager(admin, cast):
    owner = cast["owner"]
    make_customer(owner)
    for wrong in (cast["service"], cast["auditor"], owner, UserFactory(role=roles.SALES_REP,
                                                                     is_active=False)):  # fmt: skip
        with pytest.raises(ValidationError):
            services.user_deactivate(actor=admin, user=owner, successor=wrong)
    owner.refresh_from_db()
    assert owner.is_active


def test_a_user_without_cards_is_deactivated_without_a_successor(admin_client, cast):
    auditor = cast["auditor"]
    response = admin_client.post(reverse("users:deactivate", args=[auditor.pk]), {})
    assert response.status_code == 302
    auditor.refresh_from_db()
    assert not auditor.is_active
    (event,) = events("user.deactivated", auditor)
    assert event.data["handed_over"] == 0 and event.data["successor_id"] is None


def test_a_leaving_managers_team_goes_to_a_successor_who_is_a_manager(admin, cast):
    leaving, north = cast["north_manager"], cast["north_manager"].team
    successor = UserFactory(role=roles.SALES_MANAGER, team=north)
    client = Client()
    client.force_login(admin)
    page = client.get(reverse("users:deactivate", args=[leaving.pk])).content.decode()
    assert 'name="successor"' in page  # offered for the team although he holds no card
    response = client.post(
        reverse("users:deactivate", args=[leaving.pk]), {"successor": successor.pk}
    )
    assert response.status_code == 302
    north.refresh_from_db()
    assert north.manager_id == successor.pk
    (event,) = events("user.deactivated", leaving)
    assert (event.data["teams"], event.data["teams_manager_id"]) == ([north.pk], successor.pk)


def test_a_leaving_managers_team_is_left_without_a_manager_and_the_page_says_so(admin_client, cast):
    leaving, north = cast["north_manager"], cast["north_manager"].team  # holds no card
    page = admin_client.get(reverse("users:deactivate", args=[leaving.pk])).content.decode()
    assert f"This user manages {north.name}" in page
    response = admin_client.post(
        reverse("users:deactivate", args=[leaving.pk]), {"successor": ""}, follow=True
    )
    north.refresh_from_db()
    assert north.manager_id is None
    assert "These teams have no manager now" in response.content.decode()
    (event,) = events("user.deactivated", leaving)
    assert (event.data["teams"], event.data["teams_manager_id"]) == ([north.pk], None)
    assert event.data["successor_id"] is None


def test_nobody_deactivates_himself(admin_client, admin):
    response = admin_client.post(reverse("users:deactivate", args=[admin.pk]), {})
    assert response.status_code in (200, 400)
    admin.refresh_from_db()
    assert admin.is_active
    with pytest.raises(PermissionDenied):
        services.user_deactivate(actor=admin, user=admin)
    page = admin_client.get(reverse("users:detail", args=[admin.pk])).content.decode()
    assert "You cannot deactivate yourself." in page


def test_reactivate(admin_client, cast):
    user = cast["auditor"]
    services.user_deactivate(actor=cast["admin"], user=user)
    response = admin_client.post(reverse("users:reactivate", args=[user.pk]))
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_active
    (event,) = events("user.reactivated", user)
    assert event.data == {"roles": [roles.AUDITOR]}


# --- password reset ------------------------------------------------------------------------


def _link(mail) -> str:
    return re.search(r"https?://\S+/users/set-password/\S+/", mail.body).group(0)


def test_reset_mails_a_link_that_sets_the_password_once(
    admin_client, cast, mailoutbox, django_capture_on_commit_callbacks, client_factory
):
    user = cast["north_rep"]
    user_client = client_factory()
    user_client.force_login(user)
    detail = admin_client.get(reverse("users:detail", args=[user.pk])).content.decode()
    assert "data-confirm=" in detail and reverse("users:password-reset", args=[user.pk]) in detail

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("users:password-reset", args=[user.pk]), follow=True)

    page = response.content.decode()
    assert "A link to set a new password was e-mailed" in page
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [user.email]
    link = _link(mailoutbox[0])
    assert not UserSession.objects.filter(user=user).exists()
    user.refresh_from_db()
    assert not user.check_password(PASSWORD)  # the old password stops working at once
    (event,) = events("user.password_reset_sent", user)
    assert event.data["roles"] == [roles.SALES_REP]
    assert "http" not in str(event.data)

    path = link.split("://", 1)[1].split("/", 1)[1]
    anonymous = client_factory()
    first = anonymous.get("/" + path)
    assert first.status_code == 302  # the token moves into the session, out of the URL
    form = anonymous.get(first["Location"])
    assert "Set your password" in form.content.decode()
    new_password = "Fresh-Passw0rd-2026"
    done = anonymous.post(
        first["Location"], {"new_password1": new_password, "new_password2": new_password}
    )
    assert done.status_code == 302 and done["Location"] == reverse("login")
    user.refresh_from_db()
    assert user.check_password(new_password)
    assert events("user.password_set_by_link", user)

    again = client_factory().get("/" + path)
    assert again.status_code == 200
    assert "no longer valid" in again.content.decode()


def test_reset_is_refused_for_a_user_trusted_more(
    admin_client, cast, mailoutbox, django_capture_on_commit_callbacks
):
    gm = cast["gm"]
    detail = admin_client.get(reverse("users:detail", args=[gm.pk])).content.decode()
    assert reverse("users:password-reset", args=[gm.pk]) not in detail
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("users:password-reset", args=[gm.pk]), follow=True)
    assert "trusted more than yours" in response.content.decode()
    assert mailoutbox == []
    assert not events("user.password_reset_sent", gm)
    assert events("auth.password_change_refused", gm)
    with pytest.raises(PermissionDenied):
        services.user_password_reset_send(actor=cast["admin"], user=gm)


def test_reset_needs_an_email_address(admin_client, cast, mailoutbox):
    user = UserFactory(role=roles.SALES_REP, email="")
    response = admin_client.post(reverse("users:password-reset", args=[user.pk]), follow=True)
    assert "no e-mail address" in response.content.decode()
    assert mailoutbox == []


# --- the list ------------------------------------------------------------------------------


def test_list_shows_translated_roles_team_and_filters(admin_client, cast):
    page = admin_client.get(reverse("users:list")).content.decode()
    assert "Sales rep" in page and "Data protection officer" in page
    assert ">data_protection_officer<" not in page and "sales_rep," not in page
    assert "North" in page

    found = admin_client.get(reverse("users:list"), {"q": cast["gm"].last_name}).content.decode()
    assert cast["gm"].username in found and cast["owner"].username not in found

    reps = admin_client.get(reverse("users:list"), {"role": roles.SALES_REP}).content.decode()
    assert cast["owner"].username in reps and cast["gm"].username not in reps

    south = cast["south_rep"].team
    by_team = admin_client.get(reverse("users:list"), {"team": south.pk}).content.decode()
    assert cast["south_rep"].username in by_team and cast["owner"].username not in by_team

    services.user_deactivate(actor=cast["admin"], user=cast["auditor"])
    inactive = admin_client.get(reverse("users:list"), {"active": "0"}).content.decode()
    assert cast["auditor"].username in inactive and cast["dpo"].username not in inactive


def test_list_pages_in_a_fixed_number_of_queries(admin_client, assert_queries):
    admin_client.get(reverse("users:list"))  # session warm-up
    # session, user, his permissions (2), count, page, its roles (1 prefetch), the
    # header's role names, the team filter's choices; nothing on the keys database
    for extra in (2, 12):
        team = TeamFactory()
        for _ in range(extra):
            UserFactory(role=roles.SALES_REP, team=team)
        with assert_queries(default=9, keys=0):
            response = admin_client.get(reverse("users:list"))
        assert response.status_code == 200
    with assert_queries(default=9, keys=0):
        admin_client.get(reverse("users:list"), {"role": roles.SALES_REP, "q": "user"})


def test_the_nav_entry_is_for_administrators(client, cast):
    client.force_login(cast["admin"])
    assert reverse("users:list") in client.get(reverse("home")).content.decode()
    client.force_login(cast["gm"])
    assert reverse("users:list") not in client.get(reverse("home")).content.decode()


# --- who may ---------------------------------------------------------------------------------

FORBIDDEN = ["owner", "north_manager", "gm", "dpo", "auditor", "service"]


def _pages(target):
    return [
        ("get", reverse("users:list")),
        ("get", reverse("users:create")),
        ("get", reverse("users:detail", args=[target.pk])),
        ("get", reverse("users:edit", args=[target.pk])),
        ("get", reverse("users:deactivate", args=[target.pk])),
        ("post", reverse("users:deactivate", args=[target.pk])),
        ("post", reverse("users:reactivate", args=[target.pk])),
        ("post", reverse("users:password-reset", args=[target.pk])),
    ]


@pytest.mark.parametrize("who", FORBIDDEN)
def test_other_roles_are_refused_every_page(client, cast, who, mailoutbox):
    target = cast["south_rep"]
    client.force_login(cast[who])
    for method, url in _pages(target):
        assert getattr(client, method)(url).status_code == 403, (who, method, url)
    target.refresh_from_db()
    assert target.is_active and mailoutbox == []


def test_the_admin_may_open_every_page_and_anonymous_signs_in(client, cast):
    target = cast["south_rep"]
    for method, url in _pages(target)[:5]:
        assert client.get(url)["Location"].startswith("/login/")
    client.force_login(cast["admin"])
    for method, url in _pages(target)[:5]:
        assert getattr(client, method)(url).status_code == 200, url


def test_a_superuser_may_administer_users(client, cast):
    root = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    client.force_login(root)
    assert client.get(reverse("users:list")).status_code == 200
    gm = cast["gm"]
    assert client.post(reverse("users:password-reset", args=[gm.pk])).status_code == 302
