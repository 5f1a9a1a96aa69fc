"""``manage.py escalate_complaints``: the periodic escalation, run by hand."""

from django.core.management.base import BaseCommand

from complaints import services


class Command(BaseCommand):
    help = "Escalate each SLA breach of an open complaint to the assignee's manager, once."

    def handle(self, *args, **options):
        count = services.complaints_escalate_overdue()
        self.stdout.write(f"{count} breaches escalated")
