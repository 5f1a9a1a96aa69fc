"""``/api/v1/users/``: user administration through the API (issue 13 item 6)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from crm import roles
from crm.fields import change_reason_of
from crm.models import User
from crm.security.models import RoleChange
from crm.tests.factories import UserFactory
from customers.models import Customer
from customers.tests.factories import api_client_for, company_people, make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast():
    return company_people()


@pytest.fixture
def api(cast):
    return api_client_for(cast["admin"])


def test_list_rows_never_carry_the_password_and_name_roles(api, cast):
    response = api.get(reverse("user-list"), {"role": roles.SALES_REP, "page_size": 50})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert {row["username"] for row in rows} == {
        cast[k].username for k in ("owner", "north_rep", "south_rep")
    }
    for row in rows:
        assert "password" not in row
        assert row["roles"] == [roles.SALES_REP]
        assert row["role_labels"] == ["Sales rep"]
    assert "pbkdf2" not in response.content.decode() and "argon2" not in response.content.decode()


def test_list_filters_and_fixed_queries(api, cast, assert_queries):
    gm = cast["gm"]
    found = api.get(reverse("user-list"), {"search": gm.last_name}).json()["results"]
    assert [row["id"] for row in found] == [gm.pk]
    south = cast["south_rep"].team
    by_team = api.get(reverse("user-list"), {"team": south.pk}).json()["results"]
    assert {row["id"] for row in by_team} == {cast["south_rep"].pk, cast["south_manager"].pk}
    assert api.get(reverse("user-list"), {"is_active": "false"}).json()["results"] == []
    assert api.get(reverse("user-list"), {"role": "root"}).status_code == 400

    # count, page, its roles (prefetch); the user is authenticated by force
    for extra in (1, 10):
        for _ in range(extra):
            UserFactory(role=roles.SALES_REP)
        with assert_queries(default=3, keys=0):
            assert api.get(reverse("user-list")).status_code == 200


def test_create_with_role_in_the_event(api, cast, mailoutbox, django_capture_on_commit_callbacks):
    team = cast["owner"].team
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            reverse("user-list"),
            {
                "username": "zhao",
                "first_name": "Zhao",
                "email": "zhao@example.com",
                "role": roles.SALES_MANAGER,
                "team": team.pk,
                "send_link": True,
            },
            format="json",
        )
    assert response.status_code == 201, response.content
    body = response.json()
    user = User.objects.get(username="zhao")
    assert body["id"] == user.pk and body["roles"] == [roles.SALES_MANAGER]
    assert body["team"] == team.pk and "password" not in body
    event = AuditEvent.objects.get(action="user.created", object_id=str(user.pk))
    assert event.data["roles"] == [roles.SALES_MANAGER]
    assert len(mailoutbox) == 1


def test_patch_name_team_and_a_high_trust_role(api, cast):
    user = cast["north_rep"]
    south = cast["south_rep"].team
    response = api.patch(
        reverse("user-detail", args=[user.pk]),
        {"last_name": "Zhou", "team": south.pk, "roles": [roles.SALES_REP, roles.DPO]},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["last_name"] == "Zhou" and body["team"] == south.pk
    assert body["roles"] == [roles.SALES_REP]
    assert body["pending_roles"] == [roles.DPO]
    assert RoleChange.objects.filter(user=user, role=roles.DPO, status="pending").exists()
    event = AuditEvent.objects.get(action="user.updated", object_id=str(user.pk))
    assert event.data["fields"] == ["last_name", "team"]


def test_patch_own_roles_is_refused(api, cast):
    admin = cast["admin"]
    response = api.patch(
        reverse("user-detail", args=[admin.pk]),
        {"roles": [roles.ADMIN, roles.GENERAL_MANAGER]},
        format="json",
    )
    assert response.status_code == 403
    assert not RoleChange.objects.filter(user=admin).exists()


def test_deactivate_with_successor_and_reactivate(api, cast):
    owner, successor = cast["owner"], cast["south_manager"]
    cards = [make_customer(owner) for _ in range(2)]
    refused = api.post(reverse("user-deactivate", args=[owner.pk]), {}, format="json")
    assert refused.status_code == 400 and "successor" in refused.json()
    response = api.post(
        reverse("user-deactivate", args=[owner.pk]), {"successor": successor.pk}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["handed_over"] == 2 and response.json()["is_active"] is False
    assert not Customer.objects.filter(pk__in=[c.pk for c in cards]).exclude(owner=successor)
    back = api.post(reverse("user-reactivate", args=[owner.pk]))
    assert back.status_code == 200 and back.json()["is_active"] is True


def test_deactivate_keeps_the_given_reason_on_its_events(api, cast):
    owner, successor = cast["owner"], cast["south_manager"]
    card = make_customer(owner)
    response = api.post(
        reverse("user-deactivate", args=[owner.pk]),
        {"successor": successor.pk, "reason": "离职"},
        format="json",
    )
    assert response.status_code == 200, response.content
    deactivated = AuditEvent.objects.get(action="user.deactivated", object_id=str(owner.pk))
    assert deactivated.reason == "离职"
    record = Customer.history.filter(id=card.pk).order_by("-history_id").first()
    assert (record.owner_id, change_reason_of(record)) == (successor.pk, "离职")


def test_self_deactivation_is_refused(api, cast):
    response = api.post(reverse("user-deactivate", args=[cast["admin"].pk]), {}, format="json")
    assert response.status_code == 403


def test_password_reset(api, cast, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(reverse("user-password-reset", args=[cast["owner"].pk]))
    assert response.status_code == 202
    assert len(mailoutbox) == 1
    assert "set-password" not in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        refused = api.post(reverse("user-password-reset", args=[cast["dpo"].pk]))
    assert refused.status_code == 403 and len(mailoutbox) == 1


def test_unknown_user_is_404(api):
    assert api.get(reverse("user-detail", args=[999999])).status_code == 404


def test_users_me_still_answers(cast):
    response = api_client_for(cast["owner"]).get(reverse("api-me"))
    assert response.status_code == 200 and response.json()["username"] == cast["owner"].username


@pytest.mark.parametrize("who", ["owner", "north_manager", "gm", "dpo", "auditor", "service"])
def test_other_roles_are_refused_every_endpoint(cast, who, mailoutbox):
    client = api_client_for(cast[who])
    target = cast["south_rep"]
    calls = [
        ("get", reverse("user-list"), None),
        ("post", reverse("user-list"), {"username": "x", "role": roles.SALES_REP}),
        ("get", reverse("user-detail", args=[target.pk]), None),
        ("patch", reverse("user-detail", args=[target.pk]), {"first_name": "X"}),
        ("post", reverse("user-deactivate", args=[target.pk]), {}),
        ("post", reverse("user-reactivate", args=[target.pk]), None),
        ("post", reverse("user-password-reset", args=[target.pk]), None),
    ]
    for method, url, body in calls:
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == 403, (who, method, url)
    target.refresh_from_db()
    assert target.is_active and target.first_name != "X"
    assert not User.objects.filter(username="x").exists() and mailoutbox == []


def test_anonymous_must_sign_in(client, cast):
    assert client.get(reverse("user-list")).status_code == 401
