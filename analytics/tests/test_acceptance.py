"""Issue 11 "Done when": DESIGN §6.7's worked examples and edge cases through the API *and*
the pages, and exact query counts (both databases) on every report page and report API,
the same for two data sets of different sizes."""

import datetime

import pytest
from django.test import Client

from analytics.tests.factories import ProductFactory, estimate, line, snapshot
from analytics.tests.test_reports import (
    SEASONAL_EXAMPLE,
    SEASONAL_INDEX,
    SEASONAL_TARGETS,
    abc_example,
    seasonal_example,
)
from crm import roles
from crm.tests.factories import UserFactory
from customers.models import BusinessType
from customers.tests.factories import api_client_for, make_customer, rep

pytestmark = pytest.mark.django_db

YEAR = {"date_from": "2025-01-01", "date_to": "2025-12-31"}
YEARS = "2022,2023,2024"


@pytest.fixture
def gm():
    return UserFactory(role=roles.GENERAL_MANAGER)


def page(user, **params):
    client = Client()
    client.force_login(user)
    answer = client.get("/analytics/", params)
    assert answer.status_code == 200
    return answer


def api(user, report, **params):
    answer = api_client_for(user).get(f"/api/v1/analytics/reports/{report}/", params)
    assert answer.status_code == 200, answer.content
    return answer.json()


def column(answer, index):
    return [row[index] for row in answer.context["table"][1]]


def products_example():
    customer = make_customer(rep())
    for code, sales, cost, opening, closing in (
        ("P1", 600, 450, 100, 200),
        ("P2", 300, 180, 50, 70),
        ("P3", 100, 90, 100, 100),
    ):
        product = ProductFactory(code=code)
        line(customer, product, "2025-04-04", sales, cost=cost)
        snapshot(customer, product, "2025-04", opening, closing)
    return customer


def composition_example():
    owner, product = rep(), ProductFactory()
    kinds = list(BusinessType.objects.order_by("code")[:2])
    line(make_customer(owner, business_type=kinds[0]), product, "2025-02-02", 300)
    line(make_customer(owner, business_type=kinds[1]), product, "2025-02-02", 100)
    return kinds


# --- the worked examples on the pages -----------------------------------------------------


def test_composition_page(gm):
    kinds = composition_example()
    answer = page(gm, report="composition", **YEAR)
    assert answer.context["table"][1] == [
        [kinds[0].code, kinds[0].name, "300.00", "75.00"],
        [kinds[1].code, kinds[1].name, "100.00", "25.00"],
    ]
    assert answer.context["chart"]["type"] == "doughnut"


def test_abc_page_shares_and_cumulative_shares(gm):
    abc_example()
    answer = page(gm, report="abc", **YEAR)
    assert column(answer, 2) == ["500.00", "200.00", "100.00", "80.00", "50.00", "40.00",
                                 "20.00", "10.00"]  # fmt: skip
    assert column(answer, 4) == ["0.00", "50.00", "70.00", "80.00", "88.00", "93.00", "97.00",
                                 "99.00"]  # fmt: skip
    assert column(answer, 5) == list("AAABBBCC")


def test_share_page_and_api(gm, settings):
    settings.ANALYTICS_TARGET_SHARE = "30"
    owner, product = rep(), ProductFactory()
    a, b = make_customer(owner), make_customer(owner)
    line(a, product, "2025-06-01", 600)
    line(b, product, "2025-06-01", 400)
    estimate(a, 2025, 2000)
    answer = page(gm, report="share", **YEAR)
    assert answer.context["table"][1] == [
        [a.code, "600.00", "60.00", "2000.00", "30.00", "30.00", "0.00"],
        [b.code, "400.00", "40.00", "", "", "30.00", ""],
    ]
    body = api(gm, "share", **YEAR)
    assert body["company_sales"] == "1000.00"
    assert [(r["share"], r["share_of_wallet"]) for r in body["rows"]] == [
        ("60.00", "30.00"),
        ("40.00", None),
    ]


def test_seasonal_page_index_and_targets(gm):
    customer = make_customer(rep())
    seasonal_example(customer, ProductFactory())  # with returns: two lines a month
    answer = page(gm, report="seasonal", customer=customer.pk, years=YEARS, target="1500")
    assert column(answer, 1) == [f"{v}.00" for v in SEASONAL_EXAMPLE[0]]
    assert column(answer, 5) == SEASONAL_INDEX.split()
    assert column(answer, 6) == SEASONAL_TARGETS.split()
    assert answer.context["chart"]["type"] == "line"


def test_products_page_worked_example(gm):
    customer = products_example()
    answer = page(
        gm, report="products", customer=customer.pk, date_from="2025-04-01", date_to="2025-04-30"
    )
    rows = answer.context["table"][1]
    assert [row[0] for row in rows] == ["P1", "P2", "P3"]
    assert [row[5] for row in rows] == ["25.00", "40.00", "10.00"]  # margin
    assert [row[6] for row in rows] == ["150.00", "60.00", "100.00"]  # average stock
    assert [row[7] for row in rows] == ["4.00", "5.00", "1.00"]  # turnover
    assert [row[8] for row in rows] == ["1.00", "2.00", "0.10"]  # cross ratio
    assert [row[9] for row in rows] == ["60.00", "30.00", "10.00"]  # share
    assert [row[10] for row in rows] == ["60.00", "90.00", "100.00"]  # cumulative share
    assert [row[11] for row in rows] == ["0.60", "0.60", "0.01"]  # contribution
    # Ties in contribution (P1 and P2, 0.60): the first ranked is named.
    assert answer.context["top_contribution"]["code"] == "P1"
    assert 'id="top-contribution"' in answer.content.decode()


# --- edge cases through the API and the pages ---------------------------------------------


def test_a_month_without_sales_through_the_api_and_the_page(gm):
    customer, product = make_customer(rep()), ProductFactory()
    for year in (2022, 2023, 2024):
        for month in range(1, 13):
            if month != 2:
                line(customer, product, datetime.date(year, month, 1), 100)
    body = api(gm, "seasonal", customer=customer.pk, years=YEARS, target="1000")
    assert [year[1] for year in body["monthly_sales"]] == ["0.00"] * 3
    assert body["index"][:3] == ["109.09", "0.00", "109.09"]
    assert body["targets"][1] == "0.00"
    assert sum(float(t) * 100 for t in body["targets"]) == 100_000
    answer = page(gm, report="seasonal", customer=customer.pk, years=YEARS, target="1000")
    assert column(answer, 5)[:2] == ["109.09", "0.00"]


def test_fewer_than_three_years_on_the_page(gm):
    customer, product = make_customer(rep()), ProductFactory()
    for year in (2023, 2024):
        line(customer, product, datetime.date(year, 5, 1), 100)
    answer = page(gm, report="seasonal", customer=customer.pk, years=YEARS, target="100")
    assert 'id="not-enough-data"' in answer.content.decode()
    assert column(answer, 5) == [""] * 12 and column(answer, 6) == [""] * 12


def test_zero_total_is_not_enough_data_through_the_api_and_the_page(gm):
    customer, product = make_customer(rep()), ProductFactory()
    for year in (2022, 2023, 2024):
        line(customer, product, datetime.date(year, 5, 1), 100)
        line(customer, product, datetime.date(year, 6, 1), -100)  # returned
    body = api(gm, "seasonal", customer=customer.pk, years=YEARS, target="100")
    assert (body["index"], body["targets"], body["message"]) == (None, None, "not enough data")
    answer = page(gm, report="seasonal", customer=customer.pk, years=YEARS, target="100")
    assert 'id="not-enough-data"' in answer.content.decode()
    # A period whose sales cancel out: shares are empty, never a division by zero.
    line(customer, product, "2025-03-01", 50)
    line(customer, product, "2025-03-02", -50)
    abc = api(gm, "abc", **YEAR)["rows"]
    assert [(r["sales"], r["share"], r["abc_class"]) for r in abc] == [("0.00", None, "C")]
    assert api(gm, "composition", **YEAR)["rows"][0]["share"] is None


def test_ties_in_abc_by_customer_code_through_the_api(gm):
    owner, product = rep(), ProductFactory()
    customers = sorted((make_customer(owner) for _ in range(4)), key=lambda c: c.code)
    for customer in reversed(customers):  # stored in the reverse order of their codes
        line(customer, product, "2025-05-05", 25)
    rows = api(gm, "abc", **YEAR)["rows"]
    assert [r["code"] for r in rows] == [c.code for c in customers]
    assert [r["cumulative_share_before"] for r in rows] == ["0.00", "25.00", "50.00", "75.00"]
    assert [r["abc_class"] for r in rows] == list("AAAB")


def test_returns_are_netted_in_every_report(gm):
    customer, product = make_customer(rep()), ProductFactory(code="R1")
    line(customer, product, "2025-04-01", 1000, cost=700, quantity=10)
    line(customer, product, "2025-04-09", -400, cost=-280, quantity=-4)  # a return
    row = api(gm, "products", customer=customer.pk, **YEAR)["rows"][0]
    assert (row["sales"], row["cost"], row["gross_profit"], row["margin"]) == (
        "600.00",
        "420.00",
        "180.00",
        "30.00",
    )
    assert api(gm, "abc", **YEAR)["rows"][0]["sales"] == "600.00"
    assert api(gm, "composition", **YEAR)["rows"][0]["sales"] == "600.00"


def test_a_target_whose_naive_rounding_would_not_add_up(gm):
    customer, product = make_customer(rep()), ProductFactory()
    for year in (2022, 2023, 2024):
        for month in range(1, 13):
            line(customer, product, datetime.date(year, month, 1), 100)
    # 1000 ÷ 12 = 83.333…: twelve times 83.33 is 999.96; the four largest remainders (equal:
    # the earliest months) take a cent more.
    body = api(gm, "seasonal", customer=customer.pk, years=YEARS, target="1000")
    assert body["index"] == ["100.00"] * 12
    assert body["targets"] == ["83.34"] * 4 + ["83.33"] * 8
    answer = page(gm, report="seasonal", customer=customer.pk, years=YEARS, target="1000")
    assert column(answer, 6) == ["83.34"] * 4 + ["83.33"] * 8


# --- query counts: every report page and API, both databases, two sizes -------------------

REPORTS = ("composition", "abc", "share", "seasonal", "products")


def _grow(owner, products, size):
    """``size`` more customers, each with a line of every product in 2025 and in the
    seasonal years, a stock snapshot and an estimate: more rows in every report."""
    for _ in range(size):
        customer = make_customer(owner)
        estimate(customer, 2025, 10_000)
        for product in products:
            for year in (2022, 2023, 2024, 2025):
                line(customer, product, datetime.date(year, 3, 3), 100, cost=60)
            snapshot(customer, product, "2025-03", 10, 20)


# Exact counts, the same for 1 and 6 customers (×3 products ×4 years of lines).
# API (token auth, user and permissions cached by the client): the report's statements
# (DESIGN: share three, product mix two, the others one).
API_QUERIES = {"composition": 1, "abc": 1, "share": 3, "seasonal": 1, "products": 2}
# Pages: six fixed (the session, the user, his user and group permissions, his groups for
# the layout, the business types of the period picker) plus the report's statements.
PAGE_QUERIES = {"composition": 7, "abc": 7, "share": 9, "seasonal": 7, "products": 8}


@pytest.mark.parametrize("report", REPORTS)
def test_report_query_counts_do_not_grow_with_the_data(report, assert_queries):
    user = UserFactory(role=roles.GENERAL_MANAGER)
    owner = rep()
    products = [ProductFactory() for _ in range(3)]
    client = Client()
    client.force_login(user)
    api_client = api_client_for(user)
    params = {**YEAR, "years": YEARS, "target": "1200"}
    found = []
    for size in (1, 5):
        _grow(owner, products, size)
        api_client.get(f"/api/v1/analytics/reports/{report}/", params)  # warm the caches
        with assert_queries(keys=0) as from_api:
            assert api_client.get(f"/api/v1/analytics/reports/{report}/", params).status_code == 200
        client.get("/analytics/", {"report": report, **params})
        with assert_queries(keys=0) as from_page:
            answer = client.get("/analytics/", {"report": report, **params})
        assert answer.status_code == 200
        found.append((from_api["default"], from_page["default"]))
    assert found[0] == found[1] == (API_QUERIES[report], PAGE_QUERIES[report])


# --- the monthly report run: the beat job end to end, failure and retry -------------------


def test_the_beat_job_runs_the_previous_month_fails_and_is_retried(
    monkeypatch, django_capture_on_commit_callbacks
):
    import io

    import openpyxl

    from analytics import report_runs, tasks
    from analytics.models import ReportRun
    from audit.models import AuditEvent

    abc_example()  # March 2025
    monkeypatch.setattr(report_runs, "previous_month", lambda today=None: datetime.date(2025, 3, 1))
    real = report_runs.compute_standard_set

    def broken(period, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(report_runs, "compute_standard_set", broken)
    with django_capture_on_commit_callbacks(execute=True):
        run_id = tasks.monthly_report_run_task()
    run = ReportRun.objects.get(pk=run_id)
    assert (run.status, run.attempts, run.error) == ("failed", 1, "RuntimeError: disk full")
    assert run.requested_by is None and run.workbook == b""
    finished = AuditEvent.objects.filter(action="analytics.report_run_finished")
    assert [e.data["status"] for e in finished.order_by("pk")] == ["failed"]

    monkeypatch.setattr(report_runs, "compute_standard_set", real)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.monthly_report_run_task() == run_id  # the failed run is retried
    run.refresh_from_db()
    assert (run.status, run.attempts, run.error, run.progress) == ("done", 2, "", 100)
    assert run.parameters == {
        "month": "2025-03",
        "date_from": "2025-01-01",
        "date_to": "2025-03-31",
        "years": [2022, 2023, 2024],
    }
    assert [r["abc_class"] for r in run.results["abc_ytd"]] == list("AAABBBCC")
    assert set(run.timings) == {*run.results, "total"}
    workbook = openpyxl.load_workbook(io.BytesIO(bytes(run.workbook)))
    assert len(workbook.sheetnames) == 6
    assert [e.data["status"] for e in finished.order_by("pk")] == ["failed", "done"]
    # Idempotent per month: the job again (a second beat, a second worker) changes nothing.
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.monthly_report_run_task() == run_id
    run.refresh_from_db()
    assert (ReportRun.objects.count(), run.attempts) == (1, 2)


def test_a_run_whose_worker_died_is_retried_once_stalled(
    monkeypatch, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from analytics import report_runs, tasks
    from analytics.models import ReportRun

    abc_example()
    monkeypatch.setattr(report_runs, "previous_month", lambda today=None: datetime.date(2025, 3, 1))
    run = ReportRun.objects.create(
        period=datetime.date(2025, 3, 1), status=ReportRun.Status.RUNNING, attempts=1
    )
    # Still moving: left alone (a second beat does not start a second computation).
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.monthly_report_run_task() == run.pk
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("running", 1)
    # No progress for longer than STALLED_AFTER: the worker died; the next start retries it.
    ReportRun.objects.filter(pk=run.pk).update(
        updated_at=timezone.now() - report_runs.STALLED_AFTER - datetime.timedelta(minutes=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.monthly_report_run_task() == run.pk
    run.refresh_from_db()
    assert (run.status, run.attempts, run.progress) == ("done", 2, 100)
