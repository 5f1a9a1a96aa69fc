"""Uploads that never lie on disk in clear.

Django keeps small uploads in memory and writes larger ones to a temporary file. Uploads
here may be customer lists full of personal data, so the second handler writes that
temporary file encrypted (``crm.encrypted_files``) as the chunks arrive; reading the
uploaded file decrypts it on the fly, and closing it (Django does at the end of the
request) deletes it.

Nothing past ``CRM_UPLOAD_MAX_BYTES`` is written: the rest of a larger upload is read and
dropped, and the file keeps its true size, so the service refuses it with a clear message
(a 400 naming the limit) instead of the disk filling up.
"""

from __future__ import annotations

import io
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

from crm.encrypted_files import EncryptedWriter, delete_encrypted, open_decrypted


def _temporary_directory():
    return settings.FILE_UPLOAD_TEMP_DIR or Path(settings.CRM_UPLOAD_DIR) / "incoming"


class EncryptedTemporaryUploadedFile(UploadedFile):
    """An upload kept in an encrypted temporary file; reads give the clear bytes."""

    def __init__(self, stored_name, name, content_type, size, charset, content_type_extra=None):
        self.stored_name = stored_name
        reader = io.BufferedReader(open_decrypted(stored_name, directory=_temporary_directory()))
        super().__init__(reader, name, content_type, size, charset, content_type_extra)

    def close(self):
        try:
            return self.file.close()
        finally:
            delete_encrypted(self.stored_name, directory=_temporary_directory())


class EncryptingUploadHandler(FileUploadHandler):
    """Stream every upload that got past the in-memory handler into an encrypted file."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.writer = EncryptedWriter(directory=_temporary_directory())
        self.limit = int(getattr(settings, "CRM_UPLOAD_MAX_BYTES", 50 * 1024 * 1024))

    def receive_data_chunk(self, raw_data, start):
        if start < self.limit:
            self.writer.write(raw_data[: self.limit - start])
        return None

    def file_complete(self, file_size):
        stored_name = self.writer.close()
        return EncryptedTemporaryUploadedFile(
            stored_name,
            self.file_name,
            self.content_type,
            file_size,
            self.charset,
            self.content_type_extra,
        )

    def upload_interrupted(self):
        writer = getattr(self, "writer", None)
        if writer is not None:
            writer.abort()
