"""Credit: Celery tasks: thin wrappers over services (ids in, no personal values in arguments)."""

from celery import shared_task


@shared_task(name="credit.notes_overdue_check")
def notes_overdue_check_task() -> int:
    """Daily: a note long past due raises a risk report to the manager."""
    from credit.services import notes_overdue_check

    return notes_overdue_check()
