"""Receivables import (invoices, payments) through ``crm.imports``: good files, bad rows by
line and column with nothing written, idempotent re-import, dry run, hidden customers."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from credit import imports as credit_imports
from credit.models import CreditAccount, Invoice, Payment, PaymentAllocation
from credit.tests.factories import complete_organisation, invoice, people, trading_customer
from customers.models import ImportJob
from customers.services.import_jobs import import_job_create

pytestmark = pytest.mark.django_db
D = Decimal
INVOICE_HEADER = ["客户编码", "发票号码", "开票日期", "到期日", "金额", "币种", "已付金额"]
PAYMENT_HEADER = ["customer_code", "invoice_number", "received_on", "amount", "reference"]


@pytest.fixture(autouse=True)
def _upload_dir(settings, tmp_path):
    settings.CRM_UPLOAD_DIR = tmp_path


@pytest.fixture
def world():
    cast = people()
    return cast, trading_customer(cast, "100000.00")


def csv_file(rows, name="receivables.csv") -> SimpleUploadedFile:
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return SimpleUploadedFile(name, text.getvalue().encode("utf-8"), content_type="text/csv")


def xlsx_file(rows, name="receivables.xlsx") -> SimpleUploadedFile:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile(name, out.getvalue())


def run(capture, actor, upload, target, **options) -> ImportJob:
    with capture(execute=True):
        job = import_job_create(actor=actor, upload=upload, target=target, **options)
    job.refresh_from_db()
    return job


def errors_of(job) -> list[tuple[int, str, str]]:
    return [(e["line"], e["column"], e["message"]) for e in job.errors]


def good_invoices(code):
    return [
        INVOICE_HEADER,
        [code, "INV-A-1", "2026-01-05", "2026-02-04", "1200.00", "CNY", ""],
        [code, "INV-A-2", "2026/01/10", "2026/03/10", "800.50", "", "300.50"],
    ]


# --- invoices ---------------------------------------------------------------------------------


def test_a_good_invoice_file_is_imported_with_history_and_one_audit_event(
    world, django_capture_on_commit_callbacks
):
    cast, customer = world
    job = run(
        django_capture_on_commit_callbacks,
        cast["north_manager"],
        csv_file(good_invoices(customer.code)),
        credit_imports.INVOICES,
    )
    assert job.status == ImportJob.Status.DONE, job.errors
    assert (job.rows_total, job.rows_valid, job.rows_invalid, job.rows_imported) == (2, 2, 0, 2)
    first, second = Invoice.objects.filter(customer=customer).order_by("number")
    assert (first.number, first.amount, first.paid_amount, first.currency) == (
        "INV-A-1",
        D("1200.00"),
        D("0.00"),
        "CNY",
    )
    assert str(first.issued_on) == "2026-01-05" and str(first.due_on) == "2026-02-04"
    assert (second.amount, second.paid_amount) == (D("800.50"), D("300.50"))
    assert first.history.count() == 1
    assert first.history.get().history_user_id == cast["north_manager"].pk
    event = AuditEvent.objects.get(action="credit.receivables_imported")
    assert event.data["imported"] == 2 and event.data["target"] == "credit_invoices"


def test_an_xlsx_invoice_file_is_read_too(world, django_capture_on_commit_callbacks):
    cast, customer = world
    job = run(
        django_capture_on_commit_callbacks,
        cast["north_manager"],
        xlsx_file(good_invoices(customer.code)),
        credit_imports.INVOICES,
    )
    assert job.status == ImportJob.Status.DONE, job.errors
    assert Invoice.objects.filter(customer=customer).count() == 2


def test_imported_invoices_count_in_exposure_and_raise_the_warning(
    world, django_capture_on_commit_callbacks
):
    from credit import selectors

    cast, customer = world
    rows = [INVOICE_HEADER, [customer.code, "INV-W", "2026-01-05", "2026-02-04", "90000.00"]]
    job = run(
        django_capture_on_commit_callbacks,
        cast["north_manager"],
        csv_file(rows),
        credit_imports.INVOICES,
    )
    assert job.status == ImportJob.Status.DONE, job.errors
    assert selectors.credit_summary(customer.pk).exposure == D("90000.00")
    assert CreditAccount.objects.get(customer=customer).warning_active  # exactly 90 %


def test_bad_rows_are_reported_by_line_and_column_and_nothing_is_written(
    world, django_capture_on_commit_callbacks
):
    cast, customer = world
    invoice(customer, cast["north_manager"], "10.00", number="INV-OLD")
    hidden = complete_organisation(cast["south_rep"])
    rows = [
        INVOICE_HEADER,
        [customer.code, "INV-1", "2026-01-05", "2026-02-04", "100.00", "", ""],  # 2: good
        [customer.code, "INV-2", "2026-01-05", "2026-01-04", "100.00", "", ""],  # 3
        [customer.code, "INV-3", "2026-13-01", "2026-02-04", "1.005", "", ""],  # 4
        [hidden.code, "INV-4", "2026-01-05", "2026-02-04", "100.00", "", ""],  # 5
        ["C9999999", "INV-5", "2026-01-05", "2026-02-04", "100.00", "", ""],  # 6
        [customer.code, "INV-OLD", "2026-01-05", "2026-02-04", "100.00", "", ""],  # 7
        [customer.code, "INV-1", "2026-01-05", "2026-02-04", "100.00", "", ""],  # 8
        [customer.code, "INV-6", "2026-01-05", "2026-02-04", "100.00", "USD", "101.00"],  # 9
        [customer.code, "", "", "2026-02-04", "-5", "", ""],  # 10
    ]
    job = run(
        django_capture_on_commit_callbacks,
        cast["north_manager"],
        csv_file(rows),
        credit_imports.INVOICES,
    )
    assert job.status == ImportJob.Status.REJECTED
    assert errors_of(job) == [
        (3, "due_on", credit_imports.DUE_BEFORE_ISSUE),
        (4, "issued_on", "Enter a date as YYYY-MM-DD."),
        (4, "amount", credit_imports.BAD_AMOUNT),
        (5, "customer", credit_imports.UNKNOWN_CUSTOMER),
        (6, "customer", credit_imports.UNKNOWN_CUSTOMER),
        (7, "number", credit_imports.INVOICE_STORED),
        (8, "number", "The same value is already on line %(line)s of this file."),
        (9, "currency", credit_imports.WRONG_CURRENCY),
        (9, "paid_amount", credit_imports.BAD_PAID),
        (10, "number", "This field is required."),
        (10, "issued_on", "This field is required."),
        (10, "amount", credit_imports.BAD_AMOUNT),
    ]
    assert job.rows_valid == 1 and job.rows_invalid == 8 and job.rows_imported == 0
    assert list(Invoice.objects.values_list("number", flat=True)) == ["INV-OLD"]
    # The hidden customer's line does not say whose the code is.
    assert hidden.name not in str(job.errors)


def test_reimporting_the_same_file_writes_nothing_twice(world, django_capture_on_commit_callbacks):
    cast, customer = world
    first = run(
        django_capture_on_commit_callbacks,
        cast["north_manager"],
        csv_file(good_invoices(customer.code)),
        credit_imports.INVOICES,
    )
    assert first.status == ImportJob.Status.DONE
    again = run(
        django_capture_on_commit_callbacks,
        cast["north_manager"],
        csv_file(good_invoices(customer.code)),
        credit_imports.INVOICES,
        mode=ImportJob.Mode.VALID_ROWS,
    )
    assert again.rows_imported == 0
    assert errors_of(again) == [
        (2, "number", credit_imports.INVOICE_STORED),
        (3, "number", credit_imports.INVOICE_STORED),
    ]
    assert Invoice.objects.filter(customer=customer).count() == 2


def test_a_dry_run_writes_nothing(world, django_capture_on_commit_callbacks):
    cast, customer = world
    job = run(
        django_capture_on_commit_callbacks,
        cast["north_manager"],
        csv_file(good_invoices(customer.code)),
        credit_imports.INVOICES,
        dry_run=True,
    )
    assert job.status == ImportJob.Status.CHECKED
    assert (job.rows_valid, job.rows_imported) == (2, 0)
    assert not Invoice.objects.exists()


@pytest.mark.parametrize("who", ["owner", "auditor"])
def test_those_who_may_not_record_invoices_cannot_import_them(world, who):
    from django.core.exceptions import PermissionDenied

    cast, customer = world
    with pytest.raises(PermissionDenied):
        import_job_create(
            actor=cast[who],
            upload=csv_file(good_invoices(customer.code)),
            target=credit_imports.INVOICES,
        )
    assert not ImportJob.objects.exists() and not Invoice.objects.exists()


# --- payments ---------------------------------------------------------------------------------


def test_payments_are_allocated_to_their_invoice_by_number(
    world, django_capture_on_commit_callbacks
):
    cast, customer = world
    first = invoice(customer, cast["north_manager"], "1000.00", number="INV-P1")
    second = invoice(customer, cast["north_manager"], "500.00", number="INV-P2")
    rows = [
        PAYMENT_HEADER,
        [customer.code, "INV-P1", "2026-02-01", "600.00", "BANK-1"],
        [customer.code, "INV-P1", "2026-02-02", "400.00", "BANK-2"],
        [customer.code, "INV-P2", "2026-02-02", "0.01", ""],
    ]
    job = run(
        django_capture_on_commit_callbacks,
        cast["north_manager"],
        csv_file(rows),
        credit_imports.PAYMENTS,
    )
    assert job.status == ImportJob.Status.DONE, job.errors
    assert job.rows_imported == 3
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.paid_amount, second.paid_amount) == (D("1000.00"), D("0.01"))
    assert sorted(
        PaymentAllocation.objects.values_list("invoice__number", "amount", "payment__reference")
    ) == [
        ("INV-P1", D("400.00"), "BANK-2"),
        ("INV-P1", D("600.00"), "BANK-1"),
        ("INV-P2", D("0.01"), ""),
    ]
    assert Payment.objects.filter(recorded_by=cast["north_manager"]).count() == 3
    assert first.history.latest().paid_amount == D("1000.00")


def test_bad_payment_rows_are_reported_and_nothing_is_written(
    world, django_capture_on_commit_callbacks
):
    cast, customer = world
    invoice(customer, cast["north_manager"], "100.00", number="INV-Q1")
    other = trading_customer(cast, "1000.00")
    invoice(other, cast["north_manager"], "100.00", number="INV-OTHER")
    rows = [
        PAYMENT_HEADER,
        [customer.code, "INV-Q1", "2026-02-01", "60.00", "R1"],  # 2: good
        [customer.code, "INV-Q1", "2026-02-01", "40.01", "R2"],  # 3: one cent over what is open
        [customer.code, "INV-OTHER", "2026-02-01", "1.00", "R3"],  # 4: another's invoice
        [customer.code, "INV-NONE", "2026-02-01", "1.00", "R4"],  # 5
        [customer.code, "INV-Q1", "yesterday", "0", "R5"],  # 6
    ]
    job = run(
        django_capture_on_commit_callbacks,
        cast["north_manager"],
        csv_file(rows),
        credit_imports.PAYMENTS,
    )
    assert job.status == ImportJob.Status.REJECTED
    assert errors_of(job) == [
        (3, "amount", credit_imports.OVER_OPEN),
        (4, "invoice", credit_imports.UNKNOWN_INVOICE),
        (5, "invoice", credit_imports.UNKNOWN_INVOICE),
        (6, "received_on", "Enter a date as YYYY-MM-DD."),
        (6, "amount", credit_imports.BAD_AMOUNT),
    ]
    assert job.errors[0]["params"] == {"open": "40.00"}
    assert not Payment.objects.exists()
    assert Invoice.objects.get(number="INV-Q1").paid_amount == D("0.00")


def test_reimporting_payments_is_idempotent(world, django_capture_on_commit_callbacks):
    cast, customer = world
    bill = invoice(customer, cast["north_manager"], "1000.00", number="INV-R1")
    rows = [PAYMENT_HEADER, [customer.code, "INV-R1", "2026-02-01", "100.00", "R1"]]
    assert (
        run(
            django_capture_on_commit_callbacks,
            cast["north_manager"],
            csv_file(rows),
            credit_imports.PAYMENTS,
        ).status
        == ImportJob.Status.DONE
    )
    again = run(
        django_capture_on_commit_callbacks,
        cast["north_manager"],
        csv_file(rows),
        credit_imports.PAYMENTS,
    )
    assert again.status == ImportJob.Status.REJECTED
    assert errors_of(again) == [(2, "invoice", credit_imports.PAYMENT_STORED)]
    bill.refresh_from_db()
    assert bill.paid_amount == D("100.00") and Payment.objects.count() == 1


def test_a_payment_dry_run_writes_nothing(world, django_capture_on_commit_callbacks):
    cast, customer = world
    bill = invoice(customer, cast["north_manager"], "1000.00", number="INV-D1")
    rows = [PAYMENT_HEADER, [customer.code, "INV-D1", "2026-02-01", "100.00", "R1"]]
    job = run(
        django_capture_on_commit_callbacks,
        cast["north_manager"],
        csv_file(rows),
        credit_imports.PAYMENTS,
        dry_run=True,
    )
    assert job.status == ImportJob.Status.CHECKED and job.rows_valid == 1
    bill.refresh_from_db()
    assert bill.paid_amount == D("0.00") and not Payment.objects.exists()


# --- reachable from the credit pages ------------------------------------------------------------


def test_the_credit_tab_links_to_the_import_page_with_the_target_preselected(world):
    cast, customer = world
    client = Client()
    client.force_login(cast["north_manager"])
    tab = client.get(reverse("customers:tab", args=[customer.pk, "credit"])).content.decode()
    link = reverse("customers:import-create") + "?target=credit_invoices"
    assert link in tab
    assert reverse("customers:import-create") + "?target=credit_payments" in tab
    page = client.get(link).content.decode()
    assert '<option value="credit_invoices" selected>' in page
    client.force_login(cast["owner"])  # the rep records no receivables: no link
    tab = client.get(reverse("customers:tab", args=[customer.pk, "credit"])).content.decode()
    assert "?target=credit_invoices" not in tab


def test_the_reports_page_links_to_the_imports(world):
    cast, _customer = world
    client = Client()
    client.force_login(cast["gm"])
    page = client.get(reverse("credit:reports")).content.decode()
    assert "?target=credit_payments" in page
