"""Import jobs of the customers app (DESIGN §7 "Import/export"): create, run, clean up.

The job row is ``customers.ImportJob``; reading the file, checking and writing the rows is
``crm.imports`` with the target registered by the app that owns it (customers and contacts
here, ``customers.services.imports``). An upload is stored encrypted and read back as a
stream; the encrypted file is deleted when the job ends. The reads (job lists, progress,
errors) are ``customers.selectors``.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from crm.encrypted_files import delete_encrypted, stale_encrypted
from crm.imports import jobs
from crm.models import User
from crm.permissions import require_perm
from crm.queueing import enqueue_on_commit
from customers import permissions as perms
from customers.models import ImportJob

# The reads moved to ``customers.selectors``; importable from here for the adapters that
# still read them here (customers/api/imports.py).
from customers.selectors import (
    import_error_rows,
    import_job_get,
    import_job_list,
    import_job_progress,
)

RUNNING = jobs.RUNNING
FINISHED = jobs.FINISHED
# The Celery task that runs a job (``customers.tasks``), queued by name: the tasks import
# the services, never the other way round.
IMPORT_JOB_RUN_TASK = "customers.import_job_run"

__all__ = [
    "IMPORT_JOB_RUN_TASK",
    "import_error_rows",
    "import_job_create",
    "import_job_get",
    "import_job_list",
    "import_job_progress",
    "import_job_run",
    "import_jobs_clean_up",
]


@transaction.atomic
def import_job_create(
    *,
    actor: User,
    upload,
    target: str,
    mode: str = ImportJob.Mode.ALL_OR_NOTHING,
    dry_run: bool = False,
) -> ImportJob:
    """Store the upload encrypted, create the job and queue it once the job is committed.

    ``target`` is a key of the import registry (``crm.imports``). Raises
    ``PermissionDenied`` without the import permission or the target's own, and
    ``ValidationError`` by field for a bad target, mode or file (too large included:
    ``CRM_UPLOAD_MAX_BYTES``).
    """
    require_perm(actor, perms.IMPORT, _("You are not allowed to import customers."))
    _target, name, stored = jobs.accept_upload(actor=actor, upload=upload, target=target, mode=mode)
    try:
        job = ImportJob(
            target=target,
            mode=mode,
            dry_run=bool(dry_run),
            file_name=name[:255],
            stored_file=stored,
            created_by=actor,
        )
        job._history_user = actor
        job.save()
    except BaseException:
        delete_encrypted(stored)
        raise
    enqueue_on_commit(IMPORT_JOB_RUN_TASK, job.pk)
    return job


def import_job_run(*, job_id: int) -> str:
    """Check, then import, the job's file (the Celery task body). Returns the final status."""
    job = ImportJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None:
        return "missing"
    return jobs.run(job)


def import_jobs_clean_up(*, stale_after: datetime.timedelta = datetime.timedelta(hours=6)) -> dict:
    """Close jobs that stopped moving and delete uploads no job will read (daily job).

    A job whose worker died, or whose task never reached a worker, would otherwise stay
    "running" for ever with its encrypted upload on disk.
    """
    closed = jobs.close_stalled(ImportJob.objects.all(), stale_after=stale_after)
    seconds = stale_after.total_seconds()
    referenced = set(
        ImportJob.objects.exclude(stored_file="").values_list("stored_file", flat=True)
    )
    deleted = 0
    for name in stale_encrypted(older_than_seconds=seconds):
        if name not in referenced and delete_encrypted(name):
            deleted += 1
    spool = settings.FILE_UPLOAD_TEMP_DIR or Path(settings.CRM_UPLOAD_DIR) / "incoming"
    for name in stale_encrypted(older_than_seconds=seconds, directory=spool):
        deleted += delete_encrypted(name, directory=spool)
    return {"jobs_closed": closed, "files_deleted": deleted}
