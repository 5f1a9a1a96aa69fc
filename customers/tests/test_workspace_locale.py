"""Dates and money per locale on the workspace (issue 13 item 3): the registered capital with
its currency and separators on the card, in the form, the API and the import; a credit
amount and a dashboard date in Chinese."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from customers import services
from customers.models import BusinessType, Customer, ImportJob
from customers.services import imports
from customers.services.import_jobs import import_job_create
from customers.synthetic import mobile
from customers.tests.factories import api_client_for, make_customer, rep

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture(autouse=True)
def back_to_the_default_language():
    """A request in Chinese leaves its language active in the thread: reset it."""
    yield
    translation.deactivate()


def client_in(user, language: str) -> Client:
    client = Client()
    client.force_login(user)
    client.post(reverse("set_language"), {"language": language, "next": "/"})
    return client


def organisation(owner, **fields) -> Customer:
    return make_customer(
        owner, kind=Customer.Kind.ORGANISATION, name="华东汽配连锁有限公司", **fields
    )


def profile(client, customer) -> str:
    response = client.get(reverse("customers:tab", args=[customer.pk, "profile"]))
    assert response.status_code == 200
    return response.content.decode()


# --- the card -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "currency", "shown"),
    [
        ("en", "CNY", "CNY 5,000,000.00"),
        ("zh-hans", "CNY", "5,000,000.00 元"),
        ("en", "USD", "USD 5,000,000.00"),
        ("zh-hans", "USD", "5,000,000.00 美元"),
        ("en", "JPY", "JPY 5,000,000"),
        ("zh-hans", "HKD", "5,000,000.00 港元"),
    ],
)
def test_the_card_shows_the_capital_with_currency_and_separators(language, currency, shown):
    owner = rep()
    customer = organisation(
        owner,
        registered_capital=D("5000000.00"),
        registered_capital_currency=currency,
        founded_on=datetime.date(2008, 3, 7),
    )
    html = profile(client_in(owner, language), customer)
    assert shown in html
    assert "5000000" not in html
    assert ("2008年3月7日" if language == "zh-hans" else "03/07/2008") in html
    assert "2008-03-07" not in html


def test_a_card_without_capital_shows_a_dash_and_defaults_to_cny():
    owner = rep()
    customer = organisation(owner)
    assert customer.registered_capital_currency == "CNY"
    html = profile(client_in(owner, "en"), customer)
    assert 'Registered capital</dt><dd class="col-sm-8">—</dd>' in html


def test_the_card_form_puts_the_currency_beside_the_capital_and_saves_it():
    owner = rep()
    customer = organisation(owner, registered_capital=D("5000000.00"))
    client = client_in(owner, "en")
    url = reverse("customers:edit", args=[customer.pk])
    form = client.get(url).content.decode()
    capital = form.index('name="registered_capital"')
    currency = form.index('name="registered_capital_currency"')
    assert capital < currency and form.index('name="employees"') > currency
    assert '<option value="CNY" selected>' in form
    response = client.post(
        url,
        {
            "kind": "organisation",
            "business_type": customer.business_type_id,
            "version": customer.version,
            "registered_capital": "8000000.00",
            "registered_capital_currency": "EUR",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    customer.refresh_from_db()
    assert customer.registered_capital == D("8000000.00")
    assert customer.registered_capital_currency == "EUR"
    # A form sent without the currency (an older page) keeps the card's currency.
    client.post(
        url,
        {
            "kind": "organisation",
            "business_type": customer.business_type_id,
            "version": customer.version,
            "registered_capital": "9000000.00",
        },
    )
    customer.refresh_from_db()
    assert customer.registered_capital == D("9000000.00")
    assert customer.registered_capital_currency == "EUR"


def test_the_create_form_takes_the_currency():
    owner = rep()
    client = client_in(owner, "en")
    response = client.post(
        reverse("customers:create"),
        {
            "kind": "organisation",
            "name": "北方机电配件有限公司",
            "business_type": BusinessType.objects.get(code="other").pk,
            "phone": mobile(),
            "registered_capital": "2000000",
            "registered_capital_currency": "USD",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    customer = Customer.objects.get()
    assert (customer.registered_capital, customer.registered_capital_currency) == (
        D("2000000.00"),
        "USD",
    )


# --- the API ------------------------------------------------------------------------------

CREATE = {
    "kind": "organisation",
    "name": "金桥文具用品有限公司",
    "business_type": "other",
    "phone": "13900002222",
    "registered_capital": "5000000.00",
    "registered_capital_currency": "USD",
}


def test_the_api_round_trips_the_currency():
    owner = rep()
    api = api_client_for(owner)
    created = api.post("/api/v1/customers/", CREATE, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["registered_capital"] == "5000000.00"  # unchanged: a plain decimal string
    assert body["registered_capital_currency"] == "USD"
    pk = body["id"]
    got = api.get(f"/api/v1/customers/{pk}/").json()
    assert got["registered_capital_currency"] == "USD"
    patched = api.patch(
        f"/api/v1/customers/{pk}/",
        {"version": got["version"], "registered_capital_currency": "HKD"},
        format="json",
    )
    assert patched.status_code == 200, patched.content
    assert patched.json()["registered_capital_currency"] == "HKD"
    assert patched.json()["registered_capital"] == "5000000.00"
    assert Customer.objects.get(pk=pk).registered_capital_currency == "HKD"


def test_the_api_refuses_an_unknown_currency_and_defaults_to_cny():
    owner = rep()
    api = api_client_for(owner)
    refused = api.post(
        "/api/v1/customers/", {**CREATE, "registered_capital_currency": "XYZ"}, format="json"
    )
    assert refused.status_code == 400 and "registered_capital_currency" in refused.json()
    assert not Customer.objects.exists()
    payload = {k: v for k, v in CREATE.items() if k != "registered_capital_currency"}
    created = api.post("/api/v1/customers/", payload, format="json")
    assert created.status_code == 201
    assert created.json()["registered_capital_currency"] == "CNY"


# --- the import ---------------------------------------------------------------------------


@pytest.fixture
def upload_dir(settings, tmp_path):
    settings.CRM_UPLOAD_DIR = tmp_path
    return tmp_path


def csv_upload(rows) -> SimpleUploadedFile:
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return SimpleUploadedFile("customers.csv", text.getvalue().encode(), content_type="text/csv")


def run_import(capture, actor, rows, **options) -> ImportJob:
    with capture(execute=True):
        job = import_job_create(
            actor=actor, upload=csv_upload(rows), target=ImportJob.Target.CUSTOMERS, **options
        )
    job.refresh_from_db()
    return job


HEADER = ["名称", "类型", "手机", "业种", "注册资本", "币种"]


def test_the_import_reads_the_capital_and_its_optional_currency(
    django_capture_on_commit_callbacks, upload_dir
):
    actor = rep()
    rows = [
        HEADER,
        ["北方机电配件有限公司", "机构", mobile(), "other", "5,000,000.00", "美元"],
        ["恒通办公用品批发中心", "机构", mobile(), "other", "1000000", ""],
        ["海淀家电城", "机构", mobile(), "other", "300000.5", "hkd"],
    ]
    job = run_import(django_capture_on_commit_callbacks, actor, rows)
    assert job.status == ImportJob.Status.DONE, job.errors
    found = {
        c.organisation_name: (c.registered_capital, c.registered_capital_currency)
        for c in Customer.objects.all()
    }
    assert found == {
        "北方机电配件有限公司": (D("5000000.00"), "USD"),
        "恒通办公用品批发中心": (D("1000000.00"), "CNY"),
        "海淀家电城": (D("300000.50"), "HKD"),
    }


def test_the_import_reports_a_bad_capital_or_currency_by_column(
    django_capture_on_commit_callbacks, upload_dir
):
    actor = rep()
    rows = [
        HEADER,
        ["北方机电配件有限公司", "机构", mobile(), "other", "五百万", "CNY"],
        ["恒通办公用品批发中心", "机构", mobile(), "other", "1000000", "XYZ"],
        ["海淀家电城", "机构", mobile(), "other", "-5", ""],
        ["南山电器商行", "机构", mobile(), "other", "1.234", ""],
    ]
    job = run_import(django_capture_on_commit_callbacks, actor, rows, dry_run=True)
    errors = sorted((e["line"], e["column"]) for e in job.errors)
    assert errors == [
        (2, "registered_capital"),
        (3, "registered_capital_currency"),
        (4, "registered_capital"),
        (5, "registered_capital"),
    ], job.errors
    assert not Customer.objects.exists()


def test_the_row_by_row_import_path_writes_the_currency():
    """The fallback path (``write``) of a batch that met a raced duplicate."""
    actor = rep()
    checker = imports.CustomerChecker(actor)
    cells = {
        "name": "云岭户外用品专卖",
        "kind": "机构",
        "phone": mobile(),
        "business_type": "other",
        "registered_capital": "750000",
        "registered_capital_currency": "EUR",
    }
    row = checker.check(2, cells)
    assert row.errors == []
    checker.write(row)
    customer = Customer.objects.get()
    assert (customer.registered_capital, customer.registered_capital_currency) == (
        D("750000.00"),
        "EUR",
    )


# --- credit and the dashboard in Chinese --------------------------------------------------


def test_a_credit_amount_in_chinese():
    from credit.tests.factories import invoice, people, trading_customer

    cast = people()
    customer = trading_customer(cast, "1234567.00")
    invoice(customer, cast["north_manager"], "250000.00")
    page = (
        client_in(cast["owner"], "zh-hans")
        .get(reverse("customers:tab", args=[customer.pk, "credit"]))
        .content.decode()
    )
    assert "1,234,567.00 元" in page and "250,000.00 元" in page
    assert "1234567.00" not in page and "CNY" not in page
    english = (
        client_in(cast["owner"], "en")
        .get(reverse("customers:tab", args=[customer.pk, "credit"]))
        .content.decode()
    )
    assert "CNY 1,234,567.00" in english and "CNY 250,000.00" in english


def test_a_dashboard_date_in_chinese():
    owner = rep()
    customer = make_customer(owner)
    due = timezone.localdate() + datetime.timedelta(days=1)
    services.interaction_log(
        actor=owner, customer=customer, kind="call", summary="回访", next_follow_up=due
    )
    html = client_in(owner, "zh-hans").get(reverse("home")).content.decode()
    assert f"{due.year}年{due.month}月{due.day}日" in html
    assert due.isoformat() not in html


def test_the_timeline_dates_are_localized_and_machine_readable():
    owner = rep()
    customer = make_customer(owner)
    html = (
        client_in(owner, "zh-hans")
        .get(reverse("customers:tab", args=[customer.pk, "timeline"]))
        .content.decode()
    )
    created = timezone.localtime(customer.created_at)
    assert f'<time datetime="{created.date().isoformat()}T' in html
    assert f">{created.year}年{created.month}月{created.day}日 " in html


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_reverification_message_shows_a_localized_date(language):
    owner = rep()
    customer = make_customer(owner)
    response = client_in(owner, language).post(
        reverse("customers:reverify", args=[customer.pk]), follow=True
    )
    customer.refresh_from_db()
    due = customer.reverification_due
    html = response.content.decode()
    expected = (
        f"{due.year}年{due.month}月{due.day}日"
        if language == "zh-hans"
        else f"{due.month:02d}/{due.day:02d}/{due.year}"
    )
    assert expected in html and due.isoformat() not in html
