"""The stage board (issue 13 item 4)."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from crm import roles
from crm.tests.factories import TeamFactory, UserFactory
from customers import events
from customers.models import Customer, ServiceStage
from customers.tests.factories import make_customer, rep

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return rep(team=TeamFactory(name="North"))


@pytest.mark.parametrize("rows", [2, 8])
def test_board_shows_the_users_cards_by_stage_in_fixed_queries(client, owner, assert_queries, rows):
    cards = [make_customer(owner) for _ in range(rows)]
    other = make_customer(rep(team=TeamFactory(name="South")))
    client.force_login(owner)
    with assert_queries(default=8):
        html = client.get(reverse("customers:board")).content.decode()
    assert all(f'data-testid="board-card-{c.code}"' in html for c in cards)
    assert other.code not in html


def test_a_move_is_a_recorded_stage_move(client, owner):
    customer = make_customer(owner)
    signed = ServiceStage.objects.get(code="signed")
    client.force_login(owner)
    response = client.post(
        reverse("customers:board-move", args=[customer.pk]),
        {"to_stage": signed.pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.stage == signed and customer.stage_owner == owner
    move = customer.stage_moves.order_by("-created_at").first()
    assert move.to_stage == signed and move.responsible == owner and move.moved_by == owner
    assert AuditEvent.objects.filter(action=events.STAGE_MOVED).count() == 1


def test_board_permissions(client, owner):
    customer = make_customer(owner)
    signed = ServiceStage.objects.get(code="signed")
    url = reverse("customers:board-move", args=[customer.pk])
    assert client.get(reverse("customers:board")).status_code == 302
    client.force_login(UserFactory(role=roles.ADMIN))
    assert client.get(reverse("customers:board")).status_code == 403
    client.force_login(rep(team=TeamFactory(name="South")))
    assert client.post(url, {"to_stage": signed.pk}).status_code == 404
    client.force_login(UserFactory(role=roles.AUDITOR))
    assert client.post(url, {"to_stage": signed.pk}).status_code == 403
    assert Customer.objects.get(pk=customer.pk).stage.code == "inquiry"
