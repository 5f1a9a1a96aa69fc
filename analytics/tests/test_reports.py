"""The reports against DESIGN §6.7's worked examples, and their edge cases."""

import datetime
from decimal import Decimal

import pytest

from analytics import reports
from analytics.tests.factories import ProductFactory, estimate, line, snapshot
from crm import roles
from crm.tests.factories import UserFactory
from customers.tests.factories import make_customer, rep

pytestmark = pytest.mark.django_db

JAN_1, DEC_31 = datetime.date(2025, 1, 1), datetime.date(2025, 12, 31)
SEASONAL_EXAMPLE = [
    [80, 70, 100, 110, 120, 100, 90, 90, 110, 120, 130, 180],
    [90, 80, 110, 120, 130, 110, 100, 100, 120, 130, 150, 200],
    [100, 90, 120, 130, 140, 120, 110, 110, 130, 140, 170, 220],
]
SEASONAL_INDEX = "75.00 66.67 91.67 100.00 108.33 91.67 83.33 83.33 100.00 108.33 125.00 166.67"
SEASONAL_TARGETS = (
    "93.75 83.33 114.58 125.00 135.42 114.58 104.17 104.17 125.00 135.42 156.25 208.33"
)


def D(values):
    return [Decimal(v) for v in values.split()]


@pytest.fixture
def gm():
    user = UserFactory(role=roles.GENERAL_MANAGER)
    user.has_perm("warm the permission cache")
    return user


def abc_example():
    owner = rep()
    product = ProductFactory()
    customers = []
    for amount in (500, 200, 100, 80, 50, 40, 20, 10):
        customer = make_customer(owner)
        line(customer, product, "2025-03-01", amount)
        customers.append(customer)
    return owner, customers


def seasonal_example(customer, product, first_year=2022):
    for offset, months in enumerate(SEASONAL_EXAMPLE):
        for month, amount in enumerate(months, start=1):
            # Two lines a month, one of them a return: the sum is what counts.
            line(customer, product, datetime.date(first_year + offset, month, 3), amount + 5)
            line(customer, product, datetime.date(first_year + offset, month, 20), -5)


def test_abc_worked_example(gm, assert_queries):
    abc_example()
    scope = reports.Scope(user=gm, date_from=JAN_1, date_to=DEC_31)
    with assert_queries(default=1, keys=0):
        rows = reports.abc(scope)
    assert [r["abc_class"] for r in rows] == list("AAABBBCC")
    assert [r["sales"] for r in rows] == D("500 200 100 80 50 40 20 10")
    assert [r["cumulative_share_before"] for r in rows] == D("0 50 70 80 88 93 97 99")


def test_abc_ties_by_customer_code_and_thresholds_are_settings(gm, settings):
    owner, product = rep(), ProductFactory()
    first, second, third = (make_customer(owner) for _ in range(3))
    for customer in (third, first, second):
        line(customer, product, "2025-05-05", 100)
    rows = reports.abc(reports.Scope(user=gm, date_from=JAN_1, date_to=DEC_31))
    assert [r["code"] for r in rows] == sorted(c.code for c in (first, second, third))
    assert [r["abc_class"] for r in rows] == list("AAA")  # before: 0, 33.3, 66.7 %
    settings.ANALYTICS_ABC_A = "50"
    settings.ANALYTICS_ABC_B = "60"
    rows = reports.abc(reports.Scope(user=gm, date_from=JAN_1, date_to=DEC_31))
    assert [r["abc_class"] for r in rows] == list("AAC")


def test_abc_boundary_is_exact(gm):
    # 75 before the third customer: exactly the threshold, so B (P < 75 % is A).
    owner, product = rep(), ProductFactory()
    for amount in (50, 25, 25):
        line(make_customer(owner), product, "2025-01-10", amount)
    rows = reports.abc(reports.Scope(user=gm, date_from=JAN_1, date_to=DEC_31))
    assert [r["abc_class"] for r in rows] == list("AAB")


def test_abc_per_business_type(gm):
    from customers.models import BusinessType

    owner, product = rep(), ProductFactory()
    types = list(BusinessType.objects.order_by("code")[:2])
    a = make_customer(owner, business_type=types[0])
    b = make_customer(owner, business_type=types[1])
    line(a, product, "2025-02-02", 10)
    line(b, product, "2025-02-02", 990)
    rows = reports.abc(
        reports.Scope(user=gm, date_from=JAN_1, date_to=DEC_31, business_type=types[0].pk)
    )
    assert [(r["code"], r["abc_class"], r["share"]) for r in rows] == [
        (a.code, "A", Decimal("100.00"))
    ]


def test_composition_by_business_type(gm, assert_queries):
    from customers.models import BusinessType

    owner, product = rep(), ProductFactory()
    types = list(BusinessType.objects.order_by("code")[:2])
    line(make_customer(owner, business_type=types[0]), product, "2025-02-02", 300)
    line(make_customer(owner, business_type=types[1]), product, "2025-02-02", 100)
    line(make_customer(owner, business_type=types[1]), product, "2025-02-02", -25)
    scope = reports.Scope(user=gm, date_from=JAN_1, date_to=DEC_31)
    with assert_queries(default=1, keys=0):
        rows = reports.composition(scope)
    assert [(r["business_type"], r["sales"], r["share"]) for r in rows] == [
        (types[0].code, Decimal("300.00"), Decimal("80.00")),
        (types[1].code, Decimal("75.00"), Decimal("20.00")),
    ]


def test_composition_of_nothing_is_empty(gm):
    assert reports.composition(reports.Scope(user=gm, date_from=JAN_1, date_to=DEC_31)) == []


def test_share_of_company_sales_and_of_wallet(gm, assert_queries, settings):
    settings.ANALYTICS_TARGET_SHARE = "30"
    owner, product = rep(), ProductFactory()
    a, b = make_customer(owner), make_customer(owner)
    line(a, product, "2025-06-01", 600)
    line(b, product, "2025-06-01", 400)
    estimate(a, 2025, 2000)
    scope = reports.Scope(user=gm, date_from=JAN_1, date_to=DEC_31)
    with assert_queries(default=3, keys=0):
        report = reports.share(scope)
    first, second = report["rows"]
    assert (first["share"], first["share_of_wallet"], first["gap"]) == (
        Decimal("60.00"),
        Decimal("30.00"),
        Decimal("0.00"),
    )
    assert (second["share"], second["share_of_wallet"]) == (Decimal("40.00"), None)
    # Half of a leap year (183 of 366 days): half the annual estimate.
    line(a, product, "2024-03-01", 100)
    estimate(a, 2024, 4000)
    half = reports.share(
        reports.Scope(
            user=gm, date_from=datetime.date(2024, 1, 1), date_to=datetime.date(2024, 7, 1)
        )
    )
    assert (half["rows"][0]["estimate"], half["rows"][0]["share_of_wallet"]) == (
        Decimal("2000.00"),
        Decimal("5.00"),
    )


def test_share_of_company_sales_counts_customers_the_user_cannot_see():
    owner, other, product = rep(), rep(), ProductFactory()
    mine = make_customer(owner)
    line(mine, product, "2025-06-01", 250)
    line(make_customer(other), product, "2025-06-01", 750)
    report = reports.share(reports.Scope(user=owner, date_from=JAN_1, date_to=DEC_31))
    assert [(r["code"], r["share"]) for r in report["rows"]] == [(mine.code, Decimal("25.00"))]


def test_seasonal_worked_example(gm, assert_queries):
    customer, product = make_customer(rep()), ProductFactory()
    seasonal_example(customer, product)
    scope = reports.Scope(user=gm, date_from=JAN_1, date_to=DEC_31, customer=customer.pk)
    with assert_queries(default=1, keys=0):
        report = reports.seasonal(scope, years=[2022, 2023, 2024], target=Decimal("1500"))
    assert report["monthly_sales"] == [[Decimal(v) for v in year] for year in SEASONAL_EXAMPLE]
    assert report["index"] == D(SEASONAL_INDEX)
    assert sum(report["index"]) == Decimal("1200.00")
    assert report["targets"] == D(SEASONAL_TARGETS)
    assert sum(report["targets"]) == Decimal("1500")


def test_seasonal_for_the_company_and_a_business_type(gm):
    customer, product = make_customer(rep()), ProductFactory()
    seasonal_example(customer, product)
    company = reports.seasonal(
        reports.Scope(user=gm, date_from=JAN_1, date_to=DEC_31), years=[2022, 2023, 2024]
    )
    assert company["index"] == D(SEASONAL_INDEX)
    typed = reports.seasonal(
        reports.Scope(
            user=gm, date_from=JAN_1, date_to=DEC_31, business_type=customer.business_type_id
        ),
        years=[2022, 2023, 2024],
    )
    assert typed["index"] == D(SEASONAL_INDEX)


def test_a_month_without_sales_is_a_zero(gm):
    customer, product = make_customer(rep()), ProductFactory()
    for year in (2022, 2023, 2024):
        for month in range(1, 13):
            if month != 2:
                line(customer, product, datetime.date(year, month, 1), 100)
    report = reports.seasonal(
        reports.Scope(user=gm, date_from=JAN_1, date_to=DEC_31),
        years=[2022, 2023, 2024],
        target=Decimal("1000"),
    )
    assert report["index"][1] == Decimal("0.00")
    assert report["index"][0] == Decimal("109.09")
    assert sum(report["targets"]) == Decimal("1000")
    assert report["targets"][1] == Decimal("0")


def test_fewer_than_three_years_is_not_enough_data(gm):
    customer, product = make_customer(rep()), ProductFactory()
    for year in (2023, 2024):
        line(customer, product, datetime.date(year, 5, 1), 100)
    report = reports.seasonal(
        reports.Scope(user=gm, date_from=JAN_1, date_to=DEC_31, customer=customer.pk),
        years=[2022, 2023, 2024],
        target=Decimal("100"),
    )
    assert report["index"] is None and report["targets"] is None
    assert report["message"] == "not enough data"


def test_zero_total_is_not_enough_data(gm):
    customer, product = make_customer(rep()), ProductFactory()
    for year in (2022, 2023, 2024):
        line(customer, product, datetime.date(year, 5, 1), 100)
        line(customer, product, datetime.date(year, 6, 1), -100)
    report = reports.seasonal(
        reports.Scope(user=gm, date_from=JAN_1, date_to=DEC_31), years=[2022, 2023, 2024]
    )
    assert report["index"] is None and report["message"] == "not enough data"


def test_split_target_whose_naive_rounding_does_not_add_up():
    thirds = [reports.Fraction(1, 3)] * 3
    assert reports.split_target(Decimal("100"), thirds) == D("33.34 33.33 33.33")
    sixths = [reports.Fraction(1, 6)] * 6
    assert sum(reports.split_target(Decimal("0.05"), sixths)) == Decimal("0.05")


def test_products_worked_example(gm, assert_queries):
    customer = make_customer(rep())
    p1, p2, p3 = (ProductFactory(code=code) for code in ("P1", "P2", "P3"))
    line(customer, p1, "2025-04-04", 600, cost=450)
    line(customer, p2, "2025-04-04", 300, cost=180)
    line(customer, p3, "2025-04-04", 100, cost=90)
    snapshot(customer, p1, "2025-04", 100, 200)
    snapshot(customer, p2, "2025-04", 50, 70)
    snapshot(customer, p3, "2025-04", 100, 100)
    scope = reports.Scope(
        user=gm,
        date_from=datetime.date(2025, 4, 1),
        date_to=datetime.date(2025, 4, 30),
        customer=customer.pk,
    )
    with assert_queries(default=2, keys=0):
        rows = reports.products(scope)
    assert [r["code"] for r in rows] == ["P1", "P2", "P3"]
    assert [r["margin"] for r in rows] == D("25.00 40.00 10.00")
    assert [r["turnover"] for r in rows] == D("4.00 5.00 1.00")
    assert [r["cross_ratio"] for r in rows] == D("1.00 2.00 0.10")
    assert [r["share"] for r in rows] == D("60.00 30.00 10.00")
    assert [r["cumulative_share"] for r in rows] == D("60.00 90.00 100.00")
    assert [r["contribution_ratio"] for r in rows] == D("0.60 0.60 0.01")
    assert [r["gross_profit"] for r in rows] == D("150.00 120.00 10.00")


def test_products_without_stock_have_no_turnover(gm):
    customer, product = make_customer(rep()), ProductFactory()
    line(customer, product, "2025-04-04", 100, cost=60)
    (row,) = reports.products(reports.Scope(user=gm, date_from=JAN_1, date_to=DEC_31))
    assert row["turnover"] is None and row["cross_ratio"] is None
    assert row["margin"] == Decimal("40.00")


def test_products_sold_to_one_customer_and_not_another(gm, assert_queries):
    owner = rep()
    a, b = make_customer(owner), make_customer(owner)
    p1, p2 = ProductFactory(code="X1"), ProductFactory(code="X2")
    line(a, p1, "2025-01-05", 10)
    line(a, p2, "2025-01-05", 10)
    line(b, p2, "2025-01-05", 10)
    with assert_queries(default=1):
        codes = [
            p.code
            for p in reports.products_not_shared(
                user=gm, customer=a.pk, other=b.pk, date_from=JAN_1, date_to=DEC_31
            )
        ]
    assert codes == ["X1"]


def test_reports_cover_only_what_the_user_may_see(assert_queries):
    from crm.tests.factories import TeamFactory
    from customers.tests.factories import manager_of

    north, south = TeamFactory(name="North"), TeamFactory(name="South")
    north_rep, other_north_rep, south_rep = rep(team=north), rep(team=north), rep(team=south)
    manager = manager_of(north)
    product = ProductFactory()
    mine = make_customer(north_rep)
    colleague = make_customer(other_north_rep)
    southern = make_customer(south_rep)
    for customer, amount in ((mine, 100), (colleague, 200), (southern, 300)):
        line(customer, product, "2025-02-02", amount)

    def codes(user, **kwargs):
        scope = reports.Scope(user=user, date_from=JAN_1, date_to=DEC_31, **kwargs)
        return sorted(r["code"] for r in reports.abc(scope))

    assert codes(north_rep) == [mine.code]
    assert codes(manager) == sorted([mine.code, colleague.code])
    assert codes(manager, rep=north_rep.pk) == [mine.code]
    assert codes(manager, team=south.pk) == []
    north_rep.has_perm("warm")
    with assert_queries(default=2, keys=0):  # the rep's owners, then the report
        reports.abc(reports.Scope(user=north_rep, date_from=JAN_1, date_to=DEC_31))
