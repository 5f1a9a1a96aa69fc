"""Large uploads are spooled to disk encrypted, read back in clear, and deleted."""

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

CANARY = "客户名单-canary-13912348765\n".encode()


@pytest.fixture
def spool(tmp_path):
    with override_settings(FILE_UPLOAD_TEMP_DIR=str(tmp_path), FILE_UPLOAD_MAX_MEMORY_SIZE=10):
        yield tmp_path


def test_large_upload_is_encrypted_on_disk_and_clear_to_the_reader(spool):
    payload = CANARY * 50_000  # about 1.6 MB, several records
    seen = {}

    def view(request):
        upload = request.FILES["file"]
        files = list(spool.iterdir())
        seen["on_disk"] = b"".join(path.read_bytes() for path in files)
        seen["files"] = len(files)
        seen["read"] = upload.read()
        return HttpResponse("ok")

    request = RequestFactory().post(
        "/", {"file": SimpleUploadedFile("list.csv", payload, content_type="text/csv")}
    )
    view(request)
    assert seen["files"] == 1
    assert seen["read"] == payload
    assert b"canary" not in seen["on_disk"] and "客户".encode() not in seen["on_disk"]
    request.close()  # Django closes uploads at the end of the request
    assert os.listdir(spool) == []


def test_small_upload_stays_in_memory(tmp_path):
    with override_settings(FILE_UPLOAD_TEMP_DIR=str(tmp_path)):
        request = RequestFactory().post(
            "/", {"file": SimpleUploadedFile("a.csv", b"name\n", content_type="text/csv")}
        )
        assert request.FILES["file"].read() == b"name\n"
        assert os.listdir(tmp_path) == []
