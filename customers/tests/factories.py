"""Customers for tests, created through the service so every invariant holds."""

from __future__ import annotations

import itertools

from crm import roles
from crm.models import Team
from crm.tests.factories import UserFactory
from customers import services
from customers.models import BusinessType, Customer, Tier
from customers.synthetic import mobile, resident_id, social_credit_code

_counter = itertools.count(1)


def rep(team: Team | None = None, **kwargs):
    return UserFactory(role=roles.SALES_REP, team=team, **kwargs)


def manager_of(team: Team, **kwargs):
    manager = UserFactory(role=roles.SALES_MANAGER, team=team, **kwargs)
    team.manager = manager
    team.save(update_fields=["manager"])
    return manager


def make_customer(
    owner=None,
    *,
    kind=Customer.Kind.INDIVIDUAL,
    name=None,
    phone=None,
    documents=None,
    business_type=None,
    tier=None,
    **kwargs,
) -> Customer:
    owner = owner or rep()
    n = next(_counter)
    if documents is None:
        documents = (
            [services.DocumentInput("resident_id", resident_id())]
            if kind == Customer.Kind.INDIVIDUAL
            else [services.DocumentInput("social_credit_code", social_credit_code())]
        )
    return services.customer_create(
        actor=kwargs.pop("actor", owner),
        owner=owner,
        kind=kind,
        name=name or f"客户{n}",
        phone=mobile() if phone is None else phone,
        business_type=business_type or BusinessType.objects.get(code="other"),
        tier=tier or Tier.objects.get(code="b"),
        documents=documents,
        **kwargs,
    )


def company_people() -> dict:
    """Team North (its manager, the owner and another rep), team South (manager and rep),
    and one user of each overseeing role: the cast of the role matrices."""
    from crm.tests.factories import TeamFactory

    north, south = TeamFactory(name="North"), TeamFactory(name="South")
    return {
        "owner": rep(team=north),
        "north_manager": manager_of(north),
        "north_rep": rep(team=north),
        "south_manager": manager_of(south),
        "south_rep": rep(team=south),
        "gm": UserFactory(role=roles.GENERAL_MANAGER),
        "service": UserFactory(role=roles.SERVICE_STAFF),
        "dpo": UserFactory(role=roles.DPO),
        "auditor": UserFactory(role=roles.AUDITOR),
        "admin": UserFactory(role=roles.ADMIN),
    }


def api_client_for(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client
