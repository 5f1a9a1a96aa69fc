"""Investigation attachments: type by content, size limit, encrypted storage, the
permission-checked and audited download, the htmx upload, the API, purge and subject access."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from credit import services
from credit.models import InvestigationAttachment
from credit.services.attachments import attachment_directory
from credit.tests.factories import people, trading_customer
from crm import privacy
from customers import services as customer_services
from customers.tests.factories import api_client_for

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40
SECRET_NAME = "张三身份证复印件.pdf"


@pytest.fixture(autouse=True)
def _upload_dir(settings, tmp_path):
    settings.CRM_UPLOAD_DIR = tmp_path


@pytest.fixture
def world():
    cast = people()
    customer = trading_customer(cast, "1000.00")
    investigation = services.investigation_record(
        actor=cast["owner"],
        customer=customer,
        source="bank",
        kind="daily",
        operator="the director is reliable",
    )
    return cast, customer, investigation


def upload(content=PDF, name=SECRET_NAME, content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def stored_files() -> list[Path]:
    folder = attachment_directory()
    return sorted(folder.iterdir()) if folder.is_dir() else []


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def attach(cast, investigation, content=PDF, who="owner"):
    return services.attachment_add(
        actor=cast[who], investigation=investigation, upload=upload(content)
    )


# --- the service ------------------------------------------------------------------------------


def test_a_pdf_is_stored_encrypted_and_its_name_too(world):
    cast, customer, investigation = world
    attachment = attach(cast, investigation)
    assert attachment.content_type == "application/pdf"
    assert attachment.size == len(PDF)
    [path] = stored_files()
    assert path.name == attachment.stored_file
    raw = path.read_bytes()
    assert raw.startswith(b"CRMENC1 ") and b"%PDF" not in raw and b"Catalog" not in raw
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT file_name FROM credit_investigationattachment WHERE id = %s", [attachment.pk]
        )
        (cipher,) = cursor.fetchone()
    assert "张三" not in cipher and SECRET_NAME not in cipher
    attachment.refresh_from_db()
    assert attachment.file_name == SECRET_NAME
    event = AuditEvent.objects.get(action="credit.attachment_added")
    assert event.actor_id == cast["owner"].pk
    assert event.data == {
        "investigation_id": investigation.pk,
        "attachment_id": attachment.pk,
        "content_type": "application/pdf",
        "size": len(PDF),
    }
    assert attachment.history.count() == 1


@pytest.mark.parametrize(
    ("content", "name", "claimed"),
    [
        (b"MZ\x90\x00 this is a program", "invoice.pdf", "application/pdf"),
        (b"<html><script>alert(1)</script></html>", "photo.png", "image/png"),
        (b"PK\x03\x04 a zip or a workbook", "scan.jpg", "image/jpeg"),
        (b"just text, %PDF- later in the file", "report.pdf", "application/pdf"),
    ],
)
def test_a_file_of_another_type_disguised_by_its_name_is_refused(world, content, name, claimed):
    cast, _customer, investigation = world
    with pytest.raises(ValidationError) as refused:
        services.attachment_add(
            actor=cast["owner"],
            investigation=investigation,
            upload=SimpleUploadedFile(name, content, content_type=claimed),
        )
    assert refused.value.message_dict == {
        "file": ["Attach a PDF or an image (PNG, JPEG, GIF, WebP)."]
    }
    assert InvestigationAttachment.objects.count() == 0
    assert stored_files() == []
    assert not AuditEvent.objects.filter(action="credit.attachment_added").exists()


def test_images_are_told_by_their_content_whatever_their_name(world):
    cast, _customer, investigation = world
    png = services.attachment_add(
        actor=cast["owner"],
        investigation=investigation,
        upload=SimpleUploadedFile("scan.pdf", PNG, content_type="application/pdf"),
    )
    jpeg = attach(cast, investigation, JPEG)
    assert (png.content_type, jpeg.content_type) == ("image/png", "image/jpeg")


def test_the_size_limit_is_a_setting_exactly_at_it_passes_one_byte_over_is_refused(world):
    cast, _customer, investigation = world
    services.credit_settings_update(actor=cast["admin"], attachment_max_mb=1)
    limit = 1024 * 1024
    at_limit = PDF + b"0" * (limit - len(PDF))
    assert attach(cast, investigation, at_limit).size == limit
    with pytest.raises(ValidationError) as refused:
        attach(cast, investigation, at_limit + b"0")
    assert refused.value.message_dict == {"file": ["The file is larger than 1.0 MB."]}
    assert InvestigationAttachment.objects.count() == 1
    assert len(stored_files()) == 1


@pytest.mark.parametrize("who", ["service", "auditor", "admin"])
def test_roles_without_the_permission_cannot_attach(world, who):
    from django.core.exceptions import PermissionDenied

    cast, _customer, investigation = world
    with pytest.raises(PermissionDenied):
        attach(cast, investigation, who=who)
    assert InvestigationAttachment.objects.count() == 0 and stored_files() == []


# --- the download -----------------------------------------------------------------------------


def download_url(attachment):
    return reverse("credit:attachment-download", args=[attachment.pk])


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("owner", 200),
        ("north_manager", 200),
        ("gm", 200),
        ("auditor", 200),
        ("south_rep", 404),
        ("south_manager", 404),
        ("service", 404),
    ],
)
def test_the_download_answers_only_those_who_may_see_the_customer(world, who, status):
    cast, customer, investigation = world
    attachment = attach(cast, investigation)
    if who == "service":  # even with the customer shared, service staff get nothing of credit
        customer_services.customer_access_grant(
            actor=cast["owner"], customer=customer, user=cast["service"], reason="complaint"
        )
    response = client_for(cast[who]).get(download_url(attachment))
    assert response.status_code == status
    downloads = AuditEvent.objects.filter(action="credit.attachment_downloaded")
    if status == 200:
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Disposition"] == (
            f'attachment; filename="credit-attachment-{attachment.pk}.pdf"'
        )
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Type"] == "application/pdf"
        assert "张三" not in response["Content-Disposition"]
        assert downloads.count() == 1
        event = downloads.get()
        assert event.actor_id == cast[who].pk
        assert event.data == {
            "investigation_id": investigation.pk,
            "attachment_id": attachment.pk,
        }
    else:
        assert downloads.count() == 0


def test_a_refused_download_is_audited_as_a_denial(world):
    cast, _customer, investigation = world
    attachment = attach(cast, investigation)
    assert client_for(cast["south_rep"]).get(download_url(attachment)).status_code == 404
    denial = AuditEvent.objects.get(action="access.denied")
    assert denial.actor_id == cast["south_rep"].pk
    assert denial.object_id == str(attachment.pk)
    assert not AuditEvent.objects.filter(action="credit.attachment_downloaded").exists()


def test_anonymous_download_goes_to_sign_in(world):
    cast, _customer, investigation = world
    attachment = attach(cast, investigation)
    response = Client().get(download_url(attachment))
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- the investigation page and its htmx upload ------------------------------------------------


def page_url(investigation):
    return reverse("credit:investigation", args=[investigation.pk])


def add_url(investigation):
    return reverse("credit:attachment-add", args=[investigation.pk])


@pytest.mark.parametrize(
    ("who", "status"),
    [("owner", 200), ("north_manager", 200), ("south_rep", 404), ("service", 404)],
)
def test_the_investigation_page_follows_the_customer(world, who, status):
    cast, _customer, investigation = world
    response = client_for(cast[who]).get(page_url(investigation))
    assert response.status_code == status
    if status == 200:
        page = response.content.decode()
        assert f'hx-post="{add_url(investigation)}"' in page
        assert 'hx-encoding="multipart/form-data"' in page


def test_the_tab_links_each_investigation_to_its_page(world):
    cast, customer, investigation = world
    response = client_for(cast["owner"]).get(reverse("customers:tab", args=[customer.pk, "credit"]))
    assert page_url(investigation) in response.content.decode()


def test_htmx_upload_answers_the_panel_with_the_new_row(world):
    cast, _customer, investigation = world
    response = client_for(cast["owner"]).post(
        add_url(investigation), {"file": upload()}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    page = response.content.decode()
    attachment = InvestigationAttachment.objects.get()
    assert download_url(attachment) in page
    assert SECRET_NAME in page  # the owner may reveal: the name in clear
    assert "<html" not in page  # the panel alone


def test_htmx_upload_of_a_disguised_file_shows_the_error_under_the_field(world):
    cast, _customer, investigation = world
    response = client_for(cast["owner"]).post(
        add_url(investigation),
        {"file": upload(b"MZ not a pdf", name="report.pdf")},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="attachment-file-error"' in page
    assert "Attach a PDF or an image (PNG, JPEG, GIF, WebP)." in page
    assert InvestigationAttachment.objects.count() == 0


def test_upload_by_another_teams_rep_is_404_and_writes_nothing(world):
    cast, _customer, investigation = world
    response = client_for(cast["south_rep"]).post(add_url(investigation), {"file": upload()})
    assert response.status_code == 404
    assert InvestigationAttachment.objects.count() == 0 and stored_files() == []


def test_the_page_runs_the_same_queries_whatever_the_number_of_attachments(world, assert_queries):
    cast, _customer, investigation = world
    client = client_for(cast["owner"])
    attach(cast, investigation)
    client.get(page_url(investigation))  # warm the caches (permissions, settings)
    with assert_queries() as one:
        assert client.get(page_url(investigation)).status_code == 200
    for _n in range(4):
        attach(cast, investigation, PNG)
    with assert_queries(default=one["default"], keys=one["keys"]):
        response = client.get(page_url(investigation))
    assert response.content.decode().count('href="/credit/attachments/') == 5


# --- the API ---------------------------------------------------------------------------------


def api_url(investigation):
    return f"/api/v1/credit/investigations/{investigation.pk}/attachments/"


def test_api_upload_multipart_and_list(world):
    cast, _customer, investigation = world
    api = api_client_for(cast["owner"])
    response = api.post(api_url(investigation), {"file": upload(PNG, "x.png")}, format="multipart")
    assert response.status_code == 201, response.content
    attachment = InvestigationAttachment.objects.get()
    assert response.data["id"] == attachment.pk
    assert response.data["content_type"] == "image/png"
    assert response.data["size"] == len(PNG)
    assert response.data["download_url"] == download_url(attachment)
    assert "file_name" not in response.data
    listing = api.get(api_url(investigation))
    assert listing.status_code == 200
    assert [row["id"] for row in listing.data] == [attachment.pk]


def test_api_refuses_a_disguised_file_with_400(world):
    cast, _customer, investigation = world
    response = api_client_for(cast["owner"]).post(
        api_url(investigation), {"file": upload(b"MZ", "a.pdf")}, format="multipart"
    )
    assert response.status_code == 400
    assert "file" in response.json().get("errors", response.json()) or "file" in str(
        response.json()
    )
    assert InvestigationAttachment.objects.count() == 0


@pytest.mark.parametrize("who", ["south_rep", "south_manager", "service"])
def test_api_is_404_for_those_who_may_not_see_the_customer(world, who):
    cast, _customer, investigation = world
    api = api_client_for(cast[who])
    assert api.get(api_url(investigation)).status_code == 404
    response = api.post(api_url(investigation), {"file": upload()}, format="multipart")
    assert response.status_code == 404
    assert InvestigationAttachment.objects.count() == 0 and stored_files() == []


# --- privacy: subject access and purge -----------------------------------------------------------


def test_subject_access_lists_the_attachments_and_purge_destroys_them(world):
    cast, customer, investigation = world
    attachment = attach(cast, investigation)
    listed = privacy.export(customer)["credit"]["credit.investigationattachment"]
    assert [(row["id"], row["file_name"], row["content_type"]) for row in listed] == [
        (attachment.pk, SECRET_NAME, "application/pdf")
    ]
    assert "stored_file" not in listed[0]
    counts = privacy.scrub(customer)
    assert counts["credit.investigationattachment"] == 1
    assert stored_files() == []
    attachment.refresh_from_db()
    assert attachment.stored_file == "" and not attachment.file_name
    assert all(not row.stored_file for row in attachment.history.all())
    response = client_for(cast["owner"]).get(download_url(attachment))
    assert response.status_code == 404


# --- files of rolled-back uploads -------------------------------------------------------------


class _RolledBack(Exception):
    pass


def _age(path: Path, hours: float) -> None:
    import os
    import time

    past = time.time() - hours * 3600
    os.utime(path, (past, past))


def test_a_file_whose_transaction_rolled_back_is_swept_once_old_enough(world):
    from django.db import transaction

    from credit.services.attachments import attachment_orphans_sweep
    from credit.tasks import attachment_orphans_sweep_task

    cast, customer, investigation = world
    kept = attach(cast, investigation)
    with pytest.raises(_RolledBack), transaction.atomic():
        attach(cast, investigation, content=PNG)
        raise _RolledBack  # the caller's transaction fails after the file was written
    assert InvestigationAttachment.objects.count() == 1
    orphan = next(path for path in stored_files() if path.name != kept.stored_file)

    # A young file may belong to an upload still committing: left alone.
    assert attachment_orphans_sweep() == 0
    assert len(stored_files()) == 2

    _age(orphan, hours=2)
    _age(attachment_directory() / kept.stored_file, hours=2)
    assert attachment_orphans_sweep_task() == 1
    assert [path.name for path in stored_files()] == [kept.stored_file]
    response = client_for(cast["owner"]).get(download_url(kept))
    assert response.status_code == 200


def test_a_failure_inside_the_service_leaves_no_file(world, monkeypatch):
    from credit.services import attachments

    cast, customer, investigation = world

    def fail(**kwargs):
        raise _RolledBack

    monkeypatch.setattr(attachments, "record_event", fail)
    with pytest.raises(_RolledBack):
        attach(cast, investigation)
    assert stored_files() == []
    assert InvestigationAttachment.objects.count() == 0
