"""Test data of the privacy operations: a customer holding canary values everywhere."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.apps import apps
from django.utils import timezone

from customers import services
from customers.models import Customer
from customers.tests.factories import make_customer

CANARY_NAME = "金丝雀甲乙"
CANARY_PHONE = "13912348765"
CANARY_ID = "11010519491231002X"
CANARY_NOTE = "canary-note-患有哮喘"
CANARY_COMPLAINT = "canary-complaint-投诉内容"
CANARY_ORGANISATION = "金丝雀贸易有限公司"


def age(customer: Customer, *, years: int) -> None:
    """Make the customer (and its interactions) look untouched for ``years`` years."""
    past = timezone.now() - datetime.timedelta(days=365 * years + 2)
    Customer.objects.filter(pk=customer.pk).update(updated_at=past)
    customer.interactions.update(occurred_at=past)


def canary_customer(owner) -> Customer:
    """An individual with canary name, phone, ID number, an interaction note, sales lines
    and, when the complaints app is installed, a complaint description."""
    customer = make_customer(
        owner,
        name=CANARY_NAME,
        phone=CANARY_PHONE,
        documents=[services.DocumentInput("resident_id", CANARY_ID)],
    )
    services.interaction_log(actor=owner, customer=customer, kind="call", summary=CANARY_NOTE)
    customer.refresh_from_db()
    return customer


def sales(customer, amounts) -> None:
    if not apps.is_installed("analytics"):
        return
    from analytics.models import Product, SalesLine

    product, _ = Product.objects.get_or_create(code="P-1", defaults={"name": "Widget"})
    for n, amount in enumerate(amounts):
        SalesLine.objects.create(
            customer=customer,
            product=product,
            date=datetime.date(2020, 1, 1 + n),
            quantity=Decimal("1"),
            amount=Decimal(amount),
            cost=Decimal("1.00"),
            line_key=f"{customer.pk}-{n}",
        )


def sales_total() -> Decimal:
    if not apps.is_installed("analytics"):
        return Decimal("0")
    from django.db.models import Sum

    from analytics.models import SalesLine

    return SalesLine.objects.aggregate(total=Sum("amount"))["total"] or Decimal("0")


def complaint(customer, user, *, status="received"):
    """A complaint written directly (the complaints app is built alongside)."""
    if not apps.is_installed("complaints"):
        return None
    from complaints.models import Category, Complaint

    category = Category.objects.first() or Category.objects.create(code="other", name="Other")
    row = Complaint(
        code=f"T{customer.pk:06d}",
        customer=customer,
        data_key_id=customer.data_key_id,
        channel="phone",
        category=category,
        severity="low",
        received_by=user,
        status=status,
    )
    row.description = CANARY_COMPLAINT
    row.save()
    return row
