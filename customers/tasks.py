"""Celery tasks of the customers app: ids in, a service does the work."""

from celery import shared_task


@shared_task(name="customers.reverification_notify_overdue")
def reverification_notify_overdue_task() -> dict:
    from customers.services import reverification_notify_overdue

    return reverification_notify_overdue()


@shared_task(name="customers.import_job_run")
def import_job_run_task(job_id: int) -> str:
    from customers.services.import_jobs import import_job_run

    return import_job_run(job_id=job_id)


@shared_task(name="customers.import_jobs_clean_up")
def import_jobs_clean_up_task() -> dict:
    from customers.services.import_jobs import import_jobs_clean_up

    return import_jobs_clean_up()


@shared_task(name="customers.campaign_send")
def campaign_send_task(campaign_id: int) -> dict:
    from customers.services.campaigns import campaign_send

    return campaign_send(campaign_id=campaign_id)
