"""Credit rows follow a merged card; exactly one active limit survives."""

from __future__ import annotations

from decimal import Decimal

import pytest

from credit import selectors, services
from credit.models import CreditAccount, CreditLimit, Hold, Investigation, Order
from credit.tests.factories import active_limit as approve_limit
from credit.tests.factories import complete_organisation, invoice, open_account, people
from customers import services as customer_services

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def cast():
    return people()


def _merge(cast, survivor, duplicate):
    return customer_services.customer_merge(
        actor=cast["north_manager"], survivor_id=survivor.pk, duplicate_id=duplicate.pk
    )


def test_both_active_limits_leave_exactly_one_active_on_the_survivor(cast):
    survivor = complete_organisation(cast["owner"])
    duplicate = complete_organisation(cast["owner"])
    for customer in (survivor, duplicate):
        open_account(customer, cast)
    kept = approve_limit(survivor, cast, "1000.00")
    other = approve_limit(duplicate, cast, "5000.00")
    invoice(duplicate, cast["north_manager"], "300.00")
    services.order_create(
        actor=cast["owner"], customer=duplicate, amount=D("200.00"), reference="PO-D"
    )
    services.investigation_record(
        actor=cast["owner"], customer=duplicate, source="press", kind="daily", funding="thin"
    )
    _merge(cast, survivor, duplicate)
    active = CreditLimit.objects.filter(status="active")
    assert list(active) == [kept]
    other.refresh_from_db()
    assert (other.customer_id, other.status) == (survivor.pk, CreditLimit.Status.SUPERSEDED)
    # Receivables, orders and investigations follow the survivor, re-keyed.
    assert Order.objects.get().customer_id == survivor.pk
    moved = Investigation.objects.get()
    assert moved.customer_id == survivor.pk and moved.data_key_id == survivor.data_key_id
    assert moved.funding == "thin"
    assert selectors.credit_summary(survivor.pk).exposure == D("500.00")
    # The duplicate's account stays on the merged card; the survivor keeps its own.
    assert CreditAccount.objects.get(customer=survivor).status == "open"
    assert CreditAccount.objects.filter(customer=duplicate).count() == 1


def test_the_duplicates_only_limit_and_account_move_to_a_survivor_without_any(cast):
    survivor = complete_organisation(cast["owner"])
    duplicate = complete_organisation(cast["owner"])
    open_account(duplicate, cast)
    limit = approve_limit(duplicate, cast, "700.00")
    services.hold_place(actor=cast["owner"], customer=duplicate, reason="dispute")
    _merge(cast, survivor, duplicate)
    limit.refresh_from_db()
    assert (limit.customer_id, limit.status) == (survivor.pk, "active")
    assert CreditAccount.objects.get().customer_id == survivor.pk
    assert Hold.objects.get().customer_id == survivor.pk
    assert selectors.credit_summary(survivor.pk).on_hold is True


def test_a_past_breach_on_the_duplicate_carries_over(cast):
    survivor = complete_organisation(cast["owner"])
    duplicate = complete_organisation(cast["owner"])
    for customer in (survivor, duplicate):
        open_account(customer, cast)
    services.grade_facts_set(
        actor=cast["owner"], customer=duplicate, intermediate_wholesaler=False, past_breach=True
    )
    _merge(cast, survivor, duplicate)
    assert CreditAccount.objects.get(customer=survivor).past_breach is True
