"""Uploads that cannot hurt the server (issue 7, item 4): size, zip bombs, row and error
caps, one encoding per file, and the input rules shared by the API, the forms and imports.

Each test here failed on the code before the import framework moved to ``crm.imports``.
"""

import datetime
import io
import time
import tracemalloc
import zipfile

import openpyxl
import pytest
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from crm.imports import messages
from crm.imports import readers as import_readers
from customers.models import BusinessType, CustomAttribute, Customer, ImportJob
from customers.services.import_jobs import import_job_create, import_job_run
from customers.synthetic import mobile
from customers.tests.factories import make_customer, rep
from customers.tests.test_imports import HEADER, csv_file, good_rows, run_import

pytestmark = pytest.mark.django_db

API_URL = "/api/v1/customers/imports/"
MEMORY_BOUND = 200 * 1024 * 1024


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.CRM_UPLOAD_DIR = tmp_path / "uploads"
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "incoming")
    return tmp_path


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def messages_of(job) -> list[str]:
    return [e["message"] for e in job.errors]


# --- size ---------------------------------------------------------------------------------


def test_an_upload_over_the_size_limit_is_refused_with_a_clear_message(
    settings, django_capture_on_commit_callbacks
):
    settings.CRM_UPLOAD_MAX_BYTES = 2048
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # spooled encrypted, and cut at the limit
    content = csv_file([HEADER + ["remarks"], *[r + ["x" * 500] for r in good_rows(8)]]).read()
    assert len(content) > settings.CRM_UPLOAD_MAX_BYTES
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api(rep()).post(
            API_URL,
            {"file": SimpleUploadedFile("big.csv", content), "target": "customers"},
            format="multipart",
        )
    assert response.status_code == 400
    assert "larger than" in response.data["file"][0]
    assert ImportJob.objects.count() == 0 and callbacks == []


# --- XLSX zip bombs -----------------------------------------------------------------------


def bomb_xlsx(path, rows: int) -> None:
    """A workbook of a few hundred KB whose sheet holds ``rows`` identical rows (and lies
    about its dimension): the shape of the "100 KB XLSX with 200,000 rows"."""
    base = io.BytesIO()
    workbook = openpyxl.Workbook()
    workbook.active.append(["name", "kind", "phone", "business_type"])
    workbook.save(base)
    base.seek(0)
    with zipfile.ZipFile(base) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                out.writestr(info, source.read(info.filename))
                continue
            sheet = source.read(info.filename).decode()
            head, _rest = sheet.split("<sheetData>", 1)
            tail = _rest.split("</sheetData>", 1)[1]
            with out.open(info.filename, "w") as member:
                member.write((head + "<sheetData>").encode())
                member.write(
                    b'<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c>'
                    b'<c r="B1" t="inlineStr"><is><t>kind</t></is></c>'
                    b'<c r="C1" t="inlineStr"><is><t>phone</t></is></c>'
                    b'<c r="D1" t="inlineStr"><is><t>business_type</t></is></c></row>'
                )
                for number in range(2, rows + 2):
                    member.write(
                        b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>bomb</t></is></c>'
                        b'<c r="B%d" t="inlineStr"><is><t>individual</t></is></c></row>'
                        % (number, number, number)
                    )
                member.write(("</sheetData>" + tail).encode())


def import_from_disk(path, name: str, *, dry_run: bool = False) -> ImportJob:
    with open(path, "rb") as handle:
        job = import_job_create(
            actor=rep(), upload=File(handle, name=name), target="customers", dry_run=dry_run
        )
    import_job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def measured(function):
    """(result, peak traced bytes, seconds) of ``function()``."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        result = function()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak, time.monotonic() - started


def test_an_xlsx_bomb_of_200000_rows_stops_at_the_row_cap_within_bounds(
    tmp_path, django_capture_on_commit_callbacks
):
    path = tmp_path / "bomb.xlsx"
    bomb_xlsx(path, 200_000)
    assert path.stat().st_size < 2 * 1024 * 1024
    with django_capture_on_commit_callbacks(execute=False):
        job, peak, seconds = measured(lambda: import_from_disk(path, "bomb.xlsx"))
    assert job.status == ImportJob.Status.REJECTED
    assert messages_of(job) == [messages.TOO_MANY_ROWS]
    assert job.errors[0]["line"] == 100_002 and job.errors[0]["params"] == {"limit": 100_000}
    assert Customer.objects.count() == 0 and job.stored_file == ""
    assert peak <= MEMORY_BOUND, f"{peak / 2**20:.0f} MB"
    print(f"xlsx bomb: peak {peak / 2**20:.1f} MB, {seconds:.1f} s")


def test_an_xlsx_declaring_too_much_uncompressed_data_is_refused_unread(
    tmp_path, settings, django_capture_on_commit_callbacks, monkeypatch
):
    settings.CRM_IMPORT_MAX_UNCOMPRESSED_BYTES = 2 * 1024 * 1024
    path = tmp_path / "bomb.xlsx"
    bomb_xlsx(path, 50_000)  # about 5 MB of sheet XML

    def never(self):
        raise AssertionError("the workbook was opened")

    monkeypatch.setattr(import_readers.XlsxSource, "_workbook", never)
    with django_capture_on_commit_callbacks(execute=False):
        job = import_from_disk(path, "bomb.xlsx")
    assert job.status == ImportJob.Status.REJECTED
    assert messages_of(job) == [messages.TOO_BIG_UNCOMPRESSED]
    assert job.errors[0]["params"] == {"limit": 2}


def test_an_xlsx_that_lies_about_its_sizes_is_stopped_while_reading(
    tmp_path, settings, django_capture_on_commit_callbacks, monkeypatch
):
    settings.CRM_IMPORT_MAX_UNCOMPRESSED_BYTES = 2 * 1024 * 1024
    path = tmp_path / "bomb.xlsx"
    bomb_xlsx(path, 50_000)
    # As if the archive declared small sizes: only the count while reading stands guard.
    monkeypatch.setattr(import_readers.XlsxSource, "_check_declared_size", lambda self: None)
    with django_capture_on_commit_callbacks(execute=False):
        job = import_from_disk(path, "bomb.xlsx")
    assert job.status == ImportJob.Status.REJECTED
    assert messages_of(job) == [messages.TOO_BIG_UNCOMPRESSED]


# --- a 40 MB CSV --------------------------------------------------------------------------


def test_a_40_mb_csv_is_read_within_the_memory_bound(tmp_path, django_capture_on_commit_callbacks):
    """40 MB of well-formed rows (more than the 100,000-row cap): the whole file is
    decrypted and decoded once to settle its encoding, then counted up to the cap, and
    refused before any row is checked. Checking 100,000 rows would take minutes, not the
    point here."""
    path = tmp_path / "big.csv"
    row = "客户名称,个人,13900000000,{n}@example.com,北京市朝阳区某某路一号院{pad},other\n"
    with open(path, "w", encoding="utf-8") as out:
        out.write("name,kind,phone,email,address,business_type\n")
        number = 0
        while out.tell() < 40 * 1024 * 1024:
            out.write(row.format(n=number, pad="x" * 40))
            number += 1
    assert path.stat().st_size >= 40 * 1024 * 1024
    with django_capture_on_commit_callbacks(execute=False):
        job, peak, seconds = measured(lambda: import_from_disk(path, "big.csv"))
    assert job.status == ImportJob.Status.REJECTED
    assert messages_of(job) == [messages.TOO_MANY_ROWS]
    assert job.errors[0]["line"] == 100_002
    assert peak <= MEMORY_BOUND, f"{peak / 2**20:.0f} MB"
    print(f"40 MB CSV: peak {peak / 2**20:.1f} MB, {seconds:.1f} s")


def test_a_large_csv_under_the_caps_is_checked_in_a_dry_run(
    tmp_path, settings, django_capture_on_commit_callbacks
):
    """Under the caps, a file is checked to its end; the error list stays capped."""
    settings.CRM_IMPORT_MAX_ERRORS = 100
    path = tmp_path / "rows.csv"
    with open(path, "w", encoding="utf-8") as out:
        out.write("name,kind,business_type\n")
        for number in range(5000):
            out.write(f"客户{number},个人,other\n")  # no phone, e-mail or ID: one error each
    with django_capture_on_commit_callbacks(execute=False):
        job = import_from_disk(path, "rows.csv", dry_run=True)
    assert job.status == ImportJob.Status.CHECKED
    assert job.rows_total == job.rows_invalid == 5000
    assert len(job.errors) == 100 and job.errors_total == 5000
    assert job.errors_by_column == {"phone": 5000}


# --- errors: capped, counted, paged -------------------------------------------------------


def bad_rows(count: int) -> list[list[str]]:
    # Each row lacks the kind and has an unknown business type: two errors a row.
    return [["name", "kind", "phone", "business_type"]] + [
        [f"客户{i}", "", mobile(), "nothing"] for i in range(count)
    ]


def test_errors_are_capped_and_counted_per_column(settings, django_capture_on_commit_callbacks):
    settings.CRM_IMPORT_MAX_ERRORS = 50
    job = run_import(django_capture_on_commit_callbacks, rep(), csv_file(bad_rows(40)))
    assert job.status == ImportJob.Status.REJECTED
    assert len(job.errors) == 50 and job.errors_total == 80
    assert job.errors_by_column == {"business_type": 40, "kind": 40}
    assert [e["line"] for e in job.errors] == sorted(e["line"] for e in job.errors)


def test_job_errors_are_paged_in_the_api(settings, django_capture_on_commit_callbacks):
    settings.CRM_IMPORT_MAX_ERRORS = 250
    actor = rep()
    job = run_import(django_capture_on_commit_callbacks, actor, csv_file(bad_rows(200)))
    client = api(actor)
    first = client.get(f"{API_URL}{job.pk}/errors/")
    assert first.status_code == 200
    assert first.data["count"] == 250 and len(first.data["results"]) == 100
    assert first.data["errors_total"] == 400
    assert first.data["errors_by_column"] == {"business_type": 200, "kind": 200}
    assert first.data["results"][0] == {
        "line": 2,
        "column": "kind",
        "message": "This field is required.",
    }
    third = client.get(f"{API_URL}{job.pk}/errors/", {"page": 3})
    assert len(third.data["results"]) == 50 and third.data["next"] is None
    assert client.get(f"{API_URL}{job.pk}/errors/", {"page": 4}).status_code == 404
    detail = client.get(f"{API_URL}{job.pk}/")
    assert len(detail.data["errors"]) == 250 and detail.data["errors_total"] == 400
    assert api(rep()).get(f"{API_URL}{job.pk}/errors/").status_code == 404


def test_a_job_page_says_how_many_errors_were_not_listed(
    client, settings, django_capture_on_commit_callbacks
):
    settings.CRM_IMPORT_MAX_ERRORS = 10
    actor = rep()
    job = run_import(django_capture_on_commit_callbacks, actor, csv_file(bad_rows(10)))
    client.force_login(actor)
    body = client.get(reverse("customers:import-detail", args=[job.pk])).content.decode()
    assert "20 problems" in body and "10 more problems are not listed" in body


# --- one encoding per file ----------------------------------------------------------------


def test_a_csv_mixing_utf8_and_gbk_is_refused_at_the_first_line_that_differs(
    django_capture_on_commit_callbacks,
):
    content = (
        "名称,类型,手机,业种\n".encode()
        + f"张三,个人,{mobile()},other\n".encode()
        + b"\n"
        + f"李四,个人,{mobile()},other\n".encode("gbk")
        + f"王五,个人,{mobile()},other\n".encode()
    )
    upload = SimpleUploadedFile("mixed.csv", content)
    job = run_import(django_capture_on_commit_callbacks, rep(), upload)
    assert job.status == ImportJob.Status.REJECTED
    assert [(e["line"], e["message"]) for e in job.errors] == [(4, messages.MIXED_ENCODINGS)]
    assert job.errors[0]["params"] == {"encoding": "UTF-8"}
    assert Customer.objects.count() == 0


def test_a_gbk_csv_with_a_utf8_line_is_refused_too(django_capture_on_commit_callbacks):
    content = (
        "名称,类型,手机,业种\n".encode("gbk")
        + f"张三,个人,{mobile()},other\n".encode("gbk")
        + f"李四,个人,{mobile()},other\n".encode()
    )
    job = run_import(
        django_capture_on_commit_callbacks, rep(), SimpleUploadedFile("m.csv", content)
    )
    assert [(e["line"], e["message"]) for e in job.errors] == [(3, messages.MIXED_ENCODINGS)]


# --- the shared input rules: import, API, forms -------------------------------------------


def test_import_refuses_nul_characters_and_dates_outside_1900_to_2100(
    django_capture_on_commit_callbacks,
):
    rows = [
        ["name", "kind", "phone", "business_type", "birth_date"],
        ["张\x00三", "个人", mobile(), "other", ""],
        ["李四", "个人", mobile(), "other", "1899-12-31"],
        ["王五", "个人", mobile(), "oth\x00er", "2101-01-01"],
        ["赵六", "个人", mobile(), "other", "1950-06-01"],
    ]
    job = run_import(django_capture_on_commit_callbacks, rep(), csv_file(rows), mode="valid_rows")
    assert [(e["line"], e["column"], e["message"]) for e in job.errors] == [
        (2, "name", messages.NUL_CHARACTER),
        (3, "birth_date", messages.DATE_OUT_OF_RANGE),
        (4, "business_type", messages.NUL_CHARACTER),
        (4, "birth_date", messages.DATE_OUT_OF_RANGE),
    ]
    assert job.status == ImportJob.Status.DONE and job.rows_imported == 1


CARD = {"kind": "individual", "name": "李雷", "business_type": "other", "phone": ""}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "李\x00雷"}, "name"),
        ({"birth_date": "1899-12-31"}, "birth_date"),
        ({"birth_date": "2101-01-01"}, "birth_date"),
        ({"kind": "organisation", "managers": "张" * 2001}, "managers"),
        ({"kind": "organisation", "founded_on": "1800-01-01"}, "founded_on"),
        ({"name": ["李雷", "韩梅梅"]}, "name"),
        ({"name": {"zh": "李雷"}}, "name"),
        ({"attributes": {"shoe_size": ["42", "43"]}}, "attributes"),
        ({"attributes": {"shoe_size": "4\x002"}}, "attributes"),
    ],
)
def test_api_refuses_hostile_values_with_field_errors(changes, field):
    CustomAttribute.objects.create(code="shoe_size", label="Shoe size", value_type="text")
    payload = {**CARD, "phone": mobile(), **changes}
    response = api(rep()).post("/api/v1/customers/", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.data
    assert Customer.objects.count() == 0


def test_api_refuses_an_unbounded_interaction_summary():
    actor = rep()
    customer = make_customer(actor)
    url = f"/api/v1/customers/{customer.pk}/interactions/"
    response = api(actor).post(url, {"kind": "visit", "summary": "x" * 5001}, format="json")
    assert response.status_code == 400 and "summary" in response.data
    fine = api(actor).post(url, {"kind": "visit", "summary": "x" * 5000}, format="json")
    assert fine.status_code == 201, fine.content


def test_services_refuse_the_same_values_whatever_the_door():
    from django.core.exceptions import ValidationError

    from customers.services import interaction_log
    from customers.services.cards import customer_create

    actor = rep()
    other = BusinessType.objects.get(code="other")
    with pytest.raises(ValidationError) as caught:
        customer_create(
            actor=actor,
            kind="individual",
            name="李雷",
            business_type=other,
            phone=mobile(),
            birth_date=datetime.date(1899, 12, 31),
        )
    assert "birth_date" in caught.value.message_dict
    customer = make_customer(actor)
    with pytest.raises(ValidationError) as caught:
        interaction_log(actor=actor, customer=customer, kind="visit", summary="x" * 5001)
    assert "summary" in caught.value.message_dict


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"birth_date": "1899-12-31"}, "birth_date"),
        ({"kind": "organisation", "managers": "张" * 2001}, "managers"),
        ({"kind": "organisation", "equipment_summary": "x" * 5001}, "equipment_summary"),
        ({"name": "李\x00雷"}, "name"),
    ],
)
def test_the_create_form_refuses_hostile_values_with_field_errors(client, changes, field):
    actor = rep()
    client.force_login(actor)
    data = {
        "kind": "individual",
        "name": "李雷",
        "business_type": BusinessType.objects.get(code="other").pk,
        "phone": mobile(),
        **changes,
    }
    response = client.post(reverse("customers:create"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Customer.objects.count() == 0
