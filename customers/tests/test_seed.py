"""The demo company's customers."""

import io

import pytest
from django.core.management import call_command

from customers.models import Customer, IdentityDocument
from customers.validators import is_valid_resident_id, is_valid_social_credit_code

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_believable_customers():
    call_command("seed_demo", stdout=io.StringIO())
    customers = Customer.objects.select_related("owner", "business_type")
    assert customers.count() >= 30
    assert {c.owner.username for c in customers} == {"rep1", "rep2", "rep3"}
    assert len({c.business_type.code for c in customers}) >= 6
    for document in IdentityDocument.objects.all():
        check = (
            is_valid_resident_id
            if document.doc_type == "resident_id"
            else is_valid_social_credit_code
        )
        assert check(document.number)
    sample = customers.filter(kind="individual").first()
    assert sample.consents.exists() and sample.interactions.exists()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in sample.name)


def test_seed_demo_interactions_fit_each_customers_trade():
    """Issue 13 item 8: a tea shop talks about tea, a parts dealer about oil and tyres —
    never a parents' meeting at a car-parts dealer."""
    from customers.seed import ORGANISATIONS, TRADES, trade_of

    call_command("seed_demo", stdout=io.StringIO())
    customers = Customer.objects.select_related("business_type").prefetch_related(
        "interactions", "contacts"
    )
    seen_trades = set()
    for customer in customers:
        trade = trade_of(customer)
        seen_trades.add(trade)
        role, topics = TRADES[trade]
        allowed = {(kind, outcome, summary) for kind, outcome, summary in topics}
        interactions = list(customer.interactions.all())
        assert interactions, customer.code
        for interaction in interactions:
            assert (interaction.kind, interaction.outcome, interaction.summary) in allowed
        assert len({i.summary for i in interactions}) == len(interactions)  # no repeats
        if customer.kind == Customer.Kind.ORGANISATION:
            assert [contact.role for contact in customer.contacts.all()] == [role]
    assert seen_trades == {trade for *_, trade in ORGANISATIONS} | {"individual"}
    tea = next(c for c in customers if c.name == "老街茶叶专卖店")
    assert all("茶" in i.summary for i in tea.interactions.all())


def test_seed_demo_users_have_chinese_display_names():
    from crm.models import User

    call_command("seed_demo", stdout=io.StringIO())
    rep1 = User.objects.get(username="rep1")
    assert (rep1.last_name, rep1.first_name, rep1.get_full_name()) == ("孙", "军", "孙军")
    for user in User.objects.all():
        name = user.get_full_name()
        assert name and all("\u4e00" <= ch <= "\u9fff" for ch in name), user.username


def test_demo_logins_lists_the_names_in_aligned_columns():
    out = io.StringIO()
    call_command("demo_logins", stdout=out)
    lines = out.getvalue().splitlines()
    header = next(line for line in lines if line.strip().startswith("login"))
    rep1 = next(line for line in lines if line.strip().startswith("rep1 "))
    assert "孙军" in rep1 and "Sales rep" in rep1 and "North" in rep1
    # A Chinese character takes two columns: the role starts under its header.
    import unicodedata

    def column(line, text):
        before = line[: line.index(text)]
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in before)

    assert column(rep1, "Sales rep") == column(header, "role")


def test_seed_demo_sales_are_the_goods_of_each_trade():
    from analytics.models import SalesLine
    from analytics.seed import RANGE
    from customers.seed import trade_of

    call_command("seed_demo", stdout=io.StringIO())
    bought = {}
    for customer_id, code in SalesLine.objects.values_list("customer_id", "product__code"):
        bought.setdefault(customer_id, set()).add(code)
    customers = Customer.objects.select_related("business_type").in_bulk(list(bought))
    for customer_id, codes in bought.items():
        assert codes <= set(RANGE[trade_of(customers[customer_id])])
