from django.core.management.base import BaseCommand

from customers.services.import_jobs import import_jobs_clean_up


class Command(BaseCommand):
    help = "Close import jobs that stopped moving and delete uploads no job will read."

    def handle(self, *args, **options):
        result = import_jobs_clean_up()
        self.stdout.write(
            self.style.SUCCESS(
                f"{result['jobs_closed']} stalled jobs closed; "
                f"{result['files_deleted']} abandoned uploads deleted."
            )
        )
