"""Complaints for tests, made through the services so every invariant holds."""

from __future__ import annotations

import datetime

from django.utils import timezone

from complaints import services
from complaints.models import Category
from crm import roles
from crm.tests.factories import UserFactory
from customers.tests.factories import make_customer


def service_staff(**kwargs):
    return UserFactory(role=roles.SERVICE_STAFF, **kwargs)


def service_manager(**kwargs):
    return UserFactory(role=roles.SERVICE_MANAGER, **kwargs)


def aware(text: str) -> datetime.datetime:
    """``"2026-11-27 16:00"`` in the project's time zone."""
    return timezone.make_aware(datetime.datetime.fromisoformat(text))


def make_complaint(
    *,
    actor=None,
    customer=None,
    caller: bool = False,
    category: str = "delivery",
    severity: str = "medium",
    channel: str = "phone",
    description: str = "货物破损，客户要求退换。",
    received_at=None,
    **kwargs,
):
    """A complaint logged by ``actor`` (a new service staff member by default) for
    ``customer`` (a new card unless ``caller``: then for a caller not yet a customer). The
    customer is looked up by code first, as the service desk does."""
    actor = actor or service_staff()
    if customer is None and not caller:
        customer = make_customer()
    if customer is not None:
        services.caller_lookup(actor=actor, by="code", value=customer.code, purpose="log_complaint")
    values = {"caller_name": "李四", "caller_phone": "13912345678"} if caller else {}
    values.update(kwargs)
    return services.complaint_create(
        actor=actor,
        customer_id=customer.pk if customer else None,
        channel=channel,
        category=Category.objects.get(code=category),
        severity=severity,
        description=description,
        received_at=received_at,
        **values,
    )
