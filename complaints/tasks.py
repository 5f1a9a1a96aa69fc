"""Complaints.

Celery tasks: thin wrappers over services (ids in, no personal values in arguments).
"""

from celery import shared_task

from complaints import services


@shared_task(name="complaints.escalate_overdue")
def escalate_overdue() -> int:
    """Escalate each SLA breach to the assignee's manager, once (every 10 minutes)."""
    return services.complaints_escalate_overdue()
