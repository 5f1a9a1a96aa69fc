"""An app's own import target runs through the customers' import endpoint unchanged."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from crm import imports
from crm.imports import checks
from customers.models import ImportJob
from customers.tests.factories import rep

pytestmark = pytest.mark.django_db

WRITTEN = []


class NoteChecker(imports.Checker):
    def check(self, line, cells, *, first_pass=True):
        row = imports.Row(line)
        row.values["text"] = checks.text(row, cells, "text", max_length=10)
        if not row.values["text"]:
            row.add("text", "This field is required.")
        return row

    def write(self, row):
        WRITTEN.append(row.values["text"])


@pytest.fixture
def note_target(settings, tmp_path):
    settings.CRM_UPLOAD_DIR = tmp_path
    target = imports.register(
        imports.ImportTarget(
            key="test_notes",
            label="Notes",
            permission="customers.add_customer",
            columns=(imports.Column("text", ("文本",), required=True),),
            checker=NoteChecker,
        )
    )
    WRITTEN.clear()
    yield target
    imports.registry.unregister("test_notes")


def test_a_registered_target_is_offered_and_imported(
    note_target, django_capture_on_commit_callbacks
):
    client = APIClient()
    client.force_authenticate(rep())
    upload = SimpleUploadedFile("notes.csv", "文本\n第一条\n\n很长很长很长很长很长很长\n".encode())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/customers/imports/",
            {"file": upload, "target": "test_notes", "mode": "valid_rows"},
            format="multipart",
        )
    assert response.status_code == 202, response.content
    detail = client.get(f"/api/v1/customers/imports/{response.data['id']}/").data
    assert detail["status"] == ImportJob.Status.DONE
    assert (detail["rows_total"], detail["rows_valid"], detail["rows_imported"]) == (2, 1, 1)
    assert [(e["line"], e["column"]) for e in detail["errors"]] == [(4, "text")]
    assert WRITTEN == ["第一条"]
    assert ImportJob.objects.get().get_target_display() == "Notes"


def test_an_unregistered_target_is_a_400():
    client = APIClient()
    client.force_authenticate(rep())
    response = client.post(
        "/api/v1/customers/imports/",
        {"file": SimpleUploadedFile("n.csv", b"text\nx\n"), "target": "test_notes"},
        format="multipart",
    )
    assert response.status_code == 400 and "target" in response.data
