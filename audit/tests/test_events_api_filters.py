"""``/api/v1/audit/events/`` keeps the filter forms API clients already send (a username,
an action prefix, a bare model name, ISO date-times) beside the console's pickers."""

from __future__ import annotations

import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from rest_framework.test import APIClient

from audit.services import record_event
from customers.tests.factories import company_people, make_customer

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
EVENTS = "/api/v1/audit/events/"


def _at(day: int, hour: int) -> datetime.datetime:
    return datetime.datetime(2026, 3, day, hour, tzinfo=SHANGHAI)


def _event(moment, **kwargs):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        return record_event(**kwargs)


@pytest.fixture
def trail():
    people = company_people()
    customer = make_customer(people["owner"])
    _event(_at(9, 10), action="customer.viewed", actor=people["owner"], obj=customer)
    _event(_at(10, 10), action="customer.revealed", actor=people["owner"], obj=customer)
    _event(_at(10, 15), action="auth.login_failed", actor=people["gm"], obj=people["gm"])
    client = APIClient()
    client.force_authenticate(people["dpo"])
    return people, client


def _actions(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(row["action"] for row in response.json()["results"])


def test_actor_by_username_or_id(trail):
    people, client = trail
    owner = people["owner"]
    by_name = _actions(client.get(EVENTS, {"actor": owner.username}))
    by_id = _actions(client.get(EVENTS, {"actor": owner.pk}))
    assert by_name == by_id
    assert "customer.revealed" in by_name and "auth.login_failed" not in by_name


def test_action_prefix_and_bare_model_name(trail):
    _people, client = trail
    assert _actions(client.get(EVENTS, {"action": "customer.rev"})) == ["customer.revealed"]
    customer_events = _actions(client.get(EVENTS, {"object_type": "customer"}))
    assert customer_events == _actions(client.get(EVENTS, {"object_type": "customers.customer"}))
    assert set(customer_events) >= {"customer.viewed", "customer.revealed"}


def test_since_and_until_take_dates_or_date_times(trail):
    _people, client = trail
    # A date is a whole local day, ``until`` included; a date-time is an instant, excluded.
    day = _actions(client.get(EVENTS, {"since": "2026-03-10", "until": "2026-03-10"}))
    assert day == ["auth.login_failed", "customer.revealed"]
    moments = _actions(
        client.get(
            EVENTS, {"since": "2026-03-10T10:00:00+08:00", "until": "2026-03-10T10:15:00+08:00"}
        )
    )
    assert moments == ["customer.revealed"]


def test_a_since_that_is_neither_date_nor_time_is_a_clear_400(trail):
    _people, client = trail
    response = client.get(EVENTS, {"since": "yesterday"})
    assert response.status_code == 400
    assert "since" in response.json()
