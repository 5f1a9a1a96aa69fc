"""The pages: reports with charts and exports, the card's Sales tab, the dashboard, runs."""

import io

import openpyxl
import pytest
from django.test import Client

from analytics.models import PurchaseEstimate, ReportRun, SalesLine, StockSnapshot
from analytics.tests.factories import ProductFactory, estimate, line, snapshot
from analytics.tests.test_reports import SEASONAL_TARGETS, abc_example, seasonal_example
from audit.models import AuditEvent
from customers.tests.factories import company_people, make_customer, rep

pytestmark = pytest.mark.django_db

YEAR = {"date_from": "2025-01-01", "date_to": "2025-12-31"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def people():
    return company_people()


def test_abc_page_shows_the_worked_example_with_a_pareto_chart(people):
    abc_example()
    answer = client_for(people["gm"]).get("/analytics/", {"report": "abc", **YEAR})
    assert answer.status_code == 200
    html = answer.content.decode()
    assert 'data-analytics-chart="chart-data"' in html and '"pareto": true' in html
    classes = [row[-1] for row in answer.context["table"][1]]
    assert classes == list("AAABBBCC")


def test_seasonal_page_targets(people):
    customer = make_customer(rep())
    seasonal_example(customer, ProductFactory())
    answer = client_for(people["gm"]).get(
        "/analytics/",
        {"report": "seasonal", "years": "2022,2023,2024", "target": "1500", **YEAR},
    )
    assert [row[-1] for row in answer.context["table"][1]] == SEASONAL_TARGETS.split()
    few = client_for(people["gm"]).get(
        "/analytics/", {"report": "seasonal", "years": "2019,2020,2021"}
    )
    assert 'id="not-enough-data"' in few.content.decode()


def test_products_page_answers_the_questions(people):
    owner = people["owner"]
    a, b = make_customer(owner), make_customer(owner)
    p1, p2 = ProductFactory(code="Q1"), ProductFactory(code="Q2")
    line(a, p1, "2025-04-04", 600, cost=450)
    line(a, p2, "2025-04-04", 300, cost=180)
    line(b, p2, "2025-04-04", 100, cost=80)
    snapshot(a, p1, "2025-04", 100, 200)
    snapshot(a, p2, "2025-04", 50, 70)
    answer = client_for(owner).get(
        "/analytics/", {"report": "products", "customer": a.pk, "other": b.pk, **YEAR}
    )
    assert answer.status_code == 200
    assert [p.code for p in answer.context["not_shared"]] == ["Q1"]
    assert answer.context["top_contribution"]["code"] in ("Q1", "Q2")
    hidden = make_customer(people["south_rep"])
    assert (
        client_for(owner)
        .get("/analytics/", {"report": "products", "customer": hidden.pk})
        .status_code
        == 404
    )


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_report_exports_and_is_audited(people, fmt):
    abc_example()
    client = client_for(people["gm"])
    for kind in ("composition", "abc", "share", "seasonal", "products"):
        answer = client.get("/analytics/", {"report": kind, "format": fmt, **YEAR})
        assert answer.status_code == 200, kind
        assert answer["Content-Disposition"].endswith(f'.{fmt}"')
    assert AuditEvent.objects.filter(action="analytics.report_exported").count() == 5
    xlsx = client.get("/analytics/", {"report": "abc", "format": "xlsx", **YEAR})
    if fmt == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
        assert [row[5] for row in sheet.iter_rows(min_row=2, values_only=True)] == list("AAABBBCC")


def test_report_pages_permissions(people):
    assert Client().get("/analytics/").status_code == 302
    for role in ("service", "dpo", "auditor", "admin"):
        assert client_for(people[role]).get("/analytics/").status_code == 403, role
    for role in ("owner", "north_manager", "gm"):
        assert client_for(people[role]).get("/analytics/").status_code == 200, role


def test_report_page_query_count(people, assert_queries):
    abc_example()
    client = client_for(people["gm"])
    client.get("/analytics/", {"report": "abc", **YEAR})
    with assert_queries(keys=0) as counts:
        client.get("/analytics/", {"report": "abc", **YEAR})
    first = counts["default"]
    abc_example()
    with assert_queries(default=first, keys=0):
        client.get("/analytics/", {"report": "abc", **YEAR})


def test_card_sales_tab(people):
    owner = people["owner"]
    customer = make_customer(owner)
    line(customer, ProductFactory(code="T1"), "2026-01-05", 10)
    answer = client_for(owner).get(f"/customers/{customer.pk}/tab/sales/")
    assert answer.status_code == 200
    assert 'id="analytics-sales-tab"' in answer.content.decode()
    assert (
        client_for(people["south_rep"]).get(f"/customers/{customer.pk}/tab/sales/").status_code
        == 404
    )
    # Service staff granted the card (no report permission) get no Sales tab.
    assert (
        client_for(people["service"]).get(f"/customers/{customer.pk}/tab/sales/").status_code == 404
    )


def test_dashboard_panel(people):
    from analytics.views import dashboard_context

    assert dashboard_context(people["admin"]) is None
    assert set(dashboard_context(people["owner"])) == {"sales_year", "sales_month"}
    answer = client_for(people["owner"]).get("/")
    assert 'id="analytics-sales-year"' in answer.content.decode()


def test_runs_end_to_end_with_failure_and_retry(
    people, monkeypatch, django_capture_on_commit_callbacks
):
    from analytics import report_runs

    abc_example()
    manager = people["north_manager"]
    client = client_for(manager)
    calls = {"n": 0}
    real = report_runs.compute_standard_set

    def flaky(period, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database went away")
        return real(period, **kwargs)

    monkeypatch.setattr(report_runs, "compute_standard_set", flaky)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post("/analytics/runs/", {"month": "2025-03"})
    run = ReportRun.objects.get()
    assert answer.status_code == 302
    assert run.status == "failed" and "database went away" in run.error
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/analytics/runs/{run.pk}/retry/")
    run.refresh_from_db()
    assert (run.status, run.progress, run.attempts) == ("done", 100, 2)
    assert [r["abc_class"] for r in run.results["abc_ytd"]] == list("AAABBBCC")
    # Idempotent per month: starting it again changes nothing.
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/analytics/runs/", {"month": "2025-03"})
    assert ReportRun.objects.get().attempts == 2
    page = client.get(f"/analytics/runs/{run.pk}/")
    assert page.status_code == 200 and len(page.context["tables"]) == 6
    download = client.get(f"/analytics/runs/{run.pk}/download/")
    workbook = openpyxl.load_workbook(io.BytesIO(download.content))
    assert len(workbook.sheetnames) == 6
    assert AuditEvent.objects.filter(action="analytics.report_run_downloaded").count() == 1
    assert client_for(people["owner"]).get(f"/analytics/runs/{run.pk}/").status_code == 404
    assert client_for(people["owner"]).get("/analytics/runs/").status_code == 403
    assert client_for(people["admin"]).get("/analytics/runs/").status_code == 200


def test_monthly_command(people, capsys):
    from django.core.management import call_command

    abc_example()
    call_command("analytics_monthly_run", "--month", "2025-03")
    run = ReportRun.objects.get()
    assert run.status == "done" and run.requested_by is None
    assert run.timings["total"] >= 0 and set(run.timings) > {"abc_ytd", "seasonal"}


def test_runs_api(people, django_capture_on_commit_callbacks):
    from customers.tests.factories import api_client_for

    client = api_client_for(people["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post("/api/v1/analytics/runs/", {"month": "2025-03"}, format="json")
    assert answer.status_code == 202 and answer.json()["status"] == "pending"
    run_id = answer.json()["id"]
    detail = client.get(f"/api/v1/analytics/runs/{run_id}/").json()
    assert detail["status"] == "done" and detail["results"]["abc_ytd"] == []
    assert client.get("/api/v1/analytics/runs/").json()["results"][0]["month"] == "2025-03"
    rep_client = api_client_for(people["owner"])
    assert rep_client.get("/api/v1/analytics/runs/").status_code == 403
    assert (
        rep_client.post("/api/v1/analytics/runs/", {"month": "2025-03"}, format="json").status_code
        == 403
    )
    assert rep_client.get(f"/api/v1/analytics/runs/{run_id}/").status_code == 404
    assert (
        client.post("/api/v1/analytics/runs/", {"month": "March"}, format="json").status_code == 400
    )


def test_sales_follow_the_surviving_card_on_merge(people):
    from customers.services import merge

    owner = people["owner"]
    survivor, duplicate = make_customer(owner), make_customer(owner)
    product = ProductFactory()
    line(duplicate, product, "2025-01-01", 10)
    snapshot(duplicate, product, "2025-01", 1, 2)
    snapshot(survivor, product, "2025-01", 3, 4)
    estimate(duplicate, 2025, 1000)
    merge.customer_merge(
        actor=people["north_manager"], survivor_id=survivor.pk, duplicate_id=duplicate.pk
    )
    assert SalesLine.objects.get().customer_id == survivor.pk
    # Both cards counted the same month's stock: the survivor's stays, the other is kept
    # on the merged card; the estimate without a counterpart moves.
    assert StockSnapshot.objects.get(customer=survivor).closing_value == 4
    assert StockSnapshot.objects.filter(customer=duplicate).count() == 1
    assert PurchaseEstimate.objects.get().customer_id == survivor.pk
