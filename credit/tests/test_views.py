"""The credit pages: the card's Credit tab and its actions, the inbox, reports, settings."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from credit import services
from credit.models import CreditLimit, Hold, Order
from credit.tests.factories import complete_organisation, invoice, people, trading_customer

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def world():
    cast = people()
    return cast, trading_customer(cast, "1000.00")


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def tab_url(customer):
    return reverse("customers:tab", args=[customer.pk, "credit"])


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("owner", 200),
        ("north_manager", 200),
        ("gm", 200),
        ("auditor", 200),
        ("north_rep", 404),
        ("south_manager", 404),
        ("admin", 403),
    ],
)
def test_credit_tab_visibility(world, who, status):
    cast, customer = world
    response = client_for(cast[who]).get(tab_url(customer))
    assert response.status_code == status
    if status == 200:
        assert "credit-exposure" in response.content.decode()


def test_the_tab_anonymous_goes_to_sign_in(world):
    _cast, customer = world
    response = Client().get(tab_url(customer))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_card_shows_limit_exposure_and_actions(world):
    cast, customer = world
    invoice(customer, cast["north_manager"], "250.00")
    page = (
        client_for(cast["owner"])
        .get(reverse("customers:detail", args=[customer.pk]) + "?tab=credit")
        .content.decode()
    )
    assert "CNY 1,000.00" in page and "CNY 250.00" in page and "25.00 %" in page
    assert reverse("credit:order-create", args=[customer.pk]) in page
    assert reverse("credit:hold-place", args=[customer.pk]) in page


def test_the_tab_lists_the_blank_fields_before_submission(world):
    cast, _customer = world
    customer = complete_organisation(cast["owner"], website="")
    page = client_for(cast["owner"]).get(tab_url(customer)).content.decode()
    assert "website" in page


def test_order_form_enters_a_blocked_order_and_says_so(world):
    cast, customer = world
    response = client_for(cast["owner"]).post(
        reverse("credit:order-create", args=[customer.pk]),
        {"reference": "PO-9", "amount": "1000.01", "currency": ""},
        follow=True,
    )
    assert response.status_code == 200
    assert Order.objects.get().status == "blocked"
    assert "blocked" in response.content.decode()


def test_a_form_error_is_a_message_not_a_500(world):
    cast, customer = world
    response = client_for(cast["owner"]).post(
        reverse("credit:hold-place", args=[customer.pk]), {"reason": ""}, follow=True
    )
    assert response.status_code == 200
    assert not Hold.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"), [("owner", 403), ("south_manager", 404), ("north_manager", 302)]
)
def test_hold_release_page_action(world, who, status):
    cast, customer = world
    hold = services.hold_place(actor=cast["owner"], customer=customer, reason="strike")
    response = client_for(cast[who]).post(reverse("credit:hold-release", args=[hold.pk]))
    assert response.status_code == status
    hold.refresh_from_db()
    assert hold.status == ("released" if status == 302 else "active")


@pytest.mark.parametrize(
    ("who", "status"), [("owner", 403), ("auditor", 403), ("north_manager", 200), ("gm", 200)]
)
def test_inbox_permissions(world, who, status):
    cast, _customer = world
    assert client_for(cast[who]).get(reverse("credit:inbox")).status_code == status


def test_inbox_lists_what_waits_with_exact_queries(world, assert_queries):
    cast, customer = world
    for amount in ("2000.00", "3000.00"):
        services.limit_request(
            actor=cast["owner"], customer=customer, amount=D(amount), justification="x"
        )
    services.order_create(actor=cast["owner"], customer=customer, amount=D("5000"), reference="B")
    client = client_for(cast["north_manager"])
    client.get(reverse("credit:inbox"))  # warm the session
    with assert_queries(keys=0) as counted:
        page = client.get(reverse("credit:inbox")).content.decode()
    assert page.count("credit/limits/") >= 2 and "B ·" in page
    for _n in range(3):
        services.limit_request(
            actor=cast["owner"], customer=customer, amount=D("1.00"), justification="x"
        )
    with assert_queries(default=counted["default"], keys=0):
        client.get(reverse("credit:inbox"))
    assert CreditLimit.objects.filter(status="pending").count() == 5


def test_inbox_badge_counts(world):
    cast, customer = world
    services.limit_request(
        actor=cast["owner"], customer=customer, amount=D("2000.00"), justification="x"
    )
    assert (
        ">1<"
        in client_for(cast["north_manager"]).get(reverse("credit:inbox-badge")).content.decode()
    )
    assert client_for(cast["owner"]).get(reverse("credit:inbox-badge")).content == b""


@pytest.mark.parametrize("report", ["exposure", "grades", "blocked", "ageing"])
def test_reports_page_and_exports(world, report, assert_queries):
    cast, customer = world
    invoice(customer, cast["north_manager"], "100.00")
    client = client_for(cast["north_manager"])
    url = reverse("credit:reports") + f"?report={report}"
    assert client.get(url).status_code == 200
    csv = client.get(url + "&format=csv")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert client.get(url + "&format=xlsx").status_code == 200
    assert client_for(cast["owner"]).get(url).status_code == 403


def test_exposure_report_is_sorted_by_percent_used(world):
    cast, customer = world
    second = trading_customer(cast, "100.00")
    invoice(second, cast["north_manager"], "50.00")
    invoice(customer, cast["north_manager"], "100.00")
    csv = client_for(cast["gm"]).get(reverse("credit:reports") + "?report=exposure&format=csv")
    lines = csv.content.decode().splitlines()
    assert lines[1].startswith(second.code) and lines[2].startswith(customer.code)
    assert lines[1].endswith(",50.00")


def test_ageing_buckets(world):
    import datetime

    cast, customer = world
    today = datetime.date.today()
    for days, amount in ((0, "1.00"), (30, "2.00"), (31, "4.00"), (61, "8.00"), (91, "16.00")):
        due = today - datetime.timedelta(days=days)
        invoice(customer, cast["north_manager"], amount, issued_on=due, due_on=due)
    csv = client_for(cast["gm"]).get(reverse("credit:reports") + "?report=ageing&format=csv")
    row = csv.content.decode().splitlines()[1].split(",")
    assert row == [customer.code, "CNY", "3.00", "4.00", "8.00", "16.00", "31.00"]


@pytest.mark.parametrize(
    ("who", "status"), [("admin", 200), ("north_manager", 200), ("owner", 403)]
)
def test_settings_page(world, who, status):
    cast, _customer = world
    assert client_for(cast[who]).get(reverse("credit:settings")).status_code == status


def test_admin_saves_settings_and_a_manager_cannot(world):
    from credit.selectors import credit_settings
    from credit.services.investigations import SETTINGS_FIELDS

    cast, _customer = world
    current = credit_settings()
    data = {name: getattr(current, name) for name in SETTINGS_FIELDS}
    data["company_cap"] = "2000000.00"
    assert (
        client_for(cast["north_manager"]).post(reverse("credit:settings"), data).status_code == 403
    )
    assert client_for(cast["admin"]).post(reverse("credit:settings"), data).status_code == 302
    assert credit_settings().company_cap == D("2000000.00")


def test_the_dashboard_shows_credit_panels(world):
    cast, customer = world
    services.limit_request(
        actor=cast["owner"], customer=customer, amount=D("2000.00"), justification="x"
    )
    page = client_for(cast["north_manager"]).get(reverse("home")).content.decode()
    assert "Credit approvals waiting" in page and customer.code in page


def test_the_timeline_shows_credit_events(world):
    cast, customer = world
    services.hold_place(actor=cast["owner"], customer=customer, reason="x")
    services.grade_confirm(actor=cast["north_manager"], customer=customer, grade="B")
    page = (
        client_for(cast["owner"])
        .get(reverse("customers:tab", args=[customer.pk, "timeline"]))
        .content.decode()
    )
    assert "Hold on shipments" in page and "Credit grade B" in page and "Account opened" in page


def test_a_refusal_on_the_credit_tab_names_no_internal_field():
    """The service refuses a second termination on its ``status`` field, which the form
    does not have: the message reads on its own, never as "status: …"."""
    cast = people()
    customer = trading_customer(cast)
    manager = cast["north_manager"]
    services.account_terminate(actor=manager, customer=customer, reason="欠款逾期")
    client = Client()
    client.force_login(manager)
    response = client.post(
        reverse("credit:terminate", args=[customer.pk]), {"reason": "再次终止"}, follow=True
    )
    shown = [str(m) for m in response.context["messages"]]
    assert shown == ["Trading with this customer is already terminated."]
