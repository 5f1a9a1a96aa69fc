"""Sales lines and stock snapshots from CSV/XLSX through the import framework."""

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from analytics.models import SalesLine, StockSnapshot
from analytics.tests.factories import ProductFactory
from customers.models import ImportJob
from customers.services.import_jobs import import_job_create
from customers.tests.factories import company_people, make_customer

pytestmark = pytest.mark.django_db

HEADER = ["客户编码", "产品编码", "日期", "数量", "金额", "成本"]


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.CRM_UPLOAD_DIR = tmp_path
    return tmp_path


def csv_file(rows, name="sales.csv"):
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return SimpleUploadedFile(name, text.getvalue().encode("utf-8"), content_type="text/csv")


def xlsx_file(rows, name="sales.xlsx"):
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return SimpleUploadedFile(name, out.getvalue())


def run(capture, actor, upload, **options) -> ImportJob:
    options.setdefault("target", "sales_lines")
    with capture(execute=True):
        job = import_job_create(actor=actor, upload=upload, **options)
    job.refresh_from_db()
    return job


@pytest.fixture
def cast():
    people = company_people()
    return people, make_customer(people["owner"]), make_customer(people["south_rep"])


def test_import_dry_run_then_import_then_again(django_capture_on_commit_callbacks, cast):
    people, mine, _other = cast
    product = ProductFactory(code="P-1")
    rows = [HEADER] + [
        [mine.code, "P-1", f"2025-01-{d:02d}", "1", "10.00", "6.00"] for d in range(1, 6)
    ]
    rows.append([mine.code, "P-1", "2025-01-01", "1", "10.00", "6.00"])  # the same line twice
    manager = people["north_manager"]
    dry = run(django_capture_on_commit_callbacks, manager, csv_file(rows), dry_run=True)
    assert (dry.status, dry.rows_valid, SalesLine.objects.count()) == ("checked", 6, 0)
    job = run(django_capture_on_commit_callbacks, manager, csv_file(rows))
    assert (job.status, job.rows_imported) == ("done", 6)
    assert SalesLine.objects.filter(product=product).count() == 6
    again = run(django_capture_on_commit_callbacks, manager, xlsx_file(rows))
    assert again.status == "rejected" and again.rows_invalid == 6
    assert SalesLine.objects.count() == 6


def test_bad_lines_by_line_and_column_and_nothing_written(django_capture_on_commit_callbacks, cast):
    people, mine, other = cast
    ProductFactory(code="P-1")
    rows = [
        HEADER,
        [mine.code, "P-1", "2025-01-01", "1", "10.00", "6.00"],
        [other.code, "P-1", "2025-01-01", "1", "10.00", "6.00"],  # not his customer
        [mine.code, "NOPE", "2025-02-30", "x", "10.00", "6.00"],
    ]
    job = run(django_capture_on_commit_callbacks, people["north_manager"], csv_file(rows))
    assert job.status == "rejected"
    assert sorted((e["line"], e["column"]) for e in job.errors) == [
        (3, "customer"),
        (4, "date"),
        (4, "product"),
        (4, "quantity"),
    ]
    assert other.code not in str(job.errors)
    assert SalesLine.objects.count() == 0
    valid_only = run(
        django_capture_on_commit_callbacks,
        people["north_manager"],
        csv_file(rows),
        mode="valid_rows",
    )
    assert valid_only.rows_imported == 1 and SalesLine.objects.count() == 1


def test_stock_import(django_capture_on_commit_callbacks, cast):
    people, mine, _other = cast
    ProductFactory(code="P-1")
    rows = [
        ["客户编码", "产品编码", "月份", "期初数量", "期末数量", "期初金额", "期末金额"],
        [mine.code, "P-1", "2025-04", "1", "2", "100", "200"],
        [mine.code, "P-1", "2025-05", "2", "2", "200", "200"],
    ]
    job = run(
        django_capture_on_commit_callbacks,
        people["north_manager"],
        csv_file(rows),
        target="stock_snapshots",
    )
    assert (job.status, job.rows_imported, StockSnapshot.objects.count()) == ("done", 2, 2)
    again = run(
        django_capture_on_commit_callbacks,
        people["north_manager"],
        csv_file(rows),
        target="stock_snapshots",
    )
    assert again.status == "rejected" and StockSnapshot.objects.count() == 2


def test_a_rep_without_the_load_permission_cannot_import(cast):
    from django.core.exceptions import PermissionDenied

    people, mine, _other = cast
    with pytest.raises(PermissionDenied):
        import_job_create(
            actor=people["owner"],
            upload=csv_file([HEADER, [mine.code, "P", "2025-01-01", "1", "1", "1"]]),
            target="sales_lines",
        )


# --- the bulk path ------------------------------------------------------------------------


def _inserts(queries, table: str) -> int:
    return sum(1 for q in queries if q["sql"].startswith(f'INSERT INTO "{table}"'))


def test_sales_lines_are_written_a_batch_at_a_time(
    django_capture_on_commit_callbacks, cast, monkeypatch
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from analytics import imports as targets
    from crm.imports import jobs

    people, mine, _other = cast
    ProductFactory(code="P-1")
    monkeypatch.setattr(jobs, "WRITE_BATCH", 2)

    def one_by_one(self, row):
        raise AssertionError("the bulk path writes every batch")

    monkeypatch.setattr(targets.SalesLineChecker, "write", one_by_one)
    rows = [HEADER] + [
        [mine.code, "P-1", f"2025-02-{d:02d}", "1", "10.00", "6.00"] for d in range(1, 6)
    ]
    with CaptureQueriesContext(connection) as captured:
        job = run(django_capture_on_commit_callbacks, people["north_manager"], csv_file(rows))
    assert (job.status, job.rows_imported, SalesLine.objects.count()) == ("done", 5, 5)
    # 5 lines, 2 a batch: three batches, one INSERT each (not one per line).
    assert _inserts(captured.captured_queries, "analytics_salesline") == 3
    assert set(SalesLine.objects.values_list("created_by", flat=True)) == {
        people["north_manager"].pk
    }


def test_a_batch_that_meets_a_database_error_is_rolled_back_and_written_line_by_line(
    django_capture_on_commit_callbacks, cast, monkeypatch
):
    from django.db import IntegrityError

    from analytics import imports as targets

    people, mine, _other = cast
    ProductFactory(code="P-1")
    real = targets.SalesLineChecker.write_batch
    calls = {"n": 0}

    def raced(self, rows):
        calls["n"] += 1
        real(self, rows)  # the lines are inserted, then the batch fails: all rolled back
        raise IntegrityError("a duplicate raced in")

    monkeypatch.setattr(targets.SalesLineChecker, "write_batch", raced)
    rows = [HEADER] + [
        [mine.code, "P-1", f"2025-02-{d:02d}", "1", "10.00", "6.00"] for d in range(1, 4)
    ]
    job = run(django_capture_on_commit_callbacks, people["north_manager"], csv_file(rows))
    assert calls["n"] == 1
    assert (job.status, job.rows_imported, job.errors) == ("done", 3, [])
    assert SalesLine.objects.count() == 3  # written once, line by line


def test_stock_snapshots_take_the_bulk_path(django_capture_on_commit_callbacks, cast, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from crm.imports import jobs

    people, mine, _other = cast
    ProductFactory(code="P-1")
    monkeypatch.setattr(jobs, "WRITE_BATCH", 3)
    rows = [["客户编码", "产品编码", "月份", "期初数量", "期末数量", "期初金额", "期末金额"]] + [
        [mine.code, "P-1", f"2024-{m:02d}", "1", "2", "100", "200"] for m in range(1, 7)
    ]
    with CaptureQueriesContext(connection) as captured:
        job = run(
            django_capture_on_commit_callbacks,
            people["north_manager"],
            csv_file(rows),
            target="stock_snapshots",
        )
    assert (job.status, StockSnapshot.objects.count()) == ("done", 6)
    assert _inserts(captured.captured_queries, "analytics_stocksnapshot") == 2


# --- products -----------------------------------------------------------------------------

PRODUCT_HEADER = ["产品编码", "产品名称", "类别", "标准成本"]


def test_product_import_dry_run_errors_import_and_again(django_capture_on_commit_callbacks, cast):
    from analytics.models import Product

    people, _mine, _other = cast
    manager = people["north_manager"]
    ProductFactory(code="OLD")
    good = [PRODUCT_HEADER, ["N-1", "Bolt", "tools", "1.25"], ["N-2", "Nut", "", ""]]
    dry = run(
        django_capture_on_commit_callbacks, manager, csv_file(good), target="products", dry_run=True
    )
    assert (dry.status, dry.rows_valid, Product.objects.count()) == ("checked", 2, 1)
    bad = [
        *good,
        ["OLD", "Stored", "", "1"],  # the code is taken
        ["N-1", "Again", "", "1"],  # the same code on line 2
        ["N-3", "", "", "-1"],
        ["N-4", "Cheap", "", "0.001"],
    ]
    rejected = run(django_capture_on_commit_callbacks, manager, csv_file(bad), target="products")
    assert rejected.status == "rejected"
    assert sorted((e["line"], e["column"]) for e in rejected.errors) == [
        (4, "code"),
        (5, "code"),
        (6, "name"),
        (6, "standard_cost"),
        (7, "standard_cost"),
    ]
    assert Product.objects.count() == 1
    job = run(django_capture_on_commit_callbacks, manager, xlsx_file(good), target="products")
    assert (job.status, job.rows_imported) == ("done", 2)
    assert list(
        Product.objects.filter(code__startswith="N-")
        .order_by("code")
        .values_list("code", "name", "category", "standard_cost")
    ) == [("N-1", "Bolt", "tools", Decimal("1.25")), ("N-2", "Nut", "", Decimal("0.00"))]
    history = Product.history.filter(code__startswith="N-")
    assert sorted(history.values_list("history_type", "history_user_id")) == [
        ("+", manager.pk),
        ("+", manager.pk),
    ]
    again = run(django_capture_on_commit_callbacks, manager, csv_file(good), target="products")
    assert again.status == "rejected" and again.rows_invalid == 2
    assert Product.objects.count() == 3


def test_product_import_needs_the_product_permission(cast):
    from django.core.exceptions import PermissionDenied

    people, _mine, _other = cast
    with pytest.raises(PermissionDenied):
        import_job_create(
            actor=people["owner"],
            upload=csv_file([PRODUCT_HEADER, ["X", "X", "", "1"]]),
            target="products",
        )
