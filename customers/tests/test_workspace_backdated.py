"""Back-dated interactions (issue 13 item 3): a call made earlier is logged with its own
time, on the card and through the API; an interaction in the future is refused."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from crm.tests.factories import TeamFactory
from customers import services
from customers.models import Interaction
from customers.tests.factories import make_customer, rep

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return rep(team=TeamFactory(name="North"))


def test_the_card_logs_a_call_made_yesterday_at_its_own_time(client, owner):
    customer = make_customer(owner)
    client.force_login(owner)
    yesterday = timezone.localtime() - datetime.timedelta(days=1)
    response = client.post(
        reverse("customers:interaction-create", args=[customer.pk]),
        {
            "kind": "call",
            "summary": "路上打的电话",
            "occurred_at": yesterday.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    logged = Interaction.objects.get(customer=customer)
    assert timezone.localtime(logged.occurred_at).strftime("%Y-%m-%d %H:%M") == yesterday.strftime(
        "%Y-%m-%d %H:%M"
    )


def test_left_empty_the_interaction_happened_now(client, owner):
    customer = make_customer(owner)
    client.force_login(owner)
    before = timezone.now()
    client.post(
        reverse("customers:interaction-create", args=[customer.pk]),
        {"kind": "visit", "summary": "拜访"},
    )
    assert Interaction.objects.get(customer=customer).occurred_at >= before


def test_an_interaction_in_the_future_is_refused_under_the_field(client, owner):
    customer = make_customer(owner)
    client.force_login(owner)
    tomorrow = timezone.localtime() + datetime.timedelta(days=1)
    response = client.post(
        reverse("customers:interaction-create", args=[customer.pk]),
        {"kind": "call", "occurred_at": tomorrow.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 400
    assert "An interaction cannot be in the future." in response.content.decode()
    assert not Interaction.objects.filter(customer=customer).exists()
    with pytest.raises(ValidationError) as refused:
        services.interaction_log(actor=owner, customer=customer, kind="call", occurred_at=tomorrow)
    assert "occurred_at" in refused.value.message_dict


def test_the_api_takes_a_back_dated_time_and_refuses_a_future_one(owner):
    customer = make_customer(owner)
    client = APIClient()
    client.force_authenticate(owner)
    url = f"/api/v1/customers/{customer.pk}/interactions/"
    earlier = timezone.now() - datetime.timedelta(hours=30)
    created = client.post(url, {"kind": "call", "occurred_at": earlier.isoformat()}, format="json")
    assert created.status_code == 201, created.content
    assert Interaction.objects.get(customer=customer).occurred_at == earlier
    later = timezone.now() + datetime.timedelta(hours=2)
    refused = client.post(url, {"kind": "call", "occurred_at": later.isoformat()}, format="json")
    assert refused.status_code == 400
    assert "occurred_at" in refused.json()
