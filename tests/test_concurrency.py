"""Concurrency on PostgreSQL: two requests that both pass the duplicate check cannot both
create the customer (CI runs this on PostgreSQL; SQLite serialises writers anyway)."""

import threading

import pytest
from django.conf import settings
from django.db import connections

from customers import services
from customers.models import BusinessType, Customer
from customers.services import cards
from customers.tests.factories import rep

POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")

# Skipped before any database set-up: a transactional test's clean-up on SQLite would
# meet the append-only audit triggers.
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL row locks and concurrency"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_racing_creates_of_one_phone_give_one_card_and_one_clear_refusal(monkeypatch):
    owner = rep()
    other_type = BusinessType.objects.get(code="other")
    both_checked = threading.Barrier(2, timeout=20)
    real_check = cards.check_duplicates
    first_look = threading.local()

    def racing_check(**kwargs):
        if not getattr(first_look, "done", False):
            first_look.done = True
            real_check(**kwargs)  # nothing there yet for either request
            both_checked.wait()  # both passed the check before either writes
        else:
            real_check(**kwargs)

    monkeypatch.setattr(cards, "check_duplicates", racing_check)
    outcomes = []

    def create(name):
        try:
            services.customer_create(
                actor=owner,
                kind="individual",
                name=name,
                phone="13812345678",
                business_type=other_type,
            )
            outcomes.append("created")
        except services.DuplicateCustomer:
            outcomes.append("duplicate")
        finally:
            for alias in connections:
                connections[alias].close()

    threads = [threading.Thread(target=create, args=(name,)) for name in ("甲", "乙")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["created", "duplicate"]
    assert Customer.objects.count() == 1
