"""Historical complaints from CSV/XLSX through the import framework: dry run, line/column
errors, all-or-nothing, idempotent by the external reference, values encrypted as the
service encrypts them, written in bulk."""

import csv
import io

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections

from audit.models import AuditEvent
from complaints import events
from complaints import imports as complaint_imports
from complaints.models import Complaint
from complaints.tests.factories import aware, make_complaint, service_manager
from crm import encryption, roles
from crm.imports import jobs as import_jobs
from crm.tests.factories import UserFactory
from customers.models import ImportJob
from customers.services.import_jobs import import_job_create
from customers.tests.factories import make_customer

pytestmark = pytest.mark.django_db

HEADER = [
    "投诉单号",
    "客户编码",
    "来电人",
    "来电电话",
    "渠道",
    "类别",
    "严重程度",
    "投诉内容",
    "受理时间",
    "状态",
    "解决时间",
    "根本原因",
    "处理结果",
    "满意度",
]


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.CRM_UPLOAD_DIR = tmp_path
    return tmp_path


def csv_file(rows, name="complaints.csv"):
    text = io.StringIO()
    csv.writer(text).writerows([HEADER, *rows])
    return SimpleUploadedFile(name, text.getvalue().encode("utf-8"), content_type="text/csv")


def xlsx_file(rows, name="complaints.xlsx"):
    workbook = openpyxl.Workbook()
    for row in [HEADER, *rows]:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return SimpleUploadedFile(name, out.getvalue())


def run(capture, actor, upload, **options) -> ImportJob:
    with capture(execute=True):
        job = import_job_create(actor=actor, upload=upload, target="complaints", **options)
    job.refresh_from_db()
    return job


def good_rows(customer):
    return [
        [
            "OLD-1",
            customer.code,
            "",
            "",
            "电话",
            "配送",
            "medium",
            "货物破损，客户要求退换。",
            "2026-03-02 10:00",
            "closed",
            "2026-03-03 10:00",
            "运输损坏",
            "已补发。",
            "4",
        ],
        [
            "OLD-2",
            customer.code,
            "",
            "",
            "online",
            "delivery",
            "低",
            "又一次送货延迟。",
            "2026-03-20 09:00",
            "",
            "",
            "",
            "已道歉。",
            "",
        ],
        [
            "OLD-3",
            "",
            "李四",
            "13912345678",
            "phone",
            "billing",
            "high",
            "发票金额不符。",
            "2026-04-01",
            "received",
            "",
            "",
            "",
            "",
        ],
    ]


def test_dry_run_then_import_then_again(django_capture_on_commit_callbacks):
    manager = service_manager()
    customer = make_customer()
    rows = good_rows(customer)

    dry = run(django_capture_on_commit_callbacks, manager, csv_file(rows), dry_run=True)
    assert (dry.status, dry.rows_valid, dry.errors) == ("checked", 3, [])
    assert not Complaint.objects.exists()

    job = run(django_capture_on_commit_callbacks, manager, csv_file(rows))
    assert (job.status, job.rows_imported, job.errors) == ("done", 3, [])
    first, second, caller = Complaint.objects.order_by("external_reference")
    assert (first.status, first.channel, first.category.code, first.severity) == (
        "closed",
        "phone",
        "delivery",
        "medium",
    )
    assert first.received_at == aware("2026-03-02 10:00")
    assert first.resolved_at == aware("2026-03-03 10:00") == first.closed_at
    assert first.resolution_hours == 8  # business hours: 10:00 Monday → 10:00 Tuesday
    assert (first.root_cause.code, first.satisfaction_score) == ("transport-damage", 4)
    assert first.first_response_due is not None and first.code.startswith("CP")
    assert second.status == "closed" and second.severity == "low"
    # A repeat of the first (same customer, same category, within 90 days).
    assert (second.is_repeat, second.repeat_of) == (True, first)
    assert caller.customer is None and caller.status == "received"
    assert (caller.caller_name, caller.caller_phone) == ("李四", "13912345678")
    # History: one "+" record a row, by the importer.
    assert Complaint.history.filter(history_type="+", history_user=manager).count() == 3
    dry_event, event = AuditEvent.objects.filter(action=events.COMPLAINTS_IMPORTED).order_by("id")
    assert (dry_event.data["dry_run"], dry_event.data["imported"]) == (True, 0)
    assert event.actor == manager and (event.data["dry_run"], event.data["imported"]) == (False, 3)

    again = run(django_capture_on_commit_callbacks, manager, xlsx_file(rows))
    assert (again.status, again.rows_invalid, again.rows_imported) == ("rejected", 3, 0)
    assert {(e["line"], e["column"]) for e in again.errors} == {
        (2, "reference"),
        (3, "reference"),
        (4, "reference"),
    }
    assert Complaint.objects.count() == 3


def test_values_are_encrypted_as_the_service_encrypts_them(django_capture_on_commit_callbacks):
    customer = make_customer()
    job = run(django_capture_on_commit_callbacks, service_manager(), csv_file(good_rows(customer)))
    assert job.status == "done"
    imported = Complaint.objects.get(external_reference="OLD-1")
    logged = make_complaint(customer=customer, description="当面投诉。")
    assert imported.data_key_id == customer.data_key_id == logged.data_key_id
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT description, resolution FROM complaints_complaint WHERE id = %s",
            [imported.pk],
        )
        stored = cursor.fetchone()
    assert "货物破损" not in stored[0] and "已补发" not in stored[1]
    assert imported.description == "货物破损，客户要求退换。"
    caller = Complaint.objects.get(external_reference="OLD-3")
    assert caller.data_key_id not in (customer.data_key_id, imported.data_key_id)
    # Shredding the customer's key erases the imported texts, as it erases the service's.
    from crm.fields import is_erased

    encryption.data_keys_delete_now([customer.data_key_id])
    encryption.clear_key_cache()
    assert is_erased(Complaint.objects.get(pk=imported.pk).description)
    assert Complaint.objects.get(pk=caller.pk).caller_name == "李四"


def test_bad_rows_by_line_and_column_and_nothing_written(django_capture_on_commit_callbacks):
    customer = make_customer()
    row = good_rows(customer)[0]

    def bad(**changes):
        changed = list(row)
        for column, value in changes.items():
            changed[HEADER.index(column)] = value
        return changed

    rows = [
        bad(),  # line 2: fine
        bad(投诉单号="OLD-1"),  # 3: same reference as line 2
        bad(投诉单号="B-4", 客户编码="C9999999"),  # 4: unknown customer
        bad(投诉单号="B-5", 类别="天气"),  # 5: unknown category
        bad(投诉单号="B-6", 渠道="fax"),  # 6: unknown channel
        bad(投诉单号="B-7", 满意度="9"),  # 7: score out of range
        bad(投诉单号="B-8", 处理结果=""),  # 8: closed without resolution
        bad(投诉单号="B-9", 受理时间="2099-01-01 09:00"),  # 9: in the future
        bad(投诉单号="B-10", 解决时间="2026-03-01 09:00"),  # 10: resolved before receipt
        bad(投诉单号="B-11", 投诉内容=""),  # 11: no description
        bad(投诉单号="B-12", 客户编码="", 来电人="", 来电电话=""),  # 12: nobody
        bad(投诉单号="B-13", 受理时间="03/02/2026"),  # 13: not a date
        bad(投诉单号="B-14", 根本原因="bad luck"),  # 14: unknown root cause
    ]
    job = run(django_capture_on_commit_callbacks, service_manager(), csv_file(rows))
    assert job.status == "rejected" and job.rows_imported == 0
    assert [(e["line"], e["column"]) for e in job.errors] == [
        (3, "reference"),
        (4, "customer"),
        (5, "category"),
        (6, "channel"),
        (7, "satisfaction"),
        (8, "resolution"),
        (9, "received_at"),
        (10, "resolved_at"),
        (11, "description"),
        (12, "customer"),
        (13, "received_at"),
        (14, "root_cause"),
    ]
    assert not Complaint.objects.exists()
    # No cell's value is quoted back in an error.
    assert customer.code not in str(job.errors) and "天气" not in str(job.errors)

    valid_only = run(
        django_capture_on_commit_callbacks,
        service_manager(),
        csv_file(rows),
        mode="valid_rows",
    )
    assert (valid_only.status, valid_only.rows_imported) == ("done", 1)
    assert list(Complaint.objects.values_list("external_reference", flat=True)) == ["OLD-1"]


def test_a_missing_required_column_rejects_the_file(django_capture_on_commit_callbacks):
    text = "投诉单号,客户编码\nX-1,C0000001\n".encode()
    job = run(
        django_capture_on_commit_callbacks,
        service_manager(),
        SimpleUploadedFile("c.csv", text, content_type="text/csv"),
    )
    assert job.status == "rejected"
    assert {e["column"] for e in job.errors} >= {"channel", "category", "severity"}
    assert not Complaint.objects.exists()


@pytest.mark.parametrize(
    "role", [roles.SERVICE_STAFF, roles.SALES_REP, roles.SALES_MANAGER, roles.GENERAL_MANAGER]
)
def test_only_the_service_manager_imports_complaints(django_capture_on_commit_callbacks, role):
    customer = make_customer()
    with pytest.raises(PermissionDenied):
        run(
            django_capture_on_commit_callbacks,
            UserFactory(role=role),
            csv_file(good_rows(customer)),
        )
    assert not ImportJob.objects.exists() and not Complaint.objects.exists()


def test_a_reference_stored_between_check_and_write_is_refused_on_its_line(
    django_capture_on_commit_callbacks, monkeypatch
):
    customer = make_customer()
    manager = service_manager()
    stored = make_complaint(actor=manager, customer=customer)
    Complaint.objects.filter(pk=stored.pk).update(external_reference="OLD-2")
    # The check misses it: the bulk path's own look-up finds it.
    original = complaint_imports.ComplaintChecker.check_database
    calls = []

    def only_when_writing(self, rows):
        calls.append(len(rows))
        if len(calls) > 1:
            original(self, rows)

    monkeypatch.setattr(complaint_imports.ComplaintChecker, "check_database", only_when_writing)
    job = run(
        django_capture_on_commit_callbacks,
        manager,
        csv_file(good_rows(customer)),
        mode="valid_rows",
    )
    assert [(e["line"], e["column"]) for e in job.errors] == [(3, "reference")]
    assert (job.rows_imported, Complaint.objects.count()) == (2, 3)


def test_queries_do_not_grow_with_the_rows(
    django_capture_on_commit_callbacks, monkeypatch, assert_queries
):
    """A fixed number of statements a batch, none a row: 8 rows in batches of 4 and 40 rows
    in batches of 20 (two batches each) run the same number of queries. (Batches stay
    under SQLite's 999 variables a statement, where the backend would split an INSERT.)"""
    monkeypatch.setattr(import_jobs, "PROGRESS_EVERY", 1000)
    manager = service_manager()

    def rows(count, start):
        return [
            [f"Q-{start + n}", "", f"来电人{n}", "", "phone", "billing", "medium", "描述",
             "2026-03-02 10:00", "closed", "", "", "已处理", "5"]
            for n in range(count)
        ]  # fmt: skip

    def job_of(count, start):
        with django_capture_on_commit_callbacks(execute=False):
            return import_job_create(
                actor=manager, upload=csv_file(rows(count, start)), target="complaints"
            )

    from customers.services.import_jobs import import_job_run

    import_job_run(job_id=job_of(3, 10_000).pk)  # warm-up: per-process caches
    counts = []
    for size, batch, start in ((8, 4, 0), (40, 20, 1000)):
        monkeypatch.setattr(import_jobs, "LOOKUP_BATCH", batch)
        monkeypatch.setattr(import_jobs, "WRITE_BATCH", batch)
        job = job_of(size, start)
        with assert_queries() as counted:
            assert import_job_run(job_id=job.pk) == "done"
        counts.append((counted["default"], counted["keys"]))
    assert counts[0] == counts[1]
    assert Complaint.objects.count() == 51
