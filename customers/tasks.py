"""Celery tasks of the customers app: ids in, a service does the work.

The dependency goes one way: tasks import services; services queue a task by its name
(``crm.queueing.enqueue_on_commit``) and never import this module.
"""

from celery import shared_task

from customers.services import campaigns, import_jobs, records


@shared_task(name="customers.reverification_notify_overdue")
def reverification_notify_overdue_task() -> dict:
    return records.reverification_notify_overdue()


@shared_task(name=import_jobs.IMPORT_JOB_RUN_TASK)
def import_job_run_task(job_id: int) -> str:
    return import_jobs.import_job_run(job_id=job_id)


@shared_task(name="customers.import_jobs_clean_up")
def import_jobs_clean_up_task() -> dict:
    return import_jobs.import_jobs_clean_up()


@shared_task(name=campaigns.CAMPAIGN_SEND_TASK)
def campaign_send_task(campaign_id: int) -> dict:
    return campaigns.campaign_send(campaign_id=campaign_id)
