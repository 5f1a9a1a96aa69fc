"""Sales analytics.

Celery tasks: thin wrappers over services (ids in, no personal values in arguments).
"""

from celery import shared_task

from analytics import report_runs


@shared_task(name=report_runs.EXECUTE_TASK)
def report_run_execute_task(run_id: int) -> str:
    return report_runs.report_run_execute(run_id=run_id)


@shared_task(name="analytics.monthly_report_run")
def monthly_report_run_task() -> int:
    return report_runs.report_run_monthly()
