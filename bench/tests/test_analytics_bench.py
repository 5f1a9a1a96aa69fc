"""The analytics bench loader and scenarios on a tiny data set (hermetic: SQLite or any
test database; run ``.venv/bin/pytest bench/tests``)."""

import pytest

from bench import load_analytics, scenarios_analytics
from customers.tests.factories import make_customer, rep

pytestmark = pytest.mark.django_db


def test_loader_and_scenarios(monkeypatch):
    owner = rep()
    for _ in range(3):
        make_customer(owner)
    counts = load_analytics.load_analytics(lines=400, products=5, stock_customers=3)
    assert counts["products"] == 5 and counts["sales_lines_total"] == 400
    again = load_analytics.load_analytics(lines=400, products=5, stock_customers=3)
    assert again["sales_lines"] == 0  # resumable: nothing loaded twice
    # Closing the connection would drop the test's transaction; the timing is what counts.
    monkeypatch.setattr(scenarios_analytics.connection, "close", lambda: None)
    results = scenarios_analytics.run_all()
    assert set(results) == {
        "abc_company",
        "composition_by_business_type",
        "seasonal_company",
        "seasonal_business_type",
        "product_mix",
    }
    assert all(r["ratio"] is not None and r["report_s"] >= 0 for r in results.values())
    assert results["abc_company"]["rows"] == 3
