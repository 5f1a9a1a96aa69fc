"""Complaints.

Celery tasks: thin wrappers over services (ids in, no personal values in arguments).
"""

from celery import shared_task

from complaints import services


@shared_task(name="complaints.escalate_overdue")
def escalate_overdue() -> int:
    """Escalate each SLA breach to the assignee's manager, once (every 10 minutes)."""
    return services.complaints_escalate_overdue()


@shared_task(name="complaints.survey_round_send")
def survey_round_send(survey_id: int) -> dict:
    """Send one survey's current round (queued from the surveys page)."""
    return services.survey_round_send(survey_id=survey_id)


@shared_task(name="complaints.surveys_send_due")
def surveys_send_due() -> dict:
    """Every active survey's current round, daily: once a customer a round."""
    return services.surveys_send_due()
