"""Celery tasks of the audit trail (thin wrappers)."""

from celery import shared_task


@shared_task(name="audit.chain_checkpoint")
def audit_chain_checkpoint_task() -> int | None:
    """Chain leftover events and anchor the head in the keys database (hourly, beat)."""
    from audit.services import audit_chain_checkpoint

    checkpoint = audit_chain_checkpoint()
    return checkpoint.sequence if checkpoint is not None else None


@shared_task(name="audit.purge_expired")
def purge_expired_task() -> int:
    """The daily retention run: purge what has expired (beat); returns the record's id."""
    from audit.retention import purge_expired

    _plan, record = purge_expired(job="celery audit.purge_expired")
    return record.pk


@shared_task(name="audit.subject_requests_overdue")
def subject_requests_overdue_task() -> int:
    """Tell handlers and DPOs of requests that fell due yesterday (daily, beat)."""
    from audit.subject_requests import subject_requests_notify_overdue

    return subject_requests_notify_overdue()


@shared_task(name="audit.backup")
def backup_task() -> list[str]:
    """Back up both databases (verified), then keep the last ``PRIVACY_BACKUP_KEEP`` (beat)."""
    from audit.backups import backup_create, backups_prune

    report = backup_create()
    backups_prune()
    return [made.path.name for made in report.files]
