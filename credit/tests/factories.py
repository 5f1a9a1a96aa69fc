"""Credit data for tests, made through the services so every invariant holds."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

from credit import services
from credit.models import CreditAccount, CreditLimit
from crm import roles
from crm.tests.factories import UserFactory
from customers.models import Customer
from customers.tests.factories import company_people, make_customer

_numbers = itertools.count(1)

COMPLETE_ORGANISATION = {
    "headquarters_address": "上海市浦东新区世纪大道1号",
    "trading_address": "上海市浦东新区世纪大道2号",
    "mailing_address": "上海市浦东新区世纪大道3号",
    "managers": "总经理 王五",
    "website": "https://example.com",
    "founded_on": datetime.date(2001, 5, 1),
    "registered_capital": Decimal("5000000.00"),
    "employees": 250,
    "equipment_summary": "CNC lathes",
    "real_estate_summary": "Own warehouse",
    "management_age_structure": "40-60",
    "requested_credit_limit": Decimal("200000.00"),
}


def complete_organisation(owner, **overrides) -> Customer:
    """An organisation whose card holds every field §6.1 requires."""
    return make_customer(
        owner,
        kind=Customer.Kind.ORGANISATION,
        email="buyer@example.com",
        **{**COMPLETE_ORGANISATION, **overrides},
    )


def people() -> dict:
    """The role matrix's cast (``company_people``) and a second general manager, so that
    one can request what the other approves."""
    cast = company_people()
    cast["gm2"] = UserFactory(role=roles.GENERAL_MANAGER)
    return cast


def open_account(customer, cast) -> CreditAccount:
    """Submit (owner), approve (team manager), approve (general manager)."""
    account = services.account_submit(actor=customer.owner, customer=customer)
    manager = customer.owner.team.manager if customer.owner.team_id else cast["gm2"]
    services.account_approve(actor=manager, account=account)
    return services.account_approve(actor=cast["gm"], account=account)


def active_limit(customer, cast, amount="100000.00") -> CreditLimit:
    """A limit requested by the owner and approved by a manager who may."""
    limit = services.limit_request(
        actor=customer.owner,
        customer=customer,
        amount=Decimal(amount),
        justification="steady buyer",
    )
    approver = cast["gm"] if limit.needs_general_manager else customer.owner.team.manager
    return services.limit_approve(actor=approver, limit=limit)


def trading_customer(cast, amount="100000.00", **overrides) -> Customer:
    """An organisation owned by ``cast["owner"]`` with an open account and an active limit."""
    customer = complete_organisation(cast["owner"], **overrides)
    open_account(customer, cast)
    active_limit(customer, cast, amount)
    return customer


def invoice(customer, actor, amount="1000.00", **kwargs):
    today = datetime.date.today()
    return services.invoice_create(
        actor=actor,
        customer=customer,
        number=kwargs.pop("number", f"INV{next(_numbers):06d}"),
        issued_on=kwargs.pop("issued_on", today),
        due_on=kwargs.pop("due_on", today + datetime.timedelta(days=30)),
        amount=Decimal(amount),
        **kwargs,
    )
