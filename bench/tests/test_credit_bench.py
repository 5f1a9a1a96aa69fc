"""The credit bench loader writes what the services would, and the scenario's customer is
ready for orders."""

from decimal import Decimal

import pytest

from bench.load_credit import bench_credit_customer, load_credit
from credit import selectors, services
from credit.models import Invoice
from customers.tests.factories import company_people, make_customer

pytestmark = pytest.mark.django_db


def test_load_credit_is_resumable_and_the_scenario_customer_takes_orders():
    cast = company_people()
    for _n in range(3):
        make_customer(cast["owner"])
    first = load_credit(40, customers=3, batch=15)
    assert (first["accounts"], first["invoices"]) == (3, 40)
    again = load_credit(40, customers=3, batch=15)
    assert (again["accounts"], again["invoices"]) == (0, 0)
    assert Invoice.objects.count() == 40
    customer_id = bench_credit_customer()
    assert customer_id
    from customers.models import Customer

    order = services.order_create(
        actor=cast["owner"],
        customer=Customer.objects.get(pk=customer_id),
        amount=Decimal("10.00"),
        reference="B",
    )
    assert order.status == "accepted"
    assert selectors.credit_summary(customer_id).orders == Decimal("10.00")
