"""The credit API is an outside contract (issue 9): its operations and URLs stay put."""

from __future__ import annotations

import pytest
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator

OPERATIONS = [
    ("/api/v1/credit/accounts/", "POST"),
    ("/api/v1/credit/accounts/{id}/approve/", "POST"),
    ("/api/v1/credit/accounts/{id}/reject/", "POST"),
    ("/api/v1/credit/limit-requests/", "GET"),
    ("/api/v1/credit/limit-requests/", "POST"),
    ("/api/v1/credit/limit-requests/{id}/approve/", "POST"),
    ("/api/v1/credit/limit-requests/{id}/reject/", "POST"),
    ("/api/v1/credit/customers/{customer_id}/", "GET"),
    ("/api/v1/credit/orders/", "GET"),
    ("/api/v1/credit/orders/", "POST"),
    ("/api/v1/credit/orders/{id}/release/", "POST"),
    ("/api/v1/credit/orders/{id}/reject/", "POST"),
    ("/api/v1/credit/holds/", "POST"),
    ("/api/v1/credit/holds/{id}/release/", "POST"),
    ("/api/v1/credit/invoices/", "GET"),
    ("/api/v1/credit/invoices/", "POST"),
    ("/api/v1/credit/payments/", "GET"),
    ("/api/v1/credit/payments/", "POST"),
    ("/api/v1/credit/notes/", "GET"),
    ("/api/v1/credit/notes/", "POST"),
]


def test_the_contracts_operations_are_in_the_schema():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = {
        (path, method.upper())
        for path, item in schema["paths"].items()
        for method in ("get", "post", "put", "patch", "delete")
        if method in item
    }
    assert [op for op in OPERATIONS if op not in operations] == []


def test_the_contracts_fields_are_in_the_schema():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    assert set(components["CreditSummaryOutput"]["properties"]) == {
        "grade",
        "limit",
        "currency",
        "exposure",
        "headroom",
        "percent_used",
        "on_hold",
        "account_status",
    }
    assert {"customer", "amount", "currency", "reference"} <= set(
        components["CreditOrderInputRequest"]["properties"]
    )
    assert {"id", "status", "reason"} <= set(components["CreditOrderOutput"]["properties"])
    assert {"customer", "amount", "currency", "justification"} <= set(
        components["CreditLimitInputRequest"]["properties"]
    )


@pytest.mark.parametrize(
    "path",
    ["/api/v1/credit/orders/", "/api/v1/credit/customers/7/", "/api/v1/credit/holds/7/release/"],
)
def test_urls_resolve(path):
    assert resolve(path).url_name.startswith("credit-")
