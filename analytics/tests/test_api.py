"""``/api/v1/analytics/…``: the contract, the worked examples, batches, permissions."""

import datetime

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from analytics.models import SalesLine, StockSnapshot
from analytics.tests.factories import ProductFactory, line, snapshot
from analytics.tests.test_reports import (
    SEASONAL_INDEX,
    SEASONAL_TARGETS,
    abc_example,
    seasonal_example,
)
from audit.models import AuditEvent
from crm import roles
from crm.tests.factories import UserFactory
from customers.tests.factories import api_client_for, company_people, make_customer, rep

pytestmark = pytest.mark.django_db

OPERATIONS = [
    ("/api/v1/analytics/estimates/", "GET", "v1_analytics_estimates_list"),
    ("/api/v1/analytics/estimates/", "POST", "v1_analytics_estimates_create"),
    ("/api/v1/analytics/products/", "GET", "v1_analytics_products_list"),
    ("/api/v1/analytics/products/", "POST", "v1_analytics_products_create"),
    ("/api/v1/analytics/reports/abc/", "GET", "v1_analytics_reports_abc_retrieve"),
    ("/api/v1/analytics/reports/composition/", "GET", "v1_analytics_reports_composition_retrieve"),
    ("/api/v1/analytics/reports/products/", "GET", "v1_analytics_reports_products_retrieve"),
    ("/api/v1/analytics/reports/seasonal/", "GET", "v1_analytics_reports_seasonal_retrieve"),
    ("/api/v1/analytics/reports/share/", "GET", "v1_analytics_reports_share_retrieve"),
    ("/api/v1/analytics/runs/", "GET", "v1_analytics_runs_list"),
    ("/api/v1/analytics/runs/", "POST", "v1_analytics_runs_create"),
    ("/api/v1/analytics/runs/{run_id}/", "GET", "v1_analytics_runs_retrieve"),
    ("/api/v1/analytics/sales-lines/batch/", "POST", "v1_analytics_sales_lines_batch_create"),
    (
        "/api/v1/analytics/stock-snapshots/batch/",
        "POST",
        "v1_analytics_stock_snapshots_batch_create",
    ),
]


def test_operations_are_the_contract():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = [
        (path, method.upper(), item[method]["operationId"])
        for path, item in schema["paths"].items()
        if path.startswith("/api/v1/analytics/")
        for method in ("get", "post", "put", "patch", "delete")
        if method in item
    ]
    assert sorted(found) == sorted(OPERATIONS)


@pytest.fixture
def gm_client():
    return api_client_for(UserFactory(role=roles.GENERAL_MANAGER))


def test_abc_worked_example_through_the_api(gm_client):
    abc_example()
    answer = gm_client.get(
        "/api/v1/analytics/reports/abc/", {"date_from": "2025-01-01", "date_to": "2025-12-31"}
    )
    assert answer.status_code == 200
    rows = answer.json()["rows"]
    assert [r["abc_class"] for r in rows] == list("AAABBBCC")
    assert [r["sales"] for r in rows] == [
        "500.00", "200.00", "100.00", "80.00", "50.00", "40.00", "20.00", "10.00"
    ]  # fmt: skip
    assert rows[1]["cumulative_share_before"] == "50.00" and rows[1]["share"] == "20.00"
    assert set(rows[0]) == {
        "customer",
        "code",
        "sales",
        "share",
        "cumulative_share_before",
        "abc_class",
    }


def test_seasonal_worked_example_through_the_api(gm_client):
    customer = make_customer(rep())
    seasonal_example(customer, ProductFactory())
    answer = gm_client.get(
        "/api/v1/analytics/reports/seasonal/",
        {"customer": customer.pk, "years": "2022,2023,2024", "target": "1500.00"},
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["years"] == [2022, 2023, 2024]
    assert body["monthly_sales"][0][:3] == ["80.00", "70.00", "100.00"]
    assert body["index"] == SEASONAL_INDEX.split()
    assert body["targets"] == SEASONAL_TARGETS.split()
    company = gm_client.get("/api/v1/analytics/reports/seasonal/", {"years": "2022,2023,2024"})
    assert company.json()["index"] == SEASONAL_INDEX.split()
    assert company.json()["targets"] is None


def test_seasonal_without_three_years_is_not_enough_data(gm_client):
    customer = make_customer(rep())
    line(customer, ProductFactory(), "2024-05-05", 100)
    answer = gm_client.get(
        "/api/v1/analytics/reports/seasonal/",
        {"customer": customer.pk, "years": "2022,2023,2024", "target": "100"},
    )
    assert answer.status_code == 200
    assert answer.json()["index"] is None and answer.json()["message"] == "not enough data"
    bad = gm_client.get("/api/v1/analytics/reports/seasonal/", {"years": "2022,2023"})
    assert bad.status_code == 400 and "years" in bad.json()


def test_products_worked_example_through_the_api(gm_client):
    customer = make_customer(rep())
    p1, p2, p3 = (ProductFactory(code=code) for code in ("P1", "P2", "P3"))
    for product, sales, cost, opening, closing in (
        (p1, 600, 450, 100, 200),
        (p2, 300, 180, 50, 70),
        (p3, 100, 90, 100, 100),
    ):
        line(customer, product, "2025-04-04", sales, cost=cost)
        snapshot(customer, product, "2025-04", opening, closing)
    answer = gm_client.get(
        "/api/v1/analytics/reports/products/",
        {"customer": customer.pk, "date_from": "2025-04-01", "date_to": "2025-04-30"},
    )
    assert answer.status_code == 200
    rows = answer.json()["rows"]
    pick = lambda name: [r[name] for r in rows]  # noqa: E731
    assert pick("margin") == ["25.00", "40.00", "10.00"]
    assert pick("turnover") == ["4.00", "5.00", "1.00"]
    assert pick("cross_ratio") == ["1.00", "2.00", "0.10"]
    assert pick("share") == ["60.00", "30.00", "10.00"]
    assert pick("contribution_ratio") == ["0.60", "0.60", "0.01"]
    assert pick("average_stock") == ["150.00", "60.00", "100.00"]
    assert {"product", "sales", "cost", "gross_profit", "margin", "average_stock", "turnover",
            "cross_ratio", "share", "contribution_ratio"} <= set(rows[0])  # fmt: skip


def test_composition_through_the_api(gm_client, assert_queries):
    from customers.models import BusinessType

    owner, product = rep(), ProductFactory()
    kinds = list(BusinessType.objects.order_by("code")[:2])
    line(make_customer(owner, business_type=kinds[0]), product, "2025-02-02", 300)
    line(make_customer(owner, business_type=kinds[1]), product, "2025-02-02", 100)
    params = {"date_from": "2025-01-01", "date_to": "2025-12-31"}
    gm_client.get("/api/v1/analytics/reports/composition/", params)
    with assert_queries(keys=0) as counts:
        answer = gm_client.get("/api/v1/analytics/reports/composition/", params)
    assert counts["default"] <= 4  # session-free token auth: user, perms, the report
    assert answer.json()["rows"] == [
        {
            "business_type": kinds[0].code,
            "name": kinds[0].name,
            "sales": "300.00",
            "share": "75.00",
        },
        {
            "business_type": kinds[1].code,
            "name": kinds[1].name,
            "sales": "100.00",
            "share": "25.00",
        },
    ]


def test_report_queries_do_not_grow_with_the_lines(assert_queries):
    user = UserFactory(role=roles.GENERAL_MANAGER)
    client = api_client_for(user)
    product = ProductFactory()
    customer = make_customer(rep())
    params = {"date_from": "2025-01-01", "date_to": "2025-12-31", "years": "2022,2023,2024"}
    counts = {}
    for size in (1, 20):
        for day in range(size):
            line(make_customer(customer.owner), product, datetime.date(2025, 1, 1 + day), 10)
        found = {}
        for report in ("abc", "composition", "share", "products", "seasonal"):
            client.get(f"/api/v1/analytics/reports/{report}/", params)  # warm the caches
            with assert_queries() as counted:
                assert client.get(f"/api/v1/analytics/reports/{report}/", params).status_code == 200
            found[report] = counted["default"]
        counts[size] = found
    assert counts[1] == counts[20]
    assert counts[1] == {"abc": 1, "composition": 1, "share": 3, "products": 2, "seasonal": 1}


# --- batches ------------------------------------------------------------------------------


def _lines(customer, product, n=3):
    return [
        {
            "customer": customer.pk,
            "product": product.code,
            "date": f"2025-03-{day + 1:02d}",
            "quantity": "2",
            "amount": "100.00",
            "cost": "60.00",
        }
        for day in range(n)
    ]


def test_sales_line_batch_is_created_once(assert_queries):
    people = company_people()
    client = api_client_for(people["north_manager"])
    customer, product = make_customer(people["owner"]), ProductFactory()
    body = {
        "lines": [
            *_lines(customer, product),
            {**_lines(customer, product)[0], "amount": "-100.00", "quantity": "-2"},
        ]
    }
    answer = client.post("/api/v1/analytics/sales-lines/batch/", body, format="json")
    assert answer.status_code == 201, answer.json()
    assert answer.json() == {"created": 4, "skipped": 0}
    assert SalesLine.objects.count() == 4
    again = client.post("/api/v1/analytics/sales-lines/batch/", body, format="json")
    assert again.status_code == 201 and again.json() == {"created": 0, "skipped": 4}
    assert SalesLine.objects.count() == 4
    event = AuditEvent.objects.filter(action="analytics.sales_lines_loaded").order_by("pk").first()
    assert event.data == {"lines": 4, "created": 4, "skipped": 0}


def test_sales_line_batch_is_all_or_nothing_with_every_bad_line():
    people = company_people()
    client = api_client_for(people["north_manager"])
    mine = make_customer(people["owner"])
    hidden = make_customer(people["south_rep"])
    product = ProductFactory()
    lines = _lines(mine, product, 3)
    lines[1]["customer"] = hidden.pk
    lines[2].update(date="2025-13-01", amount="1.234")
    answer = client.post("/api/v1/analytics/sales-lines/batch/", {"lines": lines}, format="json")
    assert answer.status_code == 400
    errors = answer.json()["lines"]
    assert [e["index"] for e in errors] == [1, 2]
    assert set(errors[0]["errors"]) == {"customer"}
    assert hidden.code not in str(errors) and str(hidden.pk) not in str(errors[0]["errors"])
    assert set(errors[1]["errors"]) == {"date", "amount"}
    assert SalesLine.objects.count() == 0


def test_sales_line_batch_has_a_limit_and_a_shape():
    client = api_client_for(UserFactory(role=roles.GENERAL_MANAGER))
    big = {"lines": [{}] * 10_001}
    assert (
        client.post("/api/v1/analytics/sales-lines/batch/", big, format="json").status_code == 400
    )
    assert (
        client.post(
            "/api/v1/analytics/sales-lines/batch/", {"lines": "x"}, format="json"
        ).status_code
        == 400
    )


def test_stock_batch():
    client = api_client_for(UserFactory(role=roles.GENERAL_MANAGER))
    customer, product = make_customer(rep()), ProductFactory()
    row = {
        "customer": customer.code, "product": product.pk, "month": "2025-04",
        "opening_quantity": "10", "closing_quantity": "20",
        "opening_value": "100.00", "closing_value": "200.00",
    }  # fmt: skip
    url = "/api/v1/analytics/stock-snapshots/batch/"
    assert client.post(url, {"snapshots": [row]}, format="json").json() == {
        "created": 1,
        "skipped": 0,
    }
    assert client.post(url, {"snapshots": [row]}, format="json").json() == {
        "created": 0,
        "skipped": 1,
    }
    changed = client.post(url, {"snapshots": [{**row, "closing_value": "1.00"}]}, format="json")
    assert changed.status_code == 400 and changed.json()["snapshots"][0]["index"] == 0
    twice = client.post(url, {"snapshots": [{**row, "month": "2025-05"}] * 2}, format="json")
    assert twice.status_code == 400
    assert StockSnapshot.objects.get().month == datetime.date(2025, 4, 1)


def test_product_create():
    client = api_client_for(UserFactory(role=roles.ADMIN))
    body = {"code": "A-1", "name": "Widget", "category": "tools", "standard_cost": "12.50"}
    answer = client.post("/api/v1/analytics/products/", body, format="json")
    assert answer.status_code == 201 and answer.json()["standard_cost"] == "12.50"
    again = client.post("/api/v1/analytics/products/", body, format="json")
    assert again.status_code == 400 and "code" in again.json()


# --- permissions --------------------------------------------------------------------------

REPORT_URLS = [
    "/api/v1/analytics/reports/abc/",
    "/api/v1/analytics/reports/composition/",
    "/api/v1/analytics/reports/share/",
    "/api/v1/analytics/reports/seasonal/",
    "/api/v1/analytics/reports/products/",
]


@pytest.mark.parametrize("url", REPORT_URLS)
def test_reports_need_sign_in_and_the_report_permission(url):
    people = company_people()
    assert APIClient().get(url).status_code in (401, 403)
    for role in ("service", "dpo", "auditor", "admin"):
        assert api_client_for(people[role]).get(url).status_code == 403, role
    for role in ("owner", "north_manager", "gm"):
        assert api_client_for(people[role]).get(url).status_code == 200, role


def test_a_customer_the_user_may_not_see_is_404_and_audited():
    people = company_people()
    southern = make_customer(people["south_rep"])
    client = api_client_for(people["owner"])
    for url in ("/api/v1/analytics/reports/products/", "/api/v1/analytics/reports/seasonal/"):
        assert client.get(url, {"customer": southern.pk}).status_code == 404
    assert AuditEvent.objects.filter(action="access.denied", actor=people["owner"]).exists()


def test_reps_and_managers_see_only_their_customers_through_the_api():
    people = company_people()
    product = ProductFactory()
    mine = make_customer(people["owner"])
    colleague = make_customer(people["north_rep"])
    southern = make_customer(people["south_rep"])
    for customer in (mine, colleague, southern):
        line(customer, product, "2025-06-06", 100)
    params = {"date_from": "2025-01-01", "date_to": "2025-12-31"}

    def codes(role):
        rows = api_client_for(people[role]).get("/api/v1/analytics/reports/abc/", params).json()
        return sorted(r["code"] for r in rows["rows"])

    assert codes("owner") == [mine.code]
    assert codes("north_manager") == sorted([mine.code, colleague.code])
    assert codes("gm") == sorted([mine.code, colleague.code, southern.code])


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/v1/analytics/sales-lines/batch/", {"lines": []}),
        ("/api/v1/analytics/stock-snapshots/batch/", {"snapshots": []}),
        ("/api/v1/analytics/products/", {"code": "X", "name": "X", "standard_cost": "1"}),
    ],
)
def test_writes_need_their_permission(url, body):
    people = company_people()
    assert APIClient().post(url, body, format="json").status_code in (401, 403)
    for role in ("owner", "service", "dpo", "auditor"):
        assert api_client_for(people[role]).post(url, body, format="json").status_code == 403
    may = people["admin"] if "products" in url else people["north_manager"]
    assert api_client_for(may).post(url, body, format="json").status_code == 201
