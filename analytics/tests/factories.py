"""Products, sales lines and stock snapshots for tests (facts are written directly: they
are plain rows; the services' own tests go through the services)."""

from __future__ import annotations

import datetime
import itertools
import uuid
from decimal import Decimal

import factory

from analytics.models import Product, PurchaseEstimate, SalesLine, StockSnapshot

_keys = itertools.count(1)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"P{n:04d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    category = "general"
    standard_cost = Decimal("1.00")


def line(customer, product, date, amount, cost=None, quantity=1, **kwargs) -> SalesLine:
    """One sales line; ``date`` a date or ``"YYYY-MM-DD"``."""
    if isinstance(date, str):
        date = datetime.date.fromisoformat(date)
    return SalesLine.objects.create(
        customer=customer,
        product=product,
        date=date,
        quantity=Decimal(str(quantity)),
        amount=Decimal(str(amount)),
        cost=Decimal(str(cost if cost is not None else 0)),
        line_key=uuid.uuid4().hex,
        **kwargs,
    )


def snapshot(customer, product, month, opening, closing, **kwargs) -> StockSnapshot:
    if isinstance(month, str):
        month = datetime.date.fromisoformat(month + "-01")
    return StockSnapshot.objects.create(
        customer=customer,
        product=product,
        month=month,
        opening_quantity=Decimal(str(kwargs.pop("opening_quantity", opening))),
        closing_quantity=Decimal(str(kwargs.pop("closing_quantity", closing))),
        opening_value=Decimal(str(opening)),
        closing_value=Decimal(str(closing)),
        **kwargs,
    )


def estimate(customer, year, amount, source=PurchaseEstimate.Source.ASKED) -> PurchaseEstimate:
    return PurchaseEstimate.objects.create(
        customer=customer, year=year, amount=Decimal(str(amount)), source=source
    )
