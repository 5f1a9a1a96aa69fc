"""Orders submitted at the same moment never pass the limit together (PostgreSQL: the
customer's credit row is locked before the exposure is read)."""

import threading
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connections

from credit import selectors, services
from credit.models import Order
from credit.tests.factories import people, trading_customer

POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL row locks and concurrency"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

THREADS = 8


def test_parallel_orders_never_pass_the_limit_together():
    cast = people()
    customer = trading_customer(cast, "1000.00")
    rep = cast["owner"]
    start = threading.Barrier(THREADS, timeout=30)
    errors = []

    def place(n):
        try:
            start.wait()  # every thread asks at the same moment
            services.order_create(
                actor=rep, customer=customer, amount=Decimal("300.00"), reference=f"PO-{n}"
            )
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(repr(error))
        finally:
            for alias in connections:
                connections[alias].close()

    threads = [threading.Thread(target=place, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    accepted = Order.objects.filter(customer=customer, status=Order.Status.ACCEPTED)
    assert Order.objects.filter(customer=customer).count() == THREADS
    assert accepted.count() == 3  # 3 × 300 = 900 ≤ 1000; a fourth would be 1200
    total = sum(order.amount for order in accepted)
    assert total <= Decimal("1000.00")
    assert selectors.credit_summary(customer.pk).exposure == total
