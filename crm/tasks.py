"""Celery tasks of the foundation (thin wrappers)."""

import socket

from celery import shared_task
from django.utils import timezone


@shared_task(name="crm.health_ping")
def health_ping(token: str) -> dict:
    """Answer from a worker: proves the broker carries tasks and a worker runs them."""
    return {"token": token, "worker": socket.gethostname(), "at": timezone.now().isoformat()}


@shared_task(name="crm.idempotency_records_purge")
def idempotency_records_purge_task() -> int:
    from crm.api.idempotency import idempotency_records_purge

    return idempotency_records_purge()


@shared_task(name="crm.data_keys_sweep")
def data_keys_sweep_task() -> int:
    from crm.key_sweep import data_keys_sweep

    return data_keys_sweep()


@shared_task(name="crm.export_job_run")
def export_job_run_task(job_id: int) -> str:
    from crm.exports.jobs import export_job_run

    return export_job_run(job_id=job_id)


@shared_task(name="crm.export_jobs_clean_up")
def export_jobs_clean_up_task() -> dict:
    from crm.exports.jobs import export_jobs_clean_up

    return export_jobs_clean_up()


@shared_task(name="crm.notifications_email")
def notifications_email_task(notification_ids: list[int]) -> int:
    from crm.notifications import notifications_email

    return notifications_email(notification_ids=notification_ids)
