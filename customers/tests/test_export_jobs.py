"""Large exports run as background jobs whose encrypted file only their owner downloads."""

import codecs
import csv
import datetime
import io
import os

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent
from crm.exports import jobs as export_jobs
from crm.models import ExportJob
from customers import events
from customers.tests.factories import make_customer, rep

pytestmark = pytest.mark.django_db

API_URL = "/api/v1/customers/export/"


@pytest.fixture(autouse=True)
def small_sync_limit(settings, tmp_path):
    settings.CRM_UPLOAD_DIR = tmp_path
    settings.CRM_EXPORT_SYNC_MAX_ROWS = 2


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def owner_with_customers(count=3):
    owner = rep()
    customers = [make_customer(owner, name=f"=客户{i}") for i in range(count)]
    return owner, customers


def test_a_large_api_export_answers_202_and_is_written_encrypted_for_its_owner(
    django_capture_on_commit_callbacks, tmp_path
):
    owner, customers = owner_with_customers()
    client = api(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(API_URL, {"format": "csv", "purpose": "internal"})
    assert response.status_code == 202, response.content
    assert response.data["status"] == "pending" and response.data["rows_total"] == 3
    job = ExportJob.objects.get(pk=response.data["id"])
    assert job.status == ExportJob.Status.DONE and job.rows_written == 3
    assert job.params_file == "" and job.expires_at > timezone.now() + datetime.timedelta(hours=23)
    stored = export_jobs.export_directory() / job.stored_file
    assert stored.read_bytes().startswith(b"CRMENC1 ")  # never in clear on disk
    assert b"C000" not in stored.read_bytes()

    detail = client.get(response.data["url"])
    assert detail.status_code == 200 and detail.data["progress"] == 100
    download = client.get(detail.data["download_url"])
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith('attachment; filename="customers-')
    raw = b"".join(download.streaming_content)
    assert raw.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert sorted(row[0] for row in rows[1:]) == sorted(c.code for c in customers)
    assert all(row[3].startswith("'=") for row in rows[1:])  # masked and formula-neutral
    exported = AuditEvent.objects.filter(action=events.CUSTOMERS_EXPORTED)
    assert exported.count() == 1 and exported.get().data["count"] == 3
    assert AuditEvent.objects.filter(action=export_jobs.EXPORT_DOWNLOADED).count() == 1


def test_only_the_owner_may_see_or_download_an_export(django_capture_on_commit_callbacks):
    owner, _customers = owner_with_customers()
    with django_capture_on_commit_callbacks(execute=True):
        job_id = api(owner).post(API_URL, {"format": "xlsx"}).data["id"]
    someone = rep()
    assert api(someone).get(f"/api/v1/exports/{job_id}/").status_code == 404
    assert api(someone).get(f"/api/v1/exports/{job_id}/download/").status_code == 404
    assert APIClient().get(f"/api/v1/exports/{job_id}/download/").status_code in (401, 403)
    download = api(owner).get(f"/api/v1/exports/{job_id}/download/")
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    assert workbook.active.max_row == 4


def test_an_expired_export_is_gone_and_cleaned_up(django_capture_on_commit_callbacks):
    owner, _customers = owner_with_customers()
    with django_capture_on_commit_callbacks(execute=True):
        job_id = api(owner).post(API_URL, {"format": "csv"}).data["id"]
    job = ExportJob.objects.get(pk=job_id)
    stored = export_jobs.export_directory() / job.stored_file
    ExportJob.objects.filter(pk=job_id).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    assert api(owner).get(f"/api/v1/exports/{job_id}/download/").status_code == 404
    orphan = export_jobs.export_directory() / ("0" * 32 + ".enc")
    orphan.write_bytes(b"CRMENC1 x\n")
    old = (timezone.now() - datetime.timedelta(days=2)).timestamp()
    os.utime(orphan, (old, old))
    assert export_jobs.export_jobs_clean_up() == {
        "expired": 1,
        "jobs_closed": 0,
        "files_deleted": 1,
    }
    job.refresh_from_db()
    assert job.status == ExportJob.Status.EXPIRED and job.stored_file == ""
    assert not stored.exists() and not os.path.exists(orphan)


def test_small_exports_stay_synchronous():
    owner, _customers = owner_with_customers(2)
    response = api(owner).post(API_URL, {"format": "csv"})
    assert response.status_code == 200 and response["X-Export-Count"] == "2"
    assert ExportJob.objects.count() == 0


def test_the_export_page_sends_a_large_export_to_its_job_page(
    client, django_capture_on_commit_callbacks
):
    owner, _customers = owner_with_customers()
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("customers:export"), {"format": "csv"})
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("exports:detail", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    assert reverse("exports:download", args=[job.pk]) in page
    download = client.get(reverse("exports:download", args=[job.pk]))
    assert download.status_code == 200
    client.force_login(rep())
    assert client.get(response["Location"]).status_code == 404


def test_the_daily_clean_up_is_scheduled(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "crm.export_jobs_clean_up" in tasks
