"""Credit: Celery tasks: thin wrappers over services (ids in, no personal values in arguments)."""

from celery import shared_task


@shared_task(name="credit.notes_overdue_check")
def notes_overdue_check_task() -> int:
    """Daily: a note long past due raises a risk report to the manager."""
    from credit.services import notes_overdue_check

    return notes_overdue_check()


@shared_task(name="credit.attachment_orphans_sweep")
def attachment_orphans_sweep_task() -> int:
    """Daily: delete attachment files left by uploads whose transaction rolled back."""
    from credit.services.attachments import attachment_orphans_sweep

    return attachment_orphans_sweep()
