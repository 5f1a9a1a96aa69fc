"""Order creation with the credit check under load: HTTP scenarios for ``bench.http`` (the
lead hooks them in).

``credit_scenarios(session, *, customer_id: int) -> list[Scenario]`` takes the signed-in
session of the rep who owns ``customer_id`` (``bench.load_credit.bench_credit_customer``:
an open account with a very large limit, so every order is accepted) and answers:

* ``credit_order_create`` — ``POST /api/v1/credit/orders/`` with ``{customer, amount,
  currency, reference}``: the order is credit-checked under the customer's row lock
  (exposure summed in SQL over the customer's invoices, notes and orders: a fixed number
  of queries) and answered ``201 {id, status: "accepted", reason: ""}``. Orders for one
  customer are serialised by the lock, so this measures the check's cost and the lock's
  queue;
* ``credit_customer_summary`` — ``GET /api/v1/credit/customers/<id>/``: limit, exposure,
  headroom, % used.
"""

from __future__ import annotations

import json

from bench.http import Scenario

ROLE = "sales_rep"


def credit_scenarios(session, *, customer_id: int) -> list[Scenario]:
    body = json.dumps(
        {"customer": customer_id, "amount": "10.00", "currency": "CNY", "reference": "BENCH"}
    )
    return [
        Scenario(
            "credit_order_create",
            ROLE,
            session,
            "POST",
            "/api/v1/credit/orders/",
            body=body,
            content_type="application/json",
            markers=[b'"status":"accepted"'],
            status=201,
            note="order with the credit check (row lock + exposure in SQL)",
        ),
        Scenario(
            "credit_customer_summary",
            ROLE,
            session,
            "GET",
            f"/api/v1/credit/customers/{customer_id}/",
            markers=[b'"exposure"'],
        ),
    ]
