"""Purchase estimates (share of wallet): the service, the page, the API and the import."""

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from analytics import services
from analytics.models import PurchaseEstimate
from analytics.tests.factories import ProductFactory, estimate, line
from audit.models import AuditEvent
from customers.services.import_jobs import import_job_create
from customers.tests.factories import api_client_for, company_people, make_customer

pytestmark = pytest.mark.django_db

URL = "/api/v1/analytics/estimates/"
PAGE = "/analytics/estimates/"


@pytest.fixture
def people():
    return company_people()


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- the service --------------------------------------------------------------------------


def test_save_records_history_and_an_audit_event_and_replaces(people):
    owner = people["owner"]
    customer = make_customer(owner)
    saved = services.purchase_estimate_save(
        actor=owner, customer=customer, year=2025, amount="2000.00", source="asked"
    )
    assert (saved.amount, saved.source) == (Decimal("2000.00"), "asked")
    same = services.purchase_estimate_save(
        actor=owner, customer=customer, year=2025, amount="2000", source="asked"
    )
    assert same.pk == saved.pk and saved.history.count() == 1  # unchanged: nothing written
    services.purchase_estimate_save(
        actor=owner, customer=customer, year=2025, amount="2500", source="financials"
    )
    versions = list(saved.history.order_by("history_date"))
    assert [(v.history_type, v.amount, v.source) for v in versions] == [
        ("+", Decimal("2000.00"), "asked"),
        ("~", Decimal("2500.00"), "financials"),
    ]
    assert {v.history_user_id for v in versions} == {owner.pk}
    events = AuditEvent.objects.filter(action="analytics.estimate_saved", actor=owner)
    assert events.count() == 2
    assert events.first().data == {
        "customer": customer.pk,
        "year": 2025,
        "fields": ["amount", "source"],
    }
    assert PurchaseEstimate.objects.count() == 1


def test_save_refuses_bad_values_and_roles_without_the_permission(people):
    customer = make_customer(people["owner"])
    with pytest.raises(ValidationError) as caught:
        services.purchase_estimate_save(
            actor=people["owner"], customer=customer, year=1800, amount="0", source="guess"
        )
    assert set(caught.value.message_dict) == {"year", "amount", "source"}
    for role in ("service", "dpo", "auditor", "admin"):
        with pytest.raises(PermissionDenied):
            services.purchase_estimate_save(
                actor=people[role], customer=customer, year=2025, amount="1", source="plan"
            )
    assert PurchaseEstimate.objects.count() == 0


# --- the API ------------------------------------------------------------------------------


def test_api_create_and_list_only_visible_customers(people, assert_queries):
    mine = make_customer(people["owner"])
    colleague = make_customer(people["north_rep"])
    southern = make_customer(people["south_rep"])
    client = api_client_for(people["owner"])
    body = {"customer": mine.pk, "year": 2025, "amount": "1200.50", "source": "plan"}
    answer = client.post(URL, body, format="json")
    assert answer.status_code == 201, answer.json()
    assert {k: answer.json()[k] for k in ("customer", "customer_code", "year", "amount")} == {
        "customer": mine.pk,
        "customer_code": mine.code,
        "year": 2025,
        "amount": "1200.50",
    }
    estimate(colleague, 2025, 500)
    estimate(southern, 2025, 700)
    hidden = client.post(URL, {**body, "customer": southern.pk}, format="json")
    assert hidden.status_code == 404
    assert AuditEvent.objects.filter(action="access.denied", actor=people["owner"]).exists()
    assert PurchaseEstimate.objects.filter(customer=southern).get().amount == Decimal("700.00")

    def codes(role):
        rows = api_client_for(people[role]).get(URL).json()["results"]
        return sorted(row["customer_code"] for row in rows)

    assert codes("owner") == [mine.code]
    assert codes("north_manager") == sorted([mine.code, colleague.code])
    assert codes("gm") == sorted([mine.code, colleague.code, southern.code])
    gm = api_client_for(people["gm"])
    assert [r["customer"] for r in gm.get(URL, {"customer": southern.pk}).json()["results"]] == [
        southern.pk
    ]
    assert gm.get(URL, {"year": 2024}).json()["results"] == []


def test_api_bad_values_are_field_errors(people):
    client = api_client_for(people["owner"])
    mine = make_customer(people["owner"])
    answer = client.post(
        URL, {"customer": mine.pk, "year": 2025, "amount": "0", "source": "plan"}, format="json"
    )
    assert answer.status_code == 400 and "amount" in answer.json()
    answer = client.post(
        URL, {"customer": mine.pk, "year": 2025, "amount": "5", "source": "guess"}, format="json"
    )
    assert answer.status_code == 400 and "source" in answer.json()
    assert PurchaseEstimate.objects.count() == 0


def test_api_permissions(people):
    mine = make_customer(people["owner"])
    body = {"customer": mine.pk, "year": 2025, "amount": "10", "source": "asked"}
    assert APIClient().get(URL).status_code in (401, 403)
    assert APIClient().post(URL, body, format="json").status_code in (401, 403)
    for role in ("service", "dpo", "auditor", "admin"):
        client = api_client_for(people[role])
        assert client.get(URL).status_code == 403, role
        assert client.post(URL, body, format="json").status_code == 403, role
    assert PurchaseEstimate.objects.count() == 0
    for role in ("owner", "north_manager", "gm"):
        assert api_client_for(people[role]).post(URL, body, format="json").status_code == 201


def test_api_list_query_count_does_not_grow(people, assert_queries):
    client = api_client_for(people["gm"])
    counts = []
    for size in (1, 15):
        for year in range(2000, 2000 + size):
            estimate(make_customer(people["owner"]), year, 100)
        client.get(URL)  # warm the caches
        with assert_queries(keys=0) as counted:
            assert len(client.get(URL).json()["results"]) == min(
                PurchaseEstimate.objects.count(), 50
            )
        counts.append(counted["default"])
    # The user's owners (customer_list), the count, the page: not one more per row.
    assert counts == [3, 3]


def test_share_of_wallet_uses_an_estimate_entered_through_the_api(people):
    mine = make_customer(people["owner"])
    line(mine, ProductFactory(), "2025-05-05", 600)
    client = api_client_for(people["owner"])
    params = {"date_from": "2025-01-01", "date_to": "2025-12-31"}
    before = client.get("/api/v1/analytics/reports/share/", params).json()["rows"][0]
    assert before["share_of_wallet"] is None
    body = {"customer": mine.pk, "year": 2025, "amount": "2000", "source": "financials"}
    assert client.post(URL, body, format="json").status_code == 201
    row = client.get("/api/v1/analytics/reports/share/", params).json()["rows"][0]
    assert (row["estimate"], row["estimate_sources"], row["share_of_wallet"]) == (
        "2000.00",
        ["financials"],
        "30.00",
    )


# --- the page -----------------------------------------------------------------------------


def test_page_lists_visible_estimates_and_records_one(people):
    mine = make_customer(people["owner"])
    southern = make_customer(people["south_rep"])
    estimate(southern, 2025, 900)
    client = client_for(people["owner"])
    page = client.get(PAGE)
    assert page.status_code == 200
    assert 'id="estimate-form"' in page.content.decode()
    assert southern.code not in page.content.decode()
    saved = client.post(
        PAGE, {"customer": mine.code, "year": "2025", "amount": "3000", "source": "stock"}
    )
    assert saved.status_code == 302
    assert PurchaseEstimate.objects.get(customer=mine).amount == Decimal("3000.00")
    htmx = client.post(
        PAGE,
        {"customer": mine.code, "year": "2025", "amount": "3500", "source": "stock"},
        headers={"HX-Request": "true"},
    )
    assert htmx.status_code == 200 and "<html" not in htmx.content.decode()
    assert "3,500.00" in htmx.content.decode()
    hidden = client.post(
        PAGE, {"customer": southern.code, "year": "2025", "amount": "1", "source": "stock"}
    )
    assert hidden.status_code == 400 and 'id="estimate-errors"' in hidden.content.decode()
    hidden_htmx = client.post(  # htmx swaps only a 2xx answer: the errors come with a 200
        PAGE,
        {"customer": southern.code, "year": "2025", "amount": "1", "source": "stock"},
        headers={"HX-Request": "true"},
    )
    assert hidden_htmx.status_code == 200
    assert 'id="estimate-errors"' in hidden_htmx.content.decode()
    assert PurchaseEstimate.objects.get(customer=southern).amount == Decimal("900.00")
    saved_estimate = PurchaseEstimate.objects.get(customer=mine)
    history = client.get(f"/analytics/estimates/{saved_estimate.pk}/history/")
    assert history.status_code == 200
    assert [v.amount for v in history.context["versions"]] == [
        Decimal("3500.00"),
        Decimal("3000.00"),
    ]
    southern_estimate = PurchaseEstimate.objects.get(customer=southern)
    assert client.get(f"/analytics/estimates/{southern_estimate.pk}/history/").status_code == 404


def test_page_permissions(people):
    mine = make_customer(people["owner"])
    body = {"customer": mine.code, "year": "2025", "amount": "5", "source": "plan"}
    assert Client().get(PAGE).status_code == 302
    for role in ("service", "dpo", "auditor", "admin"):
        assert client_for(people[role]).get(PAGE).status_code == 403, role
        assert client_for(people[role]).post(PAGE, body).status_code == 403, role
    assert PurchaseEstimate.objects.count() == 0
    for role in ("owner", "north_manager", "gm"):
        assert client_for(people[role]).get(PAGE).status_code == 200, role


def test_page_query_count_does_not_grow(people, assert_queries):
    client = client_for(people["gm"])
    counts = []
    for size in (1, 12):
        for year in range(2000, 2000 + size):
            estimate(make_customer(people["owner"]), year, 100)
        client.get(PAGE)
        with assert_queries(keys=0) as counted:
            client.get(PAGE)
        counts.append(counted["default"])
    assert counts[0] == counts[1] == PAGE_QUERIES


# Session, user, the layout's own look-ups, the user's owners, the count and the page:
# the same whatever the number of estimates.
PAGE_QUERIES = 7


# --- the import ---------------------------------------------------------------------------

HEADER = ["客户编码", "年度", "估计采购额", "来源"]


@pytest.fixture
def upload_dir(settings, tmp_path):
    settings.CRM_UPLOAD_DIR = tmp_path
    return tmp_path


def _csv(rows):
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return SimpleUploadedFile("estimates.csv", text.getvalue().encode("utf-8"))


def _xlsx(rows):
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return SimpleUploadedFile("estimates.xlsx", out.getvalue())


def _run(capture, actor, upload, **options):
    options.setdefault("target", "purchase_estimates")
    with capture(execute=True):
        job = import_job_create(actor=actor, upload=upload, **options)
    job.refresh_from_db()
    return job


def test_import_dry_run_errors_import_and_again(
    people, upload_dir, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    owner = people["owner"]
    a, b = make_customer(owner), make_customer(owner)
    southern = make_customer(people["south_rep"])
    good = [HEADER, [a.code, "2025", "2000", "询问客户"], [b.code, "2025", "500.50", "plan"]]
    dry = _run(capture, owner, _csv(good), dry_run=True)
    assert (dry.status, dry.rows_valid, PurchaseEstimate.objects.count()) == ("checked", 2, 0)
    bad = [
        *good,
        [southern.code, "2025", "100", "plan"],  # not his customer
        [a.code, "2025", "1", "plan"],  # the same customer and year again
        [b.code, "20x5", "-1", "guess"],
    ]
    rejected = _run(capture, owner, _csv(bad))
    assert rejected.status == "rejected"
    assert sorted((e["line"], e["column"]) for e in rejected.errors) == [
        (4, "customer"),
        (5, "year"),
        (6, "amount"),
        (6, "source"),
        (6, "year"),
    ]
    assert southern.code not in str(rejected.errors)
    assert PurchaseEstimate.objects.count() == 0
    job = _run(capture, owner, _xlsx(good))
    assert (job.status, job.rows_imported) == ("done", 2)
    assert sorted(PurchaseEstimate.objects.values_list("customer_id", "amount", "source")) == [
        (a.pk, Decimal("2000.00"), "asked"),
        (b.pk, Decimal("500.50"), "plan"),
    ]
    assert PurchaseEstimate.history.count() == 2
    again = _run(capture, owner, _csv(good))
    assert again.status == "rejected" and again.rows_invalid == 2
    assert PurchaseEstimate.history.count() == 2
    event = AuditEvent.objects.filter(action="analytics.imported").order_by("pk").last()
    assert event.data["target"] == "purchase_estimates"


def test_import_needs_the_estimate_permission(people, upload_dir):
    with pytest.raises(PermissionDenied):
        import_job_create(
            actor=people["admin"],
            upload=_csv([HEADER, ["C1", "2025", "1", "plan"]]),
            target="purchase_estimates",
        )
