"""Celery tasks of the audit trail (thin wrappers)."""

from celery import shared_task


@shared_task(name="audit.chain_checkpoint")
def audit_chain_checkpoint_task() -> int | None:
    """Chain leftover events and anchor the head in the keys database (hourly, beat)."""
    from audit.services import audit_chain_checkpoint

    checkpoint = audit_chain_checkpoint()
    return checkpoint.sequence if checkpoint is not None else None
