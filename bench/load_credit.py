"""Bench data of the credit app: open accounts with an active limit on the bench's
customers, and 100,000 invoices spread over them (a quarter partly paid, ages up to a
year), written as the services would write them.

Rows are made in Python and written with ``bulk_create_with_history`` (one ``+`` history
row each, as a service save leaves). No free text is written, so no data key is opened:
each row carries its customer's ``data_key_id`` as the services copy it. Resumable:
invoices already loaded (number prefix ``IB``) are counted and not made again.

Entry points (the lead hooks them into ``bench.loader``):

* ``load_credit(count: int = 100_000, *, customers: int = 2_000, batch: int = 2_000) -> dict``
  — accounts, limits and invoices made, and seconds;
* ``bench_credit_customer(owner_username: str = "") -> int`` — the id of an open account
  with a limit large enough for the order scenario (``bench.scenarios_credit``), owned by
  ``owner_username`` when given.
"""

from __future__ import annotations

import datetime
import random
import time
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

INVOICES = 100_000
PREFIX = "IB"
BENCH_LIMIT = Decimal("1000000000.00")  # the scenario's customer never runs out


def _open_accounts(customers, now, gm) -> tuple[int, int]:
    from credit.models import CreditAccount, CreditLimit

    have = set(
        CreditAccount.objects.filter(customer__in=[c.pk for c in customers]).values_list(
            "customer_id", flat=True
        )
    )
    fresh = [c for c in customers if c.pk not in have]
    accounts = [
        CreditAccount(
            customer_id=c.pk,
            data_key_id=c.data_key_id,
            status=CreditAccount.Status.OPEN,
            currency="CNY",
            submitted_by_id=c.owner_id,
            submitted_at=now,
            head_office_decided_by=gm,
            head_office_decided_at=now,
            opened_at=now,
            grade="B",
        )
        for c in fresh
    ]
    # Each owner's first customer gets a limit no order scenario can exhaust, so the order
    # scenario finds one for whichever rep the load run signs in as.
    first_of_owner = {}
    for c in fresh:
        first_of_owner.setdefault(c.owner_id, c.pk)
    limits = [
        CreditLimit(
            customer_id=c.pk,
            data_key_id=c.data_key_id,
            amount=BENCH_LIMIT if first_of_owner[c.owner_id] == c.pk else Decimal("500000.00"),
            currency="CNY",
            status=CreditLimit.Status.ACTIVE,
            requested_by_id=c.owner_id,
            decided_by=gm,
            decided_at=now,
        )
        for c in fresh
    ]
    bulk_create_with_history(accounts, CreditAccount, batch_size=1_000)
    bulk_create_with_history(limits, CreditLimit, batch_size=1_000)
    return len(accounts), len(limits)


def load_credit(count: int = INVOICES, *, customers: int = 2_000, batch: int = 2_000) -> dict:
    from credit.models import Invoice
    from crm.models import User
    from customers.models import Customer

    started = time.monotonic()
    now = timezone.now()
    today = timezone.localdate()
    gm = User.objects.filter(groups__name="general_manager").order_by("pk").first()
    chosen = list(
        Customer.objects.exclude(status="merged")
        .order_by("pk")
        .only("pk", "data_key_id", "owner_id")[:customers]
    )
    if not chosen or gm is None:
        return {"accounts": 0, "limits": 0, "invoices": 0, "seconds": 0.0}
    with transaction.atomic():
        accounts, limits = _open_accounts(chosen, now, gm)
    done = Invoice.objects.filter(number__startswith=PREFIX).count()
    rng = random.Random(20261129)  # noqa: S311 (reproducible bench data)
    made = 0
    for start in range(done, count, batch):
        rows = []
        for n in range(start, min(start + batch, count)):
            customer = chosen[1 + n % (len(chosen) - 1)] if len(chosen) > 1 else chosen[0]
            issued = today - datetime.timedelta(days=rng.randrange(0, 365))
            amount = Decimal(rng.randrange(10_000, 5_000_000)) / 100
            paid = amount if n % 2 else (amount / 2).quantize(Decimal("0.01")) if n % 4 else 0
            rows.append(
                Invoice(
                    customer_id=customer.pk,
                    data_key_id=customer.data_key_id,
                    number=f"{PREFIX}{n:08d}",
                    issued_on=issued,
                    due_on=issued + datetime.timedelta(days=30),
                    amount=amount,
                    paid_amount=Decimal(paid),
                    currency="CNY",
                )
            )
        with transaction.atomic():
            bulk_create_with_history(rows, Invoice, batch_size=batch)
        made += len(rows)
    return {
        "accounts": accounts,
        "limits": limits,
        "invoices": made,
        "seconds": round(time.monotonic() - started, 1),
    }


def bench_credit_customer(owner_username: str = "") -> int:
    """The customer of the order scenario: open, with the bench's very large limit."""
    from credit.models import CreditLimit

    rows = CreditLimit.objects.filter(status="active", amount=BENCH_LIMIT)
    if owner_username:
        rows = rows.filter(customer__owner__username=owner_username)
    return rows.order_by("pk").values_list("customer_id", flat=True).first() or 0
