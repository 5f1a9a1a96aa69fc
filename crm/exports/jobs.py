"""Large exports as background jobs (``crm.ExportJob``).

An export above ``CRM_EXPORT_SYNC_MAX_ROWS`` rows (default 5,000) is not built during the
request: a job is queued and answered at once (202 in the API). A worker builds the export
through the target the app registered (``crm.exports.registry``) for the user who asked,
writes it encrypted (``crm.encrypted_files``) under ``CRM_EXPORT_DIR`` with progress, and
the owner alone may download it for ``CRM_EXPORT_TTL_HOURS`` (24). The request's parameters
(filters may name a person) wait in an encrypted file, never in the row or the task's
arguments. A daily clean-up deletes expired files and closes stalled jobs.
"""

from __future__ import annotations

import datetime
import json
import logging
import traceback
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_noop

from crm import auditing
from crm.encrypted_files import (
    EncryptedWriter,
    delete_encrypted,
    open_decrypted,
    stale_encrypted,
    store_encrypted,
)
from crm.exports.registry import get_target
from crm.ids import is_object_id
from crm.models import ExportJob, User

logger = logging.getLogger(__name__)

EXPORT_DOWNLOADED = "exports.downloaded"
PROGRESS_EVERY = 500
FAILED_MESSAGE = gettext_noop(
    "The export stopped because of an internal error. Please try again or tell an administrator."
)
STALLED_MESSAGE = gettext_noop("The export stopped answering and was closed; export again.")


def sync_max_rows() -> int:
    return int(getattr(settings, "CRM_EXPORT_SYNC_MAX_ROWS", 5000))


def ttl() -> datetime.timedelta:
    return datetime.timedelta(hours=int(getattr(settings, "CRM_EXPORT_TTL_HOURS", 24)))


def export_directory() -> Path:
    configured = getattr(settings, "CRM_EXPORT_DIR", None)
    return Path(configured) if configured else Path(settings.CRM_UPLOAD_DIR) / "exports"


@transaction.atomic
def export_job_create(
    *, actor: User, target: str, file_format: str, params: dict, rows_total: int
) -> ExportJob:
    """Queue a background export of ``target`` with ``params`` (JSON-serialisable)."""
    import io

    from crm.tasks import export_job_run_task

    if get_target(target) is None:
        raise ValueError(f"No export target {target!r} is registered.")
    blob = json.dumps(params, sort_keys=True, default=str).encode()
    params_file = store_encrypted(io.BytesIO(blob), directory=export_directory())
    try:
        job = ExportJob(
            target=target,
            file_format=file_format,
            owner=actor,
            params_file=params_file,
            rows_total=rows_total,
        )
        job._history_user = actor
        job.save()
    except BaseException:
        delete_encrypted(params_file, directory=export_directory())
        raise
    job_id = job.pk
    transaction.on_commit(lambda: export_job_run_task.delay(job_id))
    return job


def _params(job: ExportJob) -> dict:
    with open_decrypted(job.params_file, directory=export_directory()) as raw:
        return json.loads(b"".join(iter(lambda: raw.read(65536), b"")) or b"{}")


def _save(job: ExportJob, *fields: str) -> None:
    job._history_user = job.owner
    job.save(update_fields=[*fields, "updated_at"])


class _EncryptedSink:
    """A write-only binary stream into an encrypted file (zipfile copes with no seek)."""

    def __init__(self, writer: EncryptedWriter):
        self._writer = writer

    def write(self, data) -> int:
        self._writer.write(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass


def _counted(job: ExportJob, rows) -> Iterator[list]:
    written = 0
    for row in rows:
        yield row
        written += 1
        if written % PROGRESS_EVERY == 0:
            ExportJob.objects.filter(pk=job.pk).update(
                rows_written=written, updated_at=timezone.now()
            )
    job.rows_written = written


def export_job_run(*, job_id: int) -> str:
    """Build the export and write it encrypted (the Celery task body). Returns the status."""
    job = ExportJob.objects.select_related("owner").filter(pk=job_id).first()
    if job is None:
        return "missing"
    if job.status != ExportJob.Status.PENDING:
        return job.status
    job.status = ExportJob.Status.RUNNING
    _save(job, "status")
    writer = None
    try:
        target = get_target(job.target)
        if target is None:
            raise LookupError(job.target)
        result = target.build(actor=job.owner, **_params(job))
        job.rows_total = result.count
        writer = EncryptedWriter(directory=export_directory())
        rows = _counted(job, result.rows)
        if result.fmt == "csv":
            from crm.exports.writers import csv_chunks

            for chunk in csv_chunks(result.header, rows):
                writer.write(chunk)
        else:
            from crm.exports.writers import xlsx_write

            xlsx_write(result.header, rows, _EncryptedSink(writer), sheet_title=result.sheet_title)
        job.stored_file = writer.close()
        writer = None
        job.file_name = result.filename
        job.content_type = result.content_type
        job.status = ExportJob.Status.DONE
        job.finished_at = timezone.now()
        job.expires_at = job.finished_at + ttl()
    except Exception as exc:
        if writer is not None:
            writer.abort()
        # Only the type and the frames: an exception's text may quote a value.
        logger.error(
            "export job %s failed: %s\n%s",
            job.pk,
            type(exc).__name__,
            "".join(traceback.format_tb(exc.__traceback__)),
        )
        job.status = ExportJob.Status.FAILED
        job.error = FAILED_MESSAGE
        job.finished_at = timezone.now()
    finally:
        if job.params_file:
            delete_encrypted(job.params_file, directory=export_directory())
            job.params_file = ""
    _save(
        job,
        "status",
        "stored_file",
        "params_file",
        "file_name",
        "content_type",
        "rows_total",
        "rows_written",
        "error",
        "finished_at",
        "expires_at",
    )
    return job.status


# --- reads and the download ---------------------------------------------------------------


def export_job_list(*, user) -> QuerySet:
    """The user's own export jobs: an export is its owner's alone."""
    if not user.is_authenticated:
        return ExportJob.objects.none()
    return ExportJob.objects.filter(owner=user)


def export_job_get(*, user, job_id) -> ExportJob:
    """One of the user's jobs, else 404 (missing and someone else's alike)."""
    job = export_job_list(user=user).filter(pk=job_id).first() if is_object_id(job_id) else None
    if job is None:
        raise Http404("No such export.")
    return job


def is_downloadable(job: ExportJob) -> bool:
    return (
        job.status == ExportJob.Status.DONE
        and bool(job.stored_file)
        and job.expires_at is not None
        and job.expires_at > timezone.now()
    )


def export_job_progress(job: ExportJob) -> int:
    if job.status in (ExportJob.Status.DONE, ExportJob.Status.EXPIRED):
        return 100
    if not job.rows_total:
        return 0
    return int(100 * min(job.rows_written / job.rows_total, 1.0))


def export_job_download(*, user, job_id) -> tuple[ExportJob, Iterator[bytes]]:
    """The owner's finished file as decrypted chunks (404 for anyone else or once expired).

    Records who downloaded which export.
    """
    job = export_job_get(user=user, job_id=job_id)
    if not is_downloadable(job):
        raise Http404("This export is not available.")
    reader = open_decrypted(job.stored_file, directory=export_directory())

    def chunks():
        try:
            while chunk := reader.read(1024 * 1024):
                yield chunk
        finally:
            reader.close()

    auditing.record(
        action=EXPORT_DOWNLOADED,
        actor=user,
        obj=job,
        data={"target": job.target, "format": job.file_format, "rows": job.rows_written},
    )
    return job, chunks()


# --- clean-up -----------------------------------------------------------------------------


def export_jobs_clean_up(*, stale_after: datetime.timedelta = datetime.timedelta(hours=6)) -> dict:
    """Delete expired export files, close stalled jobs, delete orphan files (daily job)."""
    now = timezone.now()
    directory = export_directory()
    expired = 0
    for job in ExportJob.objects.filter(
        status=ExportJob.Status.DONE, expires_at__lte=now
    ).select_related("owner"):
        if job.stored_file:
            delete_encrypted(job.stored_file, directory=directory)
        job.stored_file = ""
        job.status = ExportJob.Status.EXPIRED
        _save(job, "status", "stored_file")
        expired += 1
    stalled = 0
    for job in ExportJob.objects.filter(
        status__in=(ExportJob.Status.PENDING, ExportJob.Status.RUNNING),
        updated_at__lt=now - stale_after,
    ).select_related("owner"):
        for name in (job.params_file, job.stored_file):
            if name:
                delete_encrypted(name, directory=directory)
        job.params_file = job.stored_file = ""
        job.status = ExportJob.Status.FAILED
        job.error = STALLED_MESSAGE
        job.finished_at = now
        _save(job, "status", "params_file", "stored_file", "error", "finished_at")
        stalled += 1
    referenced = set()
    for params_file, stored_file in ExportJob.objects.filter(
        status__in=(ExportJob.Status.PENDING, ExportJob.Status.RUNNING, ExportJob.Status.DONE)
    ).values_list("params_file", "stored_file"):
        referenced.update({params_file, stored_file})
    deleted = 0
    for name in stale_encrypted(
        older_than_seconds=stale_after.total_seconds(), directory=directory
    ):
        if name not in referenced:
            deleted += delete_encrypted(name, directory=directory)
    return {"expired": expired, "jobs_closed": stalled, "files_deleted": deleted}
