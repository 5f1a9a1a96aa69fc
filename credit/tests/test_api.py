"""``/api/v1/credit/…``: the contract's fields, and who may do what (anonymous, the roles
that may not — 404 for a customer they may not see, 403 for an action they may not take —
and the role that may)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from credit import services
from credit.models import CreditAccount, CreditLimit, Hold, Invoice, Note, Order, Payment
from credit.tests.factories import complete_organisation, invoice, people, trading_customer
from customers.tests.factories import api_client_for

pytestmark = pytest.mark.django_db
D = Decimal
TODAY = datetime.date.today().isoformat()

# Who sees the owner's customer, and who does not (404 on every endpoint naming it).
SEE = {"owner", "north_manager", "gm", "auditor", "dpo"}
CANNOT_SEE = {"north_rep", "south_manager", "south_rep"}
NO_CREDIT = {"service", "admin"}  # no credit role at all: 403


@pytest.fixture
def world():
    cast = people()
    return cast, trading_customer(cast, "1000.00")


def client(user):
    return api_client_for(user)


ENDPOINTS = [
    ("post", "/api/v1/credit/accounts/"),
    ("post", "/api/v1/credit/accounts/1/approve/"),
    ("post", "/api/v1/credit/accounts/1/reject/"),
    ("get", "/api/v1/credit/limit-requests/"),
    ("post", "/api/v1/credit/limit-requests/"),
    ("post", "/api/v1/credit/limit-requests/1/approve/"),
    ("post", "/api/v1/credit/limit-requests/1/reject/"),
    ("get", "/api/v1/credit/customers/1/"),
    ("get", "/api/v1/credit/orders/"),
    ("post", "/api/v1/credit/orders/"),
    ("post", "/api/v1/credit/orders/1/release/"),
    ("post", "/api/v1/credit/orders/1/reject/"),
    ("post", "/api/v1/credit/holds/"),
    ("post", "/api/v1/credit/holds/1/release/"),
    ("get", "/api/v1/credit/invoices/"),
    ("post", "/api/v1/credit/invoices/"),
    ("get", "/api/v1/credit/payments/"),
    ("post", "/api/v1/credit/payments/"),
    ("get", "/api/v1/credit/notes/"),
    ("post", "/api/v1/credit/notes/"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_anonymous_is_401(method, path):
    assert getattr(APIClient(), method)(path, {}, format="json").status_code == 401


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_a_user_without_a_credit_role_is_403(world, method, path):
    cast, _customer = world
    for who in NO_CREDIT:
        assert getattr(client(cast[who]), method)(path, {}, format="json").status_code == 403


# --- the customer's credit summary ---------------------------------------------------------------


@pytest.mark.parametrize("who", sorted(SEE | CANNOT_SEE))
def test_summary_follows_the_customers_visibility(world, who):
    cast, customer = world
    invoice(customer, cast["north_manager"], "250.00")
    response = client(cast[who]).get(f"/api/v1/credit/customers/{customer.pk}/")
    if who in CANNOT_SEE:
        assert response.status_code == 404
        return
    assert response.status_code == 200
    assert response.json() == {
        "grade": "",
        "limit": "1000.00",
        "currency": "CNY",
        "exposure": "250.00",
        "headroom": "750.00",
        "percent_used": "25.00",
        "on_hold": False,
        "account_status": "open",
    }


def test_summary_of_an_unknown_customer_is_404(world):
    cast, _customer = world
    assert client(cast["gm"]).get("/api/v1/credit/customers/999999/").status_code == 404


# --- account opening ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("owner", 201),
        ("north_manager", 201),
        ("north_rep", 404),
        ("south_manager", 404),
        ("auditor", 403),
        ("dpo", 403),
    ],
)
def test_account_submit(world, who, status):
    cast, _customer = world
    customer = complete_organisation(cast["owner"])
    response = client(cast[who]).post(
        "/api/v1/credit/accounts/", {"customer": customer.pk}, format="json"
    )
    assert response.status_code == status
    if status == 201:
        account = CreditAccount.objects.get(customer=customer)
        assert response.json() == {
            "id": account.pk,
            "customer": customer.pk,
            "status": "submitted",
            "currency": "CNY",
            "grade": "",
            "opened_at": None,
        }
    else:
        assert not CreditAccount.objects.filter(customer=customer).exists()


def test_account_submit_lists_the_blank_fields(world):
    cast, _customer = world
    customer = complete_organisation(cast["owner"], website="")
    response = client(cast["owner"]).post(
        "/api/v1/credit/accounts/", {"customer": customer.pk}, format="json"
    )
    assert response.status_code == 400
    assert "website" in str(response.json())


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("north_manager", 200),
        ("gm", 200),
        ("owner", 403),
        # A rep may approve no opening at all: 403 before the account is looked up, so the
        # answer says nothing about an account he may not see.
        ("north_rep", 403),
        ("south_manager", 404),
        ("auditor", 403),
    ],
)
def test_account_approve(world, who, status):
    cast, _customer = world
    customer = complete_organisation(cast["owner"])
    account = services.account_submit(actor=cast["owner"], customer=customer)
    response = client(cast[who]).post(
        f"/api/v1/credit/accounts/{account.pk}/approve/", {"comment": "ok"}, format="json"
    )
    assert response.status_code == status
    account.refresh_from_db()
    expected = "manager_approved" if status == 200 else "submitted"
    assert account.status == expected
    if status == 200:
        assert response.json()["status"] == "manager_approved"


def test_account_head_office_approval_and_reject(world):
    cast, _customer = world
    customer = complete_organisation(cast["owner"])
    account = services.account_submit(actor=cast["owner"], customer=customer)
    services.account_approve(actor=cast["north_manager"], account=account)
    url = f"/api/v1/credit/accounts/{account.pk}/"
    assert (
        client(cast["north_manager"]).post(url + "approve/", {}, format="json").status_code == 403
    )
    assert (
        client(cast["gm"]).post(url + "reject/", {"comment": ""}, format="json").status_code == 400
    )
    response = client(cast["gm"]).post(url + "approve/", {"conditions": ["deposit"]}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "open"
    assert customer.credit_conditions.get().kind == "deposit"
    assert (
        client(cast["gm"]).post(url + "reject/", {"comment": "x"}, format="json").status_code == 400
    )


# --- limit requests -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("owner", 201),
        ("north_manager", 201),
        ("north_rep", 404),
        ("south_rep", 404),
        ("auditor", 403),
    ],
)
def test_limit_request(world, who, status):
    cast, customer = world
    response = client(cast[who]).post(
        "/api/v1/credit/limit-requests/",
        {"customer": customer.pk, "amount": "2000.00", "currency": "CNY", "justification": "x"},
        format="json",
    )
    assert response.status_code == status
    if status == 201:
        body = response.json()
        assert (body["status"], body["amount"], body["currency"]) == ("pending", "2000.00", "CNY")
    else:
        assert CreditLimit.objects.filter(status="pending").count() == 0


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("north_manager", 200),
        ("gm", 200),
        ("owner", 403),
        ("south_manager", 404),
        ("north_rep", 404),
        ("auditor", 403),
    ],
)
def test_limit_approve(world, who, status):
    cast, customer = world
    limit = services.limit_request(
        actor=cast["owner"], customer=customer, amount=D("2000.00"), justification="x"
    )
    response = client(cast[who]).post(
        f"/api/v1/credit/limit-requests/{limit.pk}/approve/", {}, format="json"
    )
    assert response.status_code == status
    limit.refresh_from_db()
    assert limit.status == ("active" if status == 200 else "pending")


def test_limit_reject_needs_a_comment(world):
    cast, customer = world
    limit = services.limit_request(
        actor=cast["owner"], customer=customer, amount=D("2000.00"), justification="x"
    )
    url = f"/api/v1/credit/limit-requests/{limit.pk}/reject/"
    assert client(cast["north_manager"]).post(url, {}, format="json").status_code == 400
    response = client(cast["north_manager"]).post(url, {"comment": "no"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "rejected"


def test_limit_list_counts_its_queries(world, assert_queries):
    cast, customer = world
    for amount in ("1.00", "2.00", "3.00"):
        services.limit_request(
            actor=cast["owner"], customer=customer, amount=D(amount), justification="x"
        )
    api = client(cast["north_manager"])
    with assert_queries(default=2, keys=0):  # the count and the page
        response = api.get("/api/v1/credit/limit-requests/?status=pending")
    assert response.json()["count"] == 3
    assert client(cast["south_manager"]).get("/api/v1/credit/limit-requests/").json()["count"] == 0


# --- orders ------------------------------------------------------------------------------------


def _order(api, customer, amount, reference="PO-1", **headers):
    return api.post(
        "/api/v1/credit/orders/",
        {"customer": customer.pk, "amount": amount, "currency": "CNY", "reference": reference},
        format="json",
        **headers,
    )


def test_order_accepted_then_blocked_with_the_reason(world):
    cast, customer = world
    api = client(cast["owner"])
    accepted = _order(api, customer, "1000.00")
    assert accepted.status_code == 201
    assert {k: accepted.json()[k] for k in ("status", "reason")} == {
        "status": "accepted",
        "reason": "",
    }
    blocked = _order(api, customer, "0.01", "PO-2")
    assert blocked.status_code == 201
    assert {k: blocked.json()[k] for k in ("status", "reason")} == {
        "status": "blocked",
        "reason": "over_limit",
    }


def test_order_idempotency_key_is_honoured(world):
    cast, customer = world
    api = client(cast["owner"])
    first = _order(api, customer, "10.00", HTTP_IDEMPOTENCY_KEY="k-1")
    again = _order(api, customer, "10.00", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert Order.objects.count() == 1


@pytest.mark.parametrize(
    ("who", "status"), [("north_rep", 404), ("south_manager", 404), ("auditor", 403)]
)
def test_order_for_a_customer_the_user_may_not_see_or_order(world, who, status):
    cast, customer = world
    assert _order(client(cast[who]), customer, "1.00").status_code == status
    assert not Order.objects.exists()


def test_order_with_an_invalid_amount_is_400(world):
    cast, customer = world
    assert _order(client(cast["owner"]), customer, "-1.00").status_code == 400
    assert _order(client(cast["owner"]), customer, "1.001").status_code == 400


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("north_manager", 200),
        ("gm", 200),
        ("owner", 403),
        ("south_manager", 404),
        ("north_rep", 404),
        ("auditor", 403),
    ],
)
def test_order_release(world, who, status):
    cast, customer = world
    order = services.order_create(
        actor=cast["owner"], customer=customer, amount=D("5000.00"), reference="big"
    )
    response = client(cast[who]).post(f"/api/v1/credit/orders/{order.pk}/release/")
    assert response.status_code == status
    order.refresh_from_db()
    assert order.status == ("released" if status == 200 else "blocked")


def test_order_reject(world):
    cast, customer = world
    order = services.order_create(
        actor=cast["owner"], customer=customer, amount=D("5000.00"), reference="big"
    )
    assert (
        client(cast["owner"]).post(f"/api/v1/credit/orders/{order.pk}/reject/").status_code == 403
    )
    response = client(cast["north_manager"]).post(f"/api/v1/credit/orders/{order.pk}/reject/")
    assert response.status_code == 200 and response.json()["status"] == "rejected"


def test_order_list_counts_its_queries(world, assert_queries):
    cast, customer = world
    for n in range(3):
        services.order_create(
            actor=cast["owner"], customer=customer, amount=D("1.00"), reference=f"PO-{n}"
        )
    with assert_queries(default=2, keys=0):
        response = client(cast["owner"]).get("/api/v1/credit/orders/")
    assert response.json()["count"] == 3
    assert client(cast["north_rep"]).get("/api/v1/credit/orders/").json()["count"] == 0


# --- holds ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("owner", 201),
        ("north_manager", 201),
        ("north_rep", 404),
        ("south_manager", 404),
        ("auditor", 403),
    ],
)
def test_hold_place(world, who, status):
    cast, customer = world
    response = client(cast[who]).post(
        "/api/v1/credit/holds/", {"customer": customer.pk, "reason": "strike"}, format="json"
    )
    assert response.status_code == status
    assert Hold.objects.count() == (1 if status == 201 else 0)
    if status == 201:
        assert response.json()["status"] == "active" and "reason" not in response.json()


def test_hold_needs_a_reason(world):
    cast, customer = world
    response = client(cast["owner"]).post(
        "/api/v1/credit/holds/", {"customer": customer.pk, "reason": " "}, format="json"
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("who", "status"),
    [("north_manager", 200), ("gm", 200), ("owner", 403), ("south_manager", 404), ("auditor", 403)],
)
def test_hold_release(world, who, status):
    cast, customer = world
    hold = services.hold_place(actor=cast["owner"], customer=customer, reason="strike")
    response = client(cast[who]).post(f"/api/v1/credit/holds/{hold.pk}/release/")
    assert response.status_code == status
    hold.refresh_from_db()
    assert hold.status == ("released" if status == 200 else "active")


# --- receivables -------------------------------------------------------------------------------


def _invoice_body(customer, number="INV-1", amount="100.00"):
    return {
        "customer": customer.pk,
        "number": number,
        "issued_on": TODAY,
        "due_on": TODAY,
        "amount": amount,
        "currency": "CNY",
    }


@pytest.mark.parametrize(
    ("who", "status"),
    [("north_manager", 201), ("gm", 201), ("owner", 403), ("south_manager", 404), ("auditor", 403)],
)
def test_invoice_create(world, who, status):
    cast, customer = world
    response = client(cast[who]).post(
        "/api/v1/credit/invoices/", _invoice_body(customer), format="json"
    )
    assert response.status_code == status
    assert Invoice.objects.count() == (1 if status == 201 else 0)
    if status == 201:
        body = response.json()
        assert (body["amount"], body["paid_amount"], body["number"]) == ("100.00", "0.00", "INV-1")


def test_invoice_list_is_scoped_filtered_and_counted(world, assert_queries):
    cast, customer = world
    for n in range(3):
        invoice(customer, cast["north_manager"], "10.00", number=f"N-{n}")
    with assert_queries(default=2, keys=0):
        response = client(cast["owner"]).get("/api/v1/credit/invoices/?open=true")
    assert response.json()["count"] == 3
    assert client(cast["south_rep"]).get("/api/v1/credit/invoices/").json()["count"] == 0


def test_payment_create_and_list(world, assert_queries):
    cast, customer = world
    bill = invoice(customer, cast["north_manager"], "100.00")
    api = client(cast["north_manager"])
    response = api.post(
        "/api/v1/credit/payments/",
        {
            "customer": customer.pk,
            "received_on": TODAY,
            "amount": "60.00",
            "allocations": [{"invoice": bill.pk, "amount": "60.00"}],
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["allocations"] == [{"invoice": bill.pk, "amount": "60.00"}]
    bill.refresh_from_db()
    assert bill.paid_amount == D("60.00")
    too_much = api.post(
        "/api/v1/credit/payments/",
        {
            "customer": customer.pk,
            "received_on": TODAY,
            "amount": "60.00",
            "allocations": [{"invoice": bill.pk, "amount": "50.00"}],
        },
        format="json",
    )
    assert too_much.status_code == 400
    assert (
        client(cast["owner"])
        .post(
            "/api/v1/credit/payments/",
            {"customer": customer.pk, "received_on": TODAY, "amount": "1.00"},
            format="json",
        )
        .status_code
        == 403
    )
    assert (
        client(cast["south_manager"])
        .post(
            "/api/v1/credit/payments/",
            {"customer": customer.pk, "received_on": TODAY, "amount": "1.00"},
            format="json",
        )
        .status_code
        == 404
    )
    with assert_queries(default=3, keys=0):  # count, page, allocations
        listing = client(cast["owner"]).get("/api/v1/credit/payments/")
    assert listing.json()["count"] == Payment.objects.count() == 1


def test_note_create_and_list(world, assert_queries):
    cast, customer = world
    body = {
        "customer": customer.pk,
        "kind": "bill",
        "number": "B-1",
        "amount": "70.00",
        "received_on": TODAY,
        "due_on": TODAY,
    }
    assert (
        client(cast["owner"]).post("/api/v1/credit/notes/", body, format="json").status_code == 403
    )
    assert (
        client(cast["south_manager"]).post("/api/v1/credit/notes/", body, format="json").status_code
        == 404
    )
    response = client(cast["north_manager"]).post("/api/v1/credit/notes/", body, format="json")
    assert response.status_code == 201 and response.json()["status"] == "pending"
    assert Note.objects.count() == 1
    with assert_queries(default=4, keys=0):  # his permissions (2), the count and the page
        listing = client(cast["auditor"]).get("/api/v1/credit/notes/?status=pending")
    assert listing.json()["count"] == 1
