"""Demo credit data for ``manage.py seed_demo``: open accounts with grades and limits,
receivables, an accepted and a blocked order, a hold, a limit request waiting for manager1
and one above the cap waiting for the general manager, an opening waiting for approval."""

from __future__ import annotations

import datetime
from decimal import Decimal

from crm import seeding

FILL = {
    "headquarters_address": "上海市浦东新区世纪大道100号",
    "trading_address": "上海市浦东新区世纪大道101号",
    "mailing_address": "上海市浦东新区世纪大道102号",
    "managers": "总经理、财务总监",
    "website": "https://example.cn",
    "founded_on": datetime.date(2005, 3, 1),
    "registered_capital": Decimal("5000000.00"),
    "employees": 320,
    "equipment_summary": "生产线两条",
    "real_estate_summary": "自有仓库",
    "management_age_structure": "40-55",
    "requested_credit_limit": Decimal("300000.00"),
}


def _complete(customer, actor):
    """Fill the card fields §6.1 requires that the demo card left blank."""
    from credit.services import missing_card_fields
    from customers import services as customer_services

    if not missing_card_fields(customer):
        return customer
    changes = {
        field: value for field, value in FILL.items() if getattr(customer, field) in (None, "")
    }
    if changes:
        customer_services.customer_update(
            actor=actor,
            customer_id=customer.pk,
            version=customer.version,
            changes=changes,
            reason="开户资料补全",
        )
    customer.refresh_from_db()
    return customer


@seeding.register("credit", order=30)
def seed_credit(*, stdout, password):
    from django.core.exceptions import ValidationError

    from credit import services
    from credit.models import CreditAccount
    from crm.models import User
    from customers.models import Customer

    if CreditAccount.objects.exists():
        stdout.write("  credit: already present, left as they are")
        return
    users = {
        u.username: u
        for u in User.objects.filter(
            username__in=["rep1", "rep2", "rep3", "manager1", "manager2", "gm"]
        )
    }
    if len(users) < 6:
        stdout.write("  credit: demo users missing, skipped")
        return
    organisations = {
        owner: list(
            Customer.objects.filter(kind=Customer.Kind.ORGANISATION, owner=users[owner])
            .exclude(status__in=["merged", "closed"])
            .order_by("pk")
        )
        for owner in ("rep1", "rep2", "rep3")
    }
    today = datetime.date.today()
    done = []

    def opened(customer, rep, manager):
        customer = _complete(customer, users[rep])
        account = services.account_submit(actor=users[rep], customer=customer)
        services.account_approve(
            actor=users[manager], account=account, comment="资料齐全，同意开户。"
        )
        services.account_approve(actor=users["gm"], account=account, conditions=[("contract", "")])
        return customer

    def limit(customer, rep, approver, amount):
        request = services.limit_request(
            actor=users[rep],
            customer=customer,
            amount=Decimal(amount),
            justification="老客户，回款及时。",
        )
        if approver:
            services.limit_approve(actor=users[approver], limit=request)
        return request

    def bill(customer, number, amount, days_ago):
        issued = today - datetime.timedelta(days=days_ago)
        services.invoice_create(
            actor=users["manager1"] if customer.owner.username != "rep3" else users["manager2"],
            customer=customer,
            number=number,
            issued_on=issued,
            due_on=issued + datetime.timedelta(days=30),
            amount=Decimal(amount),
        )

    try:
        north = organisations["rep1"] + organisations["rep2"]
        south = organisations["rep3"]
        pool = organisations["rep1"] + organisations["rep2"]
        a, b, c = pool[:3]
        d = organisations["rep2"][-1] if organisations["rep2"] else pool[3]
        # A: grade A, a large limit, receivables of several ages, an accepted order.
        a = opened(a, a.owner.username, "manager1")
        services.grade_confirm(
            actor=users["manager1"], customer=a, grade="A", reason="上市公司，经营稳定"
        )
        limit(a, a.owner.username, "manager1", "500000.00")
        for n, (amount, days) in enumerate(
            [("40000.00", 10), ("25000.00", 50), ("12000.00", 80), ("8000.00", 130)]
        ):
            bill(a, f"DEMO-A-{n + 1}", amount, days)
        services.order_create(
            actor=a.owner, customer=a, amount=Decimal("30000.00"), reference="PO-A-1"
        )
        # B: near its limit; an order over it is blocked and waits for manager1.
        b = opened(b, b.owner.username, "manager1")
        services.grade_confirm(actor=users["manager1"], customer=b, grade="B")
        limit(b, b.owner.username, "manager1", "100000.00")
        bill(b, "DEMO-B-1", "92000.00", 20)
        services.order_create(
            actor=b.owner, customer=b, amount=Decimal("15000.00"), reference="PO-B-1"
        )
        # C: a limit request waiting for manager1.
        rep_c = c.owner.username
        c = opened(c, rep_c, "manager1")
        limit(c, rep_c, None, "200000.00")
        # D: shipments on hold.
        rep_d = d.owner.username
        d = opened(d, rep_d, "manager1")
        limit(d, rep_d, "manager1", "80000.00")
        services.hold_place(actor=users[rep_d], customer=d, reason="货款争议，暂停发货")
        done += [a.code, b.code, c.code, d.code]
        # South: a request above the company cap waits for the general manager.
        if south:
            e = opened(south[0], "rep3", "manager2")
            limit(e, "rep3", None, "3000000.00")
            done.append(e.code)
        # An opening submitted, waiting for manager1.
        rest = [x for x in north if x.code not in done]
        if rest:
            f = _complete(rest[0], rest[0].owner)
            services.account_submit(actor=f.owner, customer=f)
            done.append(f.code)
    except (ValidationError, ValueError, IndexError) as error:
        stdout.write(f"  credit: stopped early ({type(error).__name__})")
    stdout.write("  credit: " + ", ".join(done))
