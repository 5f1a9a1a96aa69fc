"""Import of customers and contacts: encodings, the error report, idempotence, permissions."""

import csv
import datetime
import io

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent
from crm import roles
from crm.imports import jobs as import_jobs
from crm.imports import messages
from crm.imports.columns import column_letter
from crm.search_index import ids_matching
from crm.tests.factories import TeamFactory, UserFactory
from customers import events, search
from customers.models import Contact, Customer, IdentityDocument, ImportJob
from customers.selectors import import_error_rows, import_job_progress
from customers.services import imports
from customers.services.import_jobs import import_job_create, import_job_run
from customers.synthetic import mobile, resident_id, social_credit_code
from customers.tests.factories import make_customer, manager_of, rep

pytestmark = pytest.mark.django_db

CHINESE_HEADER = [
    "名称",
    "类型",
    "手机",
    "邮箱",
    "证件类型",
    "证件号码",
    "业种",
    "等级",
    "出生日期",
]
HEADER = ["name", "kind", "phone", "email", "id_type", "id_number", "business_type", "tier"]


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.CRM_UPLOAD_DIR = tmp_path
    return tmp_path


def csv_file(rows, *, encoding="utf-8", name="customers.csv") -> SimpleUploadedFile:
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return SimpleUploadedFile(name, text.getvalue().encode(encoding), content_type="text/csv")


def xlsx_file(rows, name="customers.xlsx") -> SimpleUploadedFile:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return SimpleUploadedFile(name, out.getvalue())


def run_import(capture, actor, upload, **options) -> ImportJob:
    options.setdefault("target", ImportJob.Target.CUSTOMERS)
    with capture(execute=True):
        job = import_job_create(actor=actor, upload=upload, **options)
    job.refresh_from_db()
    return job


def good_rows(count=2):
    return [
        [f"客户{i}", "个人", mobile(), f"c{i}@example.com", "", resident_id(), "other", "b"]
        for i in range(count)
    ]


def lines_and_columns(job):
    return [(e["line"], e["column"]) for e in job.errors]


# --- encodings and formats ----------------------------------------------------------------


def test_gb18030_csv_with_chinese_headers(django_capture_on_commit_callbacks, upload_dir):
    actor = rep()
    person_phone, person_id, company_code = mobile(), resident_id(), social_credit_code()
    rows = [
        CHINESE_HEADER,
        [
            "张三丰",
            "个人",
            person_phone,
            "",
            "居民身份证",
            person_id,
            "其他",
            "普通客户",
            "1980-05-01",
        ],
        [
            "北京华夏电器有限公司",
            "机构",
            "",
            "sales@huaxia.example",
            "统一社会信用代码",
            company_code,
            "地区性电器店",
            "重点客户",
            "",
        ],
    ]
    upload = csv_file(rows, encoding="gb18030")
    assert b"\xd5\xc5" in upload.read()  # 张 in GB18030, not UTF-8
    upload.seek(0)

    job = run_import(django_capture_on_commit_callbacks, actor, upload)

    assert job.status == ImportJob.Status.DONE, job.errors
    assert job.encoding == "gb18030"
    assert (job.rows_total, job.rows_valid, job.rows_invalid, job.rows_imported) == (2, 2, 0, 2)
    person = Customer.objects.get(pk__in=ids_matching(search.CUSTOMER_PHONE, person_phone))
    assert person.name == "张三丰" and person.kind == Customer.Kind.INDIVIDUAL
    assert person.birth_date == datetime.date(1980, 5, 1) and person.owner == actor
    assert person.tier.code == "b" and person.business_type.code == "other"
    assert person.identity_documents.get().number == person_id
    company = Customer.objects.get(kind=Customer.Kind.ORGANISATION)
    assert company.name == "北京华夏电器有限公司"
    assert company.business_type.code == "regional-electrical-store"
    assert company.identity_documents.get().doc_type == "social_credit_code"
    event = AuditEvent.objects.get(action=events.CUSTOMERS_IMPORTED)
    assert event.data["imported"] == 2 and event.data["status"] == "done"
    assert not AuditEvent.objects.filter(action=events.CUSTOMER_CREATED).exists()
    assert list(upload_dir.iterdir()) == []  # the encrypted upload is gone
    assert job.stored_file == ""


def test_utf8_with_bom(django_capture_on_commit_callbacks):
    upload = csv_file(
        [CHINESE_HEADER[:8], ["王小明", "个人", mobile(), "", "", resident_id(), "other", ""]],
        encoding="utf-8-sig",
    )
    job = run_import(django_capture_on_commit_callbacks, rep(), upload)
    assert job.status == ImportJob.Status.DONE, job.errors
    assert job.encoding == "utf-8-sig"
    assert Customer.objects.get().name == "王小明"


def test_plain_utf8_and_semicolons(django_capture_on_commit_callbacks):
    text = "name;kind;phone;business_type\n李四;individual;13912345678;other\n"
    upload = SimpleUploadedFile("people.csv", text.encode("utf-8"))
    job = run_import(django_capture_on_commit_callbacks, rep(), upload)
    assert job.status == ImportJob.Status.DONE, job.errors
    assert job.encoding == "utf-8"
    assert Customer.objects.get().phone == "13912345678"


def test_xlsx_with_numbers_and_dates(django_capture_on_commit_callbacks):
    upload = xlsx_file(
        [
            ["名称", "类型", "手机", "业种", "出生日期"],
            ["赵六", "个人", 13812340000, "other", datetime.datetime(1975, 3, 9)],
            [None, None, None, None, None],
            ["钱七", "individual", 13812340001.0, "Other", "1990/12/31"],
        ]
    )
    job = run_import(django_capture_on_commit_callbacks, rep(), upload)
    assert job.status == ImportJob.Status.DONE, job.errors
    assert job.rows_imported == 2 and job.encoding == ""
    zhao = Customer.objects.get(pk__in=ids_matching(search.CUSTOMER_PHONE, "13812340000"))
    assert zhao.name == "赵六" and zhao.birth_date == datetime.date(1975, 3, 9)
    qian = Customer.objects.get(pk__in=ids_matching(search.CUSTOMER_PHONE, "13812340001"))
    assert qian.birth_date == datetime.date(1990, 12, 31)


def test_xlsx_line_numbers_count_blank_rows(django_capture_on_commit_callbacks):
    upload = xlsx_file(
        [
            ["name", "kind", "phone", "business_type"],
            ["A", "individual", "13812340000", "other"],
            [],
            ["B", "individual", "12345", "other"],
        ]
    )
    job = run_import(django_capture_on_commit_callbacks, rep(), upload, dry_run=True)
    assert lines_and_columns(job) == [(4, "phone")]


def test_a_file_that_is_not_a_workbook_is_refused(django_capture_on_commit_callbacks):
    with pytest.raises(ValidationError) as error:
        run_import(
            django_capture_on_commit_callbacks, rep(), SimpleUploadedFile("x.xlsx", b"name,kind\n")
        )
    assert "file" in error.value.message_dict
    assert ImportJob.objects.count() == 0


def test_damaged_workbook_is_rejected(django_capture_on_commit_callbacks, upload_dir):
    job = run_import(
        django_capture_on_commit_callbacks,
        rep(),
        SimpleUploadedFile("x.xlsx", b"PK\x03\x04 not really a zip"),
    )
    assert job.status == ImportJob.Status.REJECTED
    assert job.errors == [{"line": 0, "column": "", "message": messages.BAD_XLSX}]
    assert list(upload_dir.iterdir()) == []


def test_text_in_neither_encoding_is_rejected(django_capture_on_commit_callbacks):
    upload = SimpleUploadedFile("x.csv", b"name,kind\n\x80\xff\xfe,individual\n")
    job = run_import(django_capture_on_commit_callbacks, rep(), upload)
    assert job.status == ImportJob.Status.REJECTED
    assert job.errors[0]["message"] == messages.NOT_TEXT


@pytest.mark.parametrize(
    "upload",
    [
        SimpleUploadedFile("customers.pdf", b"%PDF"),
        SimpleUploadedFile("customers.csv", b""),
        None,
    ],
)
def test_wrong_or_empty_uploads_are_refused(upload, upload_dir):
    with pytest.raises(ValidationError) as error:
        import_job_create(actor=rep(), upload=upload, target="customers")
    assert "file" in error.value.message_dict
    assert ImportJob.objects.count() == 0 and list(upload_dir.iterdir()) == []


def test_the_stored_upload_is_encrypted(django_capture_on_commit_callbacks, upload_dir):
    phone = mobile()
    upload = csv_file([HEADER, ["张三", "individual", phone, "", "", "", "other", ""]])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = import_job_create(actor=rep(), upload=upload, target="customers")
    stored = (upload_dir / job.stored_file).read_bytes()
    assert phone.encode() not in stored and "张三".encode() not in stored
    assert len(callbacks) == 1 and job.status == ImportJob.Status.PENDING


# --- the error report ---------------------------------------------------------------------


def bad_file(existing_phone):
    phone = mobile()
    good_id = resident_id()
    wrong_check = good_id[:17] + ("0" if good_id[17] != "0" else "1")
    rows = [
        HEADER,
        ["好客户", "individual", phone, "", "", good_id, "other", "b"],  # 2 valid
        ["坏证件", "individual", mobile(), "", "", wrong_check, "other", "b"],  # 3
        ["坏手机", "individual", "12812345678", "", "", "", "other", "b"],  # 4
        ["", "individual", mobile(), "", "", "", "other", "b"],  # 5
        ["未知业种", "individual", mobile(), "", "", "", "no-such-trade", "b"],  # 6
        ["同一文件", "individual", phone, "", "", "", "other", "b"],  # 7
        ["已有客户", "individual", existing_phone, "", "", "", "other", "b"],  # 8
        ["坏邮箱", "个人", mobile(), "not-an-email", "", "", "other", "b"],  # 9
        ["无类型", "", mobile(), "", "", "", "other", "x"],  # 10
        ["无标识", "individual", "", "", "", "", "other", "b"],  # 11
    ]
    return rows


EXPECTED_ERRORS = [
    (3, "id_number"),
    (4, "phone"),
    (5, "name"),
    (6, "business_type"),
    (7, "phone"),
    (8, "phone"),
    (9, "email"),
    (10, "kind"),
    (10, "tier"),
    (11, "phone"),
]


def test_bad_rows_reported_by_line_and_column_and_nothing_written(
    django_capture_on_commit_callbacks,
):
    actor = rep()
    existing = make_customer(actor)
    before = Customer.objects.count()
    rows = bad_file(existing.phone)

    job = run_import(django_capture_on_commit_callbacks, actor, csv_file(rows))

    assert job.status == ImportJob.Status.REJECTED
    assert lines_and_columns(job) == EXPECTED_ERRORS
    assert (job.rows_total, job.rows_valid, job.rows_invalid, job.rows_imported) == (10, 1, 9, 0)
    assert Customer.objects.count() == before
    messages = {(e["line"], e["column"]): e for e in import_error_rows(job.errors)}
    assert messages[(7, "phone")]["message"] == "The same value is already on line 2 of this file."
    assert messages[(8, "phone")]["message"] == f"This customer already exists: {existing.code}."
    assert "check character" in messages[(3, "id_number")]["message"]
    stored = str(job.errors)
    for row in rows[1:]:  # never a cell's value in the report
        for value in row:
            if len(value) > 3 and value not in ("individual", "other"):
                assert value not in stored
    event = AuditEvent.objects.get(action=events.CUSTOMERS_IMPORTED)
    assert event.data["status"] == "rejected" and event.data["invalid"] == 9


def test_dry_run_reports_the_same_and_writes_nothing(django_capture_on_commit_callbacks):
    actor = rep()
    existing = make_customer(actor)
    job = run_import(
        django_capture_on_commit_callbacks,
        actor,
        csv_file(bad_file(existing.phone)),
        dry_run=True,
    )
    assert job.status == ImportJob.Status.CHECKED
    assert lines_and_columns(job) == EXPECTED_ERRORS
    assert Customer.objects.count() == 1


def test_dry_run_of_a_clean_file(django_capture_on_commit_callbacks):
    job = run_import(
        django_capture_on_commit_callbacks, rep(), csv_file([HEADER, *good_rows(3)]), dry_run=True
    )
    assert job.status == ImportJob.Status.CHECKED and job.errors == []
    assert (job.rows_total, job.rows_valid, job.rows_imported) == (3, 3, 0)
    assert Customer.objects.count() == 0
    assert import_job_progress(job) == 100


def test_valid_rows_mode_imports_only_the_clean_rows(django_capture_on_commit_callbacks):
    actor = rep()
    existing = make_customer(actor)
    job = run_import(
        django_capture_on_commit_callbacks,
        actor,
        csv_file(bad_file(existing.phone)),
        mode=ImportJob.Mode.VALID_ROWS,
    )
    assert job.status == ImportJob.Status.DONE
    assert lines_and_columns(job) == EXPECTED_ERRORS
    assert job.rows_imported == 1 and Customer.objects.count() == 2
    assert Customer.objects.exclude(pk=existing.pk).get().name == "好客户"


def test_same_file_twice_creates_no_duplicates(django_capture_on_commit_callbacks):
    actor = rep()
    content = csv_file([HEADER, *good_rows(3)]).read()

    first = run_import(
        django_capture_on_commit_callbacks, actor, SimpleUploadedFile("c.csv", content)
    )
    assert first.status == ImportJob.Status.DONE and first.rows_imported == 3
    assert Customer.objects.count() == 3 and IdentityDocument.objects.count() == 3

    second = run_import(
        django_capture_on_commit_callbacks, actor, SimpleUploadedFile("c.csv", content)
    )
    assert second.status == ImportJob.Status.REJECTED
    assert {line for line, _column in lines_and_columns(second)} == {2, 3, 4}
    assert {column for _line, column in lines_and_columns(second)} == {
        "phone",
        "email",
        "id_number",
    }
    assert second.rows_invalid == 3 and second.rows_imported == 0

    third = run_import(
        django_capture_on_commit_callbacks,
        actor,
        SimpleUploadedFile("c.csv", content),
        mode=ImportJob.Mode.VALID_ROWS,
    )
    assert third.rows_imported == 0
    assert Customer.objects.count() == 3 and IdentityDocument.objects.count() == 3


def test_duplicate_held_by_another_team_is_not_named(django_capture_on_commit_callbacks):
    other = make_customer(rep(team=TeamFactory(name="North")))
    actor = rep(team=TeamFactory(name="South"))
    upload = csv_file([HEADER, ["X", "individual", other.phone, "", "", "", "other", ""]])
    job = run_import(django_capture_on_commit_callbacks, actor, upload, dry_run=True)
    [error] = import_error_rows(job.errors)
    assert error["column"] == "phone" and other.code not in error["message"]
    assert "another team" in error["message"]


def test_header_problems(django_capture_on_commit_callbacks):
    upload = csv_file(
        [["名称", "类型", "手机", "备注", "业种"], ["甲", "个人", mobile(), "VIP", "other"]]
    )
    job = run_import(django_capture_on_commit_callbacks, rep(), upload)
    assert job.status == ImportJob.Status.REJECTED
    assert lines_and_columns(job) == [(1, "D")]  # by letter: a header cell may be data
    assert Customer.objects.count() == 0

    upload = csv_file(
        [["名称", "类型", "手机", "备注", "业种"], ["甲", "个人", mobile(), "VIP", "other"]]
    )
    job = run_import(
        django_capture_on_commit_callbacks, rep(), upload, mode=ImportJob.Mode.VALID_ROWS
    )
    assert job.status == ImportJob.Status.DONE and job.rows_imported == 1

    upload = csv_file([["名称", "手机"], ["甲", mobile()]])
    job = run_import(django_capture_on_commit_callbacks, rep(), upload)
    assert job.status == ImportJob.Status.REJECTED
    assert lines_and_columns(job) == [(1, "kind"), (1, "business_type")]
    assert job.rows_processed == 0 and job.rows_imported == 0


def test_a_file_without_header_never_echoes_its_first_row(django_capture_on_commit_callbacks):
    phone = mobile()
    upload = csv_file([["张三丰", "个人", phone, "other"], ["李四", "个人", mobile(), "other"]])
    job = run_import(django_capture_on_commit_callbacks, rep(), upload)
    assert job.status == ImportJob.Status.REJECTED
    assert {(1, "A"), (1, "B"), (1, "C"), (1, "D"), (1, "name")} <= set(lines_and_columns(job))
    assert phone not in str(job.errors) and "张三丰" not in str(job.errors)
    assert column_letter(0) == "A" and column_letter(27) == "AB"


def test_empty_file_with_header_only(django_capture_on_commit_callbacks):
    job = run_import(django_capture_on_commit_callbacks, rep(), csv_file([HEADER]))
    assert job.status == ImportJob.Status.REJECTED
    assert [e["message"] for e in job.errors] == [messages.NO_ROWS]


def test_minor_needs_a_guardian(django_capture_on_commit_callbacks):
    born = timezone.localdate().replace(year=timezone.localdate().year - 10, day=1)
    upload = csv_file(
        [
            ["name", "kind", "phone", "business_type", "birth_date"],
            ["小朋友", "individual", mobile(), "other", born.isoformat()],
        ]
    )
    job = run_import(django_capture_on_commit_callbacks, rep(), upload)
    assert lines_and_columns(job) == [(2, "birth_date")]


def test_owner_column_follows_the_create_rule(django_capture_on_commit_callbacks):
    team = TeamFactory(name="East")
    manager = manager_of(team)
    member = rep(team=team)
    stranger = rep(team=TeamFactory(name="West"))
    rows = [
        ["name", "kind", "phone", "business_type", "owner"],
        ["甲", "individual", mobile(), "other", member.username],
        ["乙", "individual", mobile(), "other", stranger.username],
        ["丙", "individual", mobile(), "other", "nobody-here"],
    ]
    job = run_import(
        django_capture_on_commit_callbacks, manager, csv_file(rows), mode=ImportJob.Mode.VALID_ROWS
    )
    assert lines_and_columns(job) == [(3, "owner"), (4, "owner")]
    assert Customer.objects.get().owner == member

    rows = [rows[0], ["丁", "individual", mobile(), "other", manager.username]]
    job = run_import(django_capture_on_commit_callbacks, member, csv_file(rows))
    assert lines_and_columns(job) == [(2, "owner")]  # a rep owns what they create
    assert Customer.objects.count() == 1


def test_a_row_failing_while_writing_is_reported(django_capture_on_commit_callbacks, monkeypatch):
    actor = rep()
    existing = make_customer(actor)
    rows = [HEADER, *good_rows(2), ["晚到", "individual", existing.phone, "", "", "", "other", ""]]
    # The database changes between the check and the write: the check sees no duplicate.
    monkeypatch.setattr(imports.CustomerChecker, "check_database", lambda self, rows: None)
    job = run_import(django_capture_on_commit_callbacks, actor, csv_file(rows))
    assert job.status == ImportJob.Status.DONE
    assert lines_and_columns(job) == [(4, "phone")]
    assert (job.rows_valid, job.rows_invalid, job.rows_imported) == (2, 1, 2)
    assert Customer.objects.count() == 3


def test_a_crash_ends_failed_and_deletes_the_upload(
    django_capture_on_commit_callbacks, monkeypatch, upload_dir
):
    def explode(self, rows):
        raise RuntimeError("boom")

    monkeypatch.setattr(imports.CustomerChecker, "check_database", explode)
    job = run_import(django_capture_on_commit_callbacks, rep(), csv_file([HEADER, *good_rows()]))
    assert job.status == ImportJob.Status.FAILED and job.finished_at
    assert job.errors == [{"line": 0, "column": "", "message": messages.CRASHED}]
    assert list(upload_dir.iterdir()) == [] and Customer.objects.count() == 0


def test_a_job_interrupted_while_writing_is_closed(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = import_job_create(
            actor=rep(), upload=csv_file([HEADER, *good_rows()]), target="customers"
        )
    job.status = ImportJob.Status.IMPORTING
    job.save()
    assert import_job_run(job_id=job.pk) == ImportJob.Status.FAILED
    job.refresh_from_db()
    assert job.errors[-1]["message"] == messages.INTERRUPTED and job.stored_file == ""
    assert import_job_run(job_id=job.pk) == ImportJob.Status.FAILED  # a second run: no-op


def test_check_pass_looks_up_duplicates_in_batches(
    django_capture_on_commit_callbacks, django_assert_max_num_queries, monkeypatch
):
    monkeypatch.setattr(import_jobs, "LOOKUP_BATCH", 25)
    monkeypatch.setattr(import_jobs, "PROGRESS_EVERY", 25)
    actor = rep()
    with django_capture_on_commit_callbacks(execute=False):
        job = import_job_create(
            actor=actor,
            upload=csv_file([HEADER, *good_rows(100)]),
            target="customers",
            dry_run=True,
        )
    # 100 rows, 4 batches: a handful of queries per batch, none per row.
    with django_assert_max_num_queries(35):
        import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CHECKED and job.rows_processed == 100


def test_a_long_file_is_checked_in_batches_with_progress(
    django_capture_on_commit_callbacks, monkeypatch
):
    seen = []
    original = import_jobs.progress

    def spy(job, **counters):
        seen.append(counters.get("rows_processed"))
        original(job, **counters)

    monkeypatch.setattr(import_jobs, "progress", spy)
    rows = [["name", "kind", "phone", "business_type"]]
    rows += [[f"客户{i}", "个人", f"139{i:08d}", "other"] for i in range(1200)]
    job = run_import(django_capture_on_commit_callbacks, rep(), csv_file(rows), dry_run=True)
    assert job.status == ImportJob.Status.CHECKED and job.errors == []
    assert job.rows_total == job.rows_processed == job.rows_valid == 1200
    assert [n for n in seen if n] == list(range(200, 1201, 200))


def test_progress_while_running():
    job = ImportJob(status=ImportJob.Status.CHECKING, rows_total=200, rows_processed=100)
    assert import_job_progress(job) == 25
    job.status, job.rows_valid, job.rows_imported = ImportJob.Status.IMPORTING, 200, 100
    assert import_job_progress(job) == 75


# --- contacts -----------------------------------------------------------------------------


def test_contacts_import_and_reimport(django_capture_on_commit_callbacks):
    actor = rep(team=TeamFactory(name="North"))
    mine = make_customer(actor, kind=Customer.Kind.ORGANISATION)
    hidden = make_customer(rep(team=TeamFactory(name="South")))
    phone = mobile()
    rows = [
        ["客户编号", "姓名", "手机", "邮箱", "角色", "主要联系人"],
        [mine.code, "李经理", phone, "li@example.com", "采购", "是"],
        [mine.code, "王会计", mobile(), "", "财务", "否"],
        [hidden.code, "赵某", mobile(), "", "", ""],
        ["C9999999", "钱某", mobile(), "", "", ""],
        [mine.code, "重复", phone, "", "", "maybe"],
    ]
    job = run_import(
        django_capture_on_commit_callbacks,
        actor,
        csv_file(rows),
        target=ImportJob.Target.CONTACTS,
        mode=ImportJob.Mode.VALID_ROWS,
    )
    assert job.status == ImportJob.Status.DONE
    assert lines_and_columns(job) == [
        (4, "customer_code"),
        (5, "customer_code"),
        (6, "phone"),
        (6, "is_primary"),
    ]
    contacts = list(Contact.objects.filter(customer=mine).order_by("id"))
    assert [c.name for c in contacts] == ["李经理", "王会计"]
    assert contacts[0].is_primary and not contacts[1].is_primary
    assert not hidden.contacts.exists()

    again = run_import(
        django_capture_on_commit_callbacks,
        actor,
        csv_file(rows[:3]),
        target=ImportJob.Target.CONTACTS,
    )
    assert again.status == ImportJob.Status.REJECTED
    assert lines_and_columns(again) == [(2, "phone"), (2, "email"), (3, "phone")]
    assert Contact.objects.filter(customer=mine).count() == 2


# --- permissions --------------------------------------------------------------------------


@pytest.mark.parametrize("role", [roles.SERVICE_STAFF, roles.AUDITOR, roles.DPO, roles.ADMIN])
def test_roles_without_the_import_permission_may_not_import(
    role, upload_dir, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(PermissionDenied),
    ):
        import_job_create(
            actor=UserFactory(role=role),
            upload=csv_file([HEADER, *good_rows()]),
            target="customers",
        )
    assert ImportJob.objects.count() == 0 and callbacks == []
    assert list(upload_dir.iterdir()) == []


@pytest.mark.parametrize("role", [roles.SALES_REP, roles.SALES_MANAGER, roles.GENERAL_MANAGER])
def test_roles_with_the_import_permission_may_import(role, django_capture_on_commit_callbacks):
    job = run_import(
        django_capture_on_commit_callbacks,
        UserFactory(role=role),
        csv_file([HEADER, *good_rows(1)]),
    )
    assert job.status == ImportJob.Status.DONE and Customer.objects.count() == 1


# --- API ----------------------------------------------------------------------------------

API_URL = "/api/v1/customers/imports/"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_create_returns_202_and_runs(django_capture_on_commit_callbacks):
    actor = rep()
    with django_capture_on_commit_callbacks(execute=True):
        response = api(actor).post(
            API_URL,
            {
                "file": csv_file([HEADER, *good_rows(2)]),
                "target": "customers",
                "mode": "valid_rows",
                "dry_run": "false",
            },
            format="multipart",
        )
    assert response.status_code == 202, response.content
    assert response.data["status"] == ImportJob.Status.PENDING
    job = ImportJob.objects.get(pk=response.data["id"])
    assert job.status == ImportJob.Status.DONE and job.created_by == actor
    detail = api(actor).get(f"{API_URL}{job.pk}/")
    assert detail.status_code == 200 and detail.data["rows_imported"] == 2
    assert reverse("import-job-detail", args=[job.pk]) == f"{API_URL}{job.pk}/"


def test_api_create_is_idempotent(django_capture_on_commit_callbacks):
    actor = rep()
    client = api(actor)
    content = csv_file([HEADER, *good_rows(1)]).read()
    responses = []
    for _attempt in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            responses.append(
                client.post(
                    API_URL,
                    {"file": SimpleUploadedFile("c.csv", content), "target": "customers"},
                    format="multipart",
                    HTTP_IDEMPOTENCY_KEY="import-1",
                )
            )
    assert [r.status_code for r in responses] == [202, 202]
    assert responses[1]["Idempotent-Replayed"] == "true"
    assert ImportJob.objects.count() == 1 and Customer.objects.count() == 1


def test_api_errors_are_shown_by_line_and_column(django_capture_on_commit_callbacks):
    actor = rep()
    existing = make_customer(actor)
    with django_capture_on_commit_callbacks(execute=True):
        response = api(actor).post(
            API_URL,
            {"file": csv_file(bad_file(existing.phone)), "target": "customers", "dry_run": "true"},
            format="multipart",
        )
    detail = api(actor).get(f"{API_URL}{response.data['id']}/")
    assert [(e["line"], e["column"]) for e in detail.data["errors"]] == EXPECTED_ERRORS
    assert detail.data["status"] == "checked"


def test_api_bad_input_is_a_400():
    response = api(rep()).post(API_URL, {"target": "nothing"}, format="multipart")
    assert response.status_code == 400
    assert {"file", "target"} <= set(response.data)


@pytest.mark.parametrize("role", [roles.SERVICE_STAFF, roles.AUDITOR, roles.DPO, roles.ADMIN])
def test_api_create_forbidden_without_the_permission(role, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api(UserFactory(role=role)).post(
            API_URL,
            {"file": csv_file([HEADER, *good_rows(1)]), "target": "customers"},
            format="multipart",
        )
    assert response.status_code == 403
    assert ImportJob.objects.count() == 0 and callbacks == []


def test_api_anonymous_is_refused():
    response = APIClient().get(API_URL)
    assert response.status_code in (401, 403)


def test_api_users_see_their_own_jobs_unless_they_see_everything(
    django_capture_on_commit_callbacks,
):
    owner, other = rep(), rep()
    job = run_import(django_capture_on_commit_callbacks, owner, csv_file([HEADER, *good_rows(1)]))
    assert [j["id"] for j in api(owner).get(API_URL).data["results"]] == [job.pk]
    assert api(other).get(API_URL).data["results"] == []
    assert api(other).get(f"{API_URL}{job.pk}/").status_code == 404
    for role in (roles.GENERAL_MANAGER, roles.AUDITOR, roles.DPO):
        viewer = api(UserFactory(role=role))
        assert [j["id"] for j in viewer.get(API_URL).data["results"]] == [job.pk]
        assert viewer.get(f"{API_URL}{job.pk}/").status_code == 200
    for role in (roles.SERVICE_STAFF, roles.ADMIN):
        assert api(UserFactory(role=role)).get(API_URL).status_code == 403


# --- pages --------------------------------------------------------------------------------


def test_upload_page_runs_the_import_and_shows_the_report(
    client, django_capture_on_commit_callbacks
):
    actor = rep()
    client.force_login(actor)
    assert client.get(reverse("customers:import-create")).status_code == 200
    existing = make_customer(actor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("customers:import-create"),
            {
                "file": csv_file(bad_file(existing.phone)),
                "target": "customers",
                "mode": "all_or_nothing",
                "dry_run": "on",
            },
        )
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:import-detail", args=[job.pk])
    page = client.get(response["Location"])
    assert page.status_code == 200
    body = page.content.decode()
    # A finished job's page stops polling (the header's bell loads once, on its own).
    assert "This customer already exists" in body and 'hx-trigger="every' not in body
    assert "10 problems" in body
    assert client.get(reverse("customers:import-list")).status_code == 200


def test_upload_page_with_bad_input_shows_the_form_again(client):
    client.force_login(rep())
    response = client.post(reverse("customers:import-create"), {"target": "customers"})
    assert response.status_code == 200 and ImportJob.objects.count() == 0


def test_running_job_polls_and_htmx_gets_the_partial(client, django_capture_on_commit_callbacks):
    actor = rep()
    with django_capture_on_commit_callbacks(execute=False):
        job = import_job_create(
            actor=actor, upload=csv_file([HEADER, *good_rows()]), target="customers"
        )
    client.force_login(actor)
    url = reverse("customers:import-detail", args=[job.pk])
    page = client.get(url).content.decode()
    assert 'hx-trigger="every 2s"' in page and f'hx-get="{url}"' in page
    partial = client.get(url, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and "<html" not in partial.content.decode()


@pytest.mark.parametrize("role", [roles.SERVICE_STAFF, roles.AUDITOR, roles.DPO, roles.ADMIN])
def test_upload_page_forbidden_without_the_permission(role, client):
    client.force_login(UserFactory(role=role))
    assert client.get(reverse("customers:import-create")).status_code == 403
    response = client.post(
        reverse("customers:import-create"),
        {"file": csv_file([HEADER, *good_rows(1)]), "target": "customers"},
    )
    assert response.status_code == 403 and ImportJob.objects.count() == 0


def test_job_pages_of_others_are_404(client, django_capture_on_commit_callbacks):
    job = run_import(django_capture_on_commit_callbacks, rep(), csv_file([HEADER, *good_rows(1)]))
    client.force_login(rep())
    assert client.get(reverse("customers:import-detail", args=[job.pk])).status_code == 404
    client.force_login(UserFactory(role=roles.SERVICE_STAFF))
    assert client.get(reverse("customers:import-list")).status_code == 403


def test_pages_need_a_login(client):
    response = client.get(reverse("customers:import-list"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_long_error_reports_are_paged(client, django_capture_on_commit_callbacks, monkeypatch):
    from customers.views import imports as import_views

    monkeypatch.setattr(import_views, "ERRORS_PER_PAGE", 4)
    actor = rep()
    existing = make_customer(actor)
    job = run_import(django_capture_on_commit_callbacks, actor, csv_file(bad_file(existing.phone)))
    client.force_login(actor)
    url = reverse("customers:import-detail", args=[job.pk])
    first = client.get(url).content.decode()
    third = client.get(url, {"page": 3}).content.decode()
    assert "10 problems" in first and "Page 1 of 3" in first and "check character" in first
    assert "Page 3 of 3" in third and "recognised when the file is imported again" in third
    assert "check character" not in third


def test_clean_up_closes_stalled_jobs_and_deletes_abandoned_uploads(upload_dir):
    import datetime as dt
    import os

    from crm.encrypted_files import store_encrypted
    from customers.services.import_jobs import import_jobs_clean_up

    owner = rep()
    stalled_file = store_encrypted(io.BytesIO(b"name,kind\n"))
    job = ImportJob.objects.create(
        target="customers",
        file_name="a.csv",
        created_by=owner,
        stored_file=stalled_file,
        status=ImportJob.Status.CHECKING,
    )
    fresh_file = store_encrypted(io.BytesIO(b"name,kind\n"))
    fresh = ImportJob.objects.create(
        target="customers",
        file_name="b.csv",
        created_by=owner,
        stored_file=fresh_file,
        status=ImportJob.Status.PENDING,
    )
    orphan = store_encrypted(io.BytesIO(b"name,kind\n"))
    old = (timezone.now() - dt.timedelta(days=1)).timestamp()
    for name in (stalled_file, orphan):
        os.utime(upload_dir / name, (old, old))
    ImportJob.objects.filter(pk=job.pk).update(updated_at=timezone.now() - dt.timedelta(days=1))

    assert import_jobs_clean_up() == {"jobs_closed": 1, "files_deleted": 1}

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.stored_file == ""
    assert "stopped answering" in job.errors[-1]["message"]
    assert sorted(os.listdir(upload_dir)) == [fresh_file]
    fresh.refresh_from_db()
    assert fresh.status == ImportJob.Status.PENDING


def test_an_upload_above_the_memory_limit_imports_and_is_fingerprinted_by_content(
    django_capture_on_commit_callbacks, settings
):
    """A file spooled encrypted to disk can be read twice (fingerprint, then import)."""
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    actor = rep()
    client = api(actor)
    rows = [HEADER + ["remarks"], *[row + ["x" * 2000] for row in good_rows(3)]]
    content = csv_file(rows).read()
    assert len(content) > settings.FILE_UPLOAD_MAX_MEMORY_SIZE
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(
            API_URL,
            {"file": SimpleUploadedFile("c.csv", content), "target": "customers"},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="big-1",
        )
    assert first.status_code == 202, first.content
    assert ImportJob.objects.get().rows_total == 3
    # The same key with another file of the same name is another request, not a replay.
    other = csv_file([HEADER, *good_rows(1)]).read()
    second = client.post(
        API_URL,
        {"file": SimpleUploadedFile("c.csv", other), "target": "customers"},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="big-1",
    )
    assert second.status_code == 422
