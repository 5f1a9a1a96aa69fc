"""Attachments of credit investigations (issue 9, item 2): PDF or image files, checked by
their content, stored encrypted like the import uploads, read only through an audited,
permission-checked download.

The file lies in ``CRM_UPLOAD_DIR/credit`` as a ``crm.encrypted_files`` file (AES-GCM under
the master key, chunk by chunk); its original name may name a person and is encrypted under
the customer's data key on the row. A purge deletes the file and empties the row
(``credit.privacy``).
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import record_event
from credit import events
from credit import permissions as perms
from credit.models import Investigation, InvestigationAttachment
from credit.selectors import credit_settings
from credit.services.common import save
from crm.encrypted_files import delete_encrypted, open_decrypted, store_encrypted
from crm.models import User
from crm.permissions import require_perm
from customers import permissions as customer_perms

FileType = InvestigationAttachment.FileType
# How many bytes of a file its type is read from.
SIGNATURE_BYTES = 16


def attachment_directory() -> Path:
    """Where the encrypted attachments lie: apart from the import uploads, whose clean-up
    deletes every stale file directly in ``CRM_UPLOAD_DIR``."""
    return Path(settings.CRM_UPLOAD_DIR) / "credit"


def detect_type(head: bytes) -> str | None:
    """The file's type from its first bytes (its "magic number"), never from its name or
    the type the browser claims; ``None`` for anything but a PDF or an image."""
    if head.startswith(b"%PDF-"):
        return FileType.PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileType.PNG
    if head.startswith(b"\xff\xd8\xff"):
        return FileType.JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return FileType.GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return FileType.WEBP
    return None


def max_bytes() -> int:
    """The size limit: the credit setting, and never above what an upload may be at all
    (``CRM_UPLOAD_MAX_BYTES``: larger uploads are not even spooled in full)."""
    limit = credit_settings().attachment_max_mb * 1024 * 1024
    return min(limit, int(getattr(settings, "CRM_UPLOAD_MAX_BYTES", limit)))


def _checked_upload(upload) -> str:
    """The upload's detected type; ``ValidationError`` on ``file`` otherwise."""
    if upload is None or not getattr(upload, "size", 0):
        raise ValidationError({"file": [_("Choose a file.")]})
    limit = max_bytes()
    if upload.size > limit:
        raise ValidationError(
            {
                "file": [
                    _("The file is larger than %(limit)s MB.")
                    % {"limit": round(limit / (1024 * 1024), 1)}
                ]
            }
        )
    upload.seek(0)
    file_type = detect_type(upload.read(SIGNATURE_BYTES))
    upload.seek(0)
    if file_type is None:
        raise ValidationError({"file": [_("Attach a PDF or an image (PNG, JPEG, GIF, WebP).")]})
    return file_type


@transaction.atomic
def attachment_add(*, actor: User, investigation: Investigation, upload) -> InvestigationAttachment:
    """Attach a file to an investigation of a customer the actor may see (404 otherwise).

    The audit event names the investigation, the type and the size, never the file's name.
    """
    require_perm(actor, perms.ADD_ATTACHMENT)
    customer = customer_perms.access_customer(actor, investigation.customer_id)
    file_type = _checked_upload(upload)
    name = os.path.basename(getattr(upload, "name", "") or "").strip()[:255]
    stored = store_encrypted(upload, directory=attachment_directory())
    try:
        attachment = save(
            InvestigationAttachment(
                customer=customer,
                data_key_id=customer.data_key_id,
                investigation=investigation,
                file_name=name,
                content_type=file_type,
                size=upload.size,
                stored_file=stored,
                uploaded_by=actor,
            ),
            actor,
        )
        record_event(
            action=events.ATTACHMENT_ADDED,
            actor=actor,
            obj=customer,
            data={
                "investigation_id": investigation.pk,
                "attachment_id": attachment.pk,
                "content_type": file_type,
                "size": attachment.size,
            },
        )
    except BaseException:
        delete_encrypted(stored, directory=attachment_directory())
        raise
    return attachment


def attachment_open(*, actor: User, attachment: InvestigationAttachment):
    """Open the decrypted file for a download and record the download (audit event).

    The caller fetched ``attachment`` through ``selectors.attachment_get`` (the 404 for a
    customer the actor may not see); a file destroyed by a purge is a 404 too.
    """
    from django.http import Http404

    if not attachment.stored_file:
        raise Http404
    try:
        stream = open_decrypted(attachment.stored_file, directory=attachment_directory())
    except FileNotFoundError:
        raise Http404 from None
    record_event(
        action=events.ATTACHMENT_DOWNLOADED,
        actor=actor,
        obj=attachment.customer,
        data={"investigation_id": attachment.investigation_id, "attachment_id": attachment.pk},
    )
    return stream


def attachments_destroy(customer) -> int:
    """Delete the files of every attachment of ``customer`` (a purge); returns how many.
    The rows are emptied by the privacy provider's scrub."""
    names = list(
        InvestigationAttachment.objects.filter(customer=customer)
        .exclude(stored_file="")
        .values_list("stored_file", flat=True)
    )
    return sum(delete_encrypted(name, directory=attachment_directory()) for name in names)


# A file younger than this may belong to an upload whose row is not committed yet.
ORPHAN_MIN_AGE = timedelta(hours=1)
_SWEEP_BATCH = 500


def attachment_orphans_sweep(*, min_age: timedelta = ORPHAN_MIN_AGE) -> int:
    """Delete the encrypted files no attachment row names; returns how many.

    ``attachment_add`` deletes its file when its own work fails, but a transaction around
    it (an API request's, say) can still roll back after the file was written. Such a file
    is unreadable without its row and harmless, yet it is data kept without a purpose, so
    the daily sweep removes it once it is older than ``min_age``.
    """
    directory = attachment_directory()
    if not directory.is_dir():
        return 0
    cutoff = time.time() - min_age.total_seconds()
    candidates = [
        entry.name
        for entry in os.scandir(directory)
        if entry.is_file() and entry.name.endswith(".enc") and entry.stat().st_mtime < cutoff
    ]
    deleted = 0
    for start in range(0, len(candidates), _SWEEP_BATCH):
        batch = candidates[start : start + _SWEEP_BATCH]
        named = set(
            InvestigationAttachment.objects.filter(stored_file__in=batch).values_list(
                "stored_file", flat=True
            )
        )
        deleted += sum(
            delete_encrypted(name, directory=directory) for name in batch if name not in named
        )
    return deleted
