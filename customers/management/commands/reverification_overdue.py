from django.core.management.base import BaseCommand

from customers.services import reverification_notify_overdue


class Command(BaseCommand):
    help = "E-mail each owner the customer cards overdue for re-verification (daily job)."

    def handle(self, *args, **options):
        result = reverification_notify_overdue()
        self.stdout.write(
            self.style.SUCCESS(
                f"{result['overdue']} cards overdue; {result['owners_notified']} owners told."
            )
        )
