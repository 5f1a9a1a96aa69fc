"""Running an import job: check every row, then write the valid ones (or none).

The job is a model instance with the import job's fields (``customers.ImportJob`` today);
this module reads and writes only those fields, so any app's job model of that shape works.
Two passes over the stored file:

1. *Check*: each row through the target's checker; duplicates inside the file through its
   remembered keys, against the database by batches (``LOOKUP_BATCH`` rows a query).
2. *Import* (unless a dry run, or the file has errors and the mode is all-or-nothing): the
   valid rows, ``WRITE_BATCH`` rows a transaction (business and keys databases together).
   A target with a ``batch_writer`` writes each batch in bulk (a few statements a batch,
   no savepoint); a batch that meets a database error there (a duplicate raced in since
   the check) is rolled back and written again row by row through the target's writer,
   one savepoint a row, as every batch of a target without a batch writer is. A row that
   fails then is reported like a checking error; the other rows are written.

Errors are kept by ``ErrorReport`` (the first ``CRM_IMPORT_MAX_ERRORS`` and counts per
column); progress is written every ``PROGRESS_EVERY`` rows. A job never stays running: an
unexpected error ends it FAILED, a job found half-imported is closed, and the encrypted
upload is deleted at the end in every case. Re-importing a file is idempotent as far as the
target's checker recognises rows already written (customers: by phone, e-mail, ID number).
"""

from __future__ import annotations

import datetime
import logging
import traceback

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.http import Http404
from django.utils import timezone, translation

from crm import auditing, encryption, search_index
from crm.encrypted_files import delete_encrypted
from crm.imports import messages
from crm.imports.errors import ErrorReport, ImportFileError, error
from crm.imports.readers import open_source, records
from crm.imports.registry import ImportTarget, get_target

logger = logging.getLogger(__name__)

PENDING, CHECKING, CHECKED = "pending", "checking", "checked"
REJECTED, IMPORTING, DONE, FAILED = "rejected", "importing", "done", "failed"
RUNNING = (PENDING, CHECKING, IMPORTING)
FINISHED = (CHECKED, REJECTED, DONE, FAILED)
ALL_OR_NOTHING, VALID_ROWS = "all_or_nothing", "valid_rows"

LOOKUP_BATCH = 500  # rows per database look-up of duplicates
WRITE_BATCH = 500  # rows per transaction when importing
PROGRESS_EVERY = 200  # rows between two progress updates
COUNTERS = ("rows_total", "rows_processed", "rows_valid", "rows_invalid", "rows_imported")


def progress(job, **counters) -> None:
    """Counters only, many times per job: a plain UPDATE, so history keeps the status
    changes and not every tick; pages polling the job read it from the row."""
    for name, value in counters.items():
        setattr(job, name, value)
    type(job).objects.filter(pk=job.pk).update(updated_at=timezone.now(), **counters)


def save(job, *fields: str) -> None:
    job._history_user = job.created_by
    job.save(update_fields=[*fields, "updated_at"])


def finish(job, status: str, report: ErrorReport) -> None:
    target = get_target(job.target)
    columns = target.columns if target else ()
    job.status = status
    job.errors = report.sorted({column.key: i for i, column in enumerate(columns)})
    job.errors_total = report.total
    job.errors_by_column = dict(sorted(report.by_column.items()))
    job.finished_at = timezone.now()
    save(
        job,
        "status",
        "errors",
        "errors_total",
        "errors_by_column",
        "finished_at",
        "encoding",
        *COUNTERS,
    )
    auditing.record(
        action=(target.audit_action if target and target.audit_action else "imports.finished"),
        actor=job.created_by,
        obj=job,
        data={
            "target": job.target,
            "mode": job.mode,
            "dry_run": job.dry_run,
            "status": job.status,
            "rows": job.rows_total,
            "valid": job.rows_valid,
            "invalid": job.rows_invalid,
            "imported": job.rows_imported,
            "errors": job.errors_total,
        },
    )


def progress_percent(job) -> int:
    """Percent done: checking counts for the first half of a real import, writing the rest."""
    if job.status in FINISHED:
        return 100
    checked = job.rows_processed / job.rows_total if job.rows_total else 0.0
    if job.status == IMPORTING:
        written = job.rows_imported / job.rows_valid if job.rows_valid else 1.0
        return int(50 + 50 * min(written, 1.0))
    share = 100 if job.dry_run else 50
    return int(share * min(checked, 1.0))


def _refused(job) -> str:
    return CHECKED if job.dry_run else REJECTED


def _check_pass(job, source, target: ImportTarget, checker, report: ErrorReport):
    """Pass 1. Returns the lines with errors and whether the file is unusable."""
    invalid_lines: set[int] = set()
    pending: list = []
    processed = valid = invalid = 0

    def flush():
        nonlocal valid, invalid
        checker.check_database(pending)
        for row in pending:
            if row.errors:
                report.extend(row.errors)
                invalid_lines.add(row.line)
                invalid += 1
            else:
                valid += 1
        pending.clear()

    header_seen = False
    for line, record in records(source, target.columns):
        if not isinstance(record, dict):  # the header
            header_seen = True
            report.titles = record.titles
            report.extend(record.errors)
            if record.fatal:
                return invalid_lines, True
            continue
        pending.append(checker.check(line, record))
        processed += 1
        if len(pending) >= LOOKUP_BATCH:
            flush()
        if processed % PROGRESS_EVERY == 0:
            progress(job, rows_processed=processed, rows_total=max(job.rows_total, processed))
    flush()
    job.rows_total = job.rows_processed = processed
    job.rows_valid, job.rows_invalid = valid, invalid
    if not processed:
        report.add(error(1 if header_seen else 0, "", messages.NO_ROWS))
        return invalid_lines, True
    return invalid_lines, False


def _write_in_bulk(job, target: ImportTarget, checker, batch: list) -> bool:
    """The target's bulk path for one batch, in one transaction and no savepoint.

    Returns False when the batch was rolled back by a database error (a duplicate raced
    in since the check, say): the caller then writes it row by row. Errors the writer
    added to rows it refused are kept either way.
    """
    try:
        with search_index.atomic():
            target.write_batch(checker, batch)
    except DatabaseError:
        logger.warning("import job %s: a batch is written row by row after an error", job.pk)
        return False
    return True


def _import_pass(job, source, target: ImportTarget, checker, invalid_lines, report) -> None:
    """Pass 2: write the valid rows in batches (the target's bulk path when it has one)."""
    batch: list = []
    imported = 0
    failed_lines: set[int] = set()

    def account(row) -> None:
        nonlocal imported
        if row.errors:
            report.extend(row.errors)
            failed_lines.add(row.line)
        else:
            imported += 1

    def write_batch():
        checker.prepare(batch)
        if target.batch_writer is not None and _write_in_bulk(job, target, checker, batch):
            for row in batch:
                account(row)
            batch.clear()
            progress(job, rows_imported=imported)
            encryption.clear_key_cache()  # a long job does not keep every subject's key
            return
        # The rows' search digests (keys database) commit after the batch, or not at all.
        with search_index.atomic():
            for row in batch:
                if row.errors:  # refused by the bulk path before it was rolled back
                    account(row)
                    continue
                try:
                    with transaction.atomic():
                        target.write(checker, row)
                except ValidationError as exc:
                    details = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
                    for name, texts in details.items():
                        for text in texts:
                            row.add(checker.column_of(name), text)
                except Http404:
                    row.add("", messages.NOT_SAVED)
                except PermissionDenied as exc:
                    row.add("", str(exc) or messages.NOT_SAVED)
                except DatabaseError:
                    logger.warning("import job %s: line %s could not be saved", job.pk, row.line)
                    row.add("", messages.NOT_SAVED)
                account(row)
        batch.clear()
        progress(job, rows_imported=imported)
        encryption.clear_key_cache()

    for line, record in records(source, target.columns):
        if not isinstance(record, dict):
            report.titles = record.titles
            continue
        if line in invalid_lines:
            continue
        row = checker.check(line, record, first_pass=False)
        if row.errors:  # cannot happen unless the file changed under us; never write it
            report.extend(row.errors)
            failed_lines.add(row.line)
            continue
        batch.append(row)
        if len(batch) >= WRITE_BATCH:
            write_batch()
    if batch:
        write_batch()
    job.rows_imported = imported
    job.rows_valid -= len(failed_lines)
    job.rows_invalid += len(failed_lines)


def _run(job) -> None:
    job.status = CHECKING
    save(job, "status")
    target = get_target(job.target)
    report = ErrorReport()
    if target is None:  # the app that registered it is gone
        report.add(error(0, "", messages.CRASHED))
        finish(job, FAILED, report)
        return
    checker = target.checker(job.created_by)
    try:
        source = open_source(job.file_name, job.stored_file)
    except ImportFileError as exc:
        report.add(exc.as_error())
        finish(job, _refused(job), report)
        return
    try:
        job.encoding = source.encoding
        progress(job, encoding=source.encoding, rows_total=source.data_rows)
        try:
            invalid_lines, unusable = _check_pass(job, source, target, checker, report)
        except ImportFileError as exc:
            report.add(exc.as_error())
            finish(job, _refused(job), report)
            return
        if unusable or job.dry_run:
            finish(job, _refused(job) if unusable else CHECKED, report)
            return
        if (report and job.mode == ALL_OR_NOTHING) or not job.rows_valid:
            finish(job, REJECTED, report)
            return
        job.status = IMPORTING
        save(job, "status", *COUNTERS[:4])
        _import_pass(job, source, target, checker, invalid_lines, report)
        finish(job, DONE, report)
    finally:
        source.close()


def run(job) -> str:
    """Check, then import, the job's file (the body of a Celery task). Returns the status.

    Never leaves the job running: an unexpected error ends it FAILED with a message, and a
    job found half-imported (its worker died) is closed as FAILED too. The encrypted upload
    is deleted at the end in every case.
    """
    if job.status in FINISHED:
        return job.status
    with translation.override("en"):  # messages are stored in English, shown translated
        if job.status == IMPORTING:
            report = ErrorReport.of_job(job)
            report.add(error(0, "", messages.INTERRUPTED))
            finish(job, FAILED, report)
            discard_upload(job)
            return job.status
        try:
            _run(job)
        except Exception as exc:
            # Only the type and the frames: an exception's text may quote a cell's value.
            logger.error(
                "import job %s failed: %s\n%s",
                job.pk,
                type(exc).__name__,
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            job.refresh_from_db(fields=["rows_processed", "rows_imported", "rows_total"])
            finish(job, FAILED, ErrorReport([error(0, "", messages.CRASHED)]))
        finally:
            discard_upload(job)
    return job.status


def discard_upload(job) -> None:
    if job.stored_file:
        delete_encrypted(job.stored_file)
        job.stored_file = ""
        type(job).objects.filter(pk=job.pk).update(stored_file="")


def close_stalled(jobs, *, stale_after: datetime.timedelta) -> int:
    """Close the running jobs of ``jobs`` (a queryset) that stopped moving; returns how many."""
    cutoff = timezone.now() - stale_after
    closed = 0
    for job in jobs.filter(status__in=RUNNING, updated_at__lt=cutoff).select_related("created_by"):
        with translation.override("en"):
            report = ErrorReport.of_job(job)
            report.add(error(0, "", messages.STALLED))
            finish(job, FAILED, report)
        discard_upload(job)
        closed += 1
    return closed


# --- accepting an upload ------------------------------------------------------------------


def max_upload_bytes() -> int:
    from django.conf import settings

    return int(getattr(settings, "CRM_UPLOAD_MAX_BYTES", 50 * 1024 * 1024))


def accept_upload(*, actor, upload, target: str, mode: str) -> tuple[ImportTarget, str, str]:
    """Check an upload for a new job and store it encrypted.

    Returns the target, the file's base name and the stored file's name. Raises
    ``ValidationError`` (by field: ``target``, ``mode``, ``file``) and ``PermissionDenied``
    without the target's permission. The caller creates the job and deletes the stored file
    if that fails.
    """
    import os

    from django.utils.translation import gettext as _

    from crm.encrypted_files import store_encrypted
    from crm.imports.readers import CSV_EXTENSIONS, XLSX_EXTENSIONS, extension

    errors: dict[str, list[str]] = {}
    found = get_target(target) if isinstance(target, str) else None
    if found is None:
        errors["target"] = [_("Choose what the file holds.")]
    if mode not in (ALL_OR_NOTHING, VALID_ROWS):
        errors["mode"] = [_("Choose how to treat rows with errors.")]
    name = os.path.basename(getattr(upload, "name", "") or "").strip()
    size = getattr(upload, "size", 0) or 0
    limit = max_upload_bytes()
    if upload is None or not name:
        errors["file"] = [_("Choose a file.")]
    elif extension(name) not in CSV_EXTENSIONS + XLSX_EXTENSIONS:
        errors["file"] = [_("Upload a CSV or XLSX file.")]
    elif not size:
        errors["file"] = [_("The file is empty.")]
    elif size > limit:
        errors["file"] = [
            _("The file is larger than %(limit)s MB; split it into smaller files.")
            % {"limit": limit // (1024 * 1024)}
        ]
    if errors:
        raise ValidationError(errors)
    if not actor.has_perm(found.permission):
        raise PermissionDenied(_("You are not allowed to create these records."))
    if extension(name) in XLSX_EXTENSIONS:
        upload.seek(0)
        if upload.read(4) != b"PK\x03\x04":
            raise ValidationError({"file": [_(messages.BAD_XLSX)]})
    upload.seek(0)
    return found, name, store_encrypted(upload)
