from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from crm import seeding


class Command(BaseCommand):
    help = "Create the demo company: users, teams and the data every app adds to the seed."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already holds users.",
        )

    def handle(self, *args, if_empty=False, **options):
        from crm.models import User

        if settings.PRODUCTION:
            # The demo users share one documented password: never in production.
            raise CommandError("seed_demo refuses to run when DJANGO_ENV=production.")
        if if_empty and User.objects.exists():
            self.stdout.write("The database already holds data; demo data not loaded.")
            return
        password = settings.DEMO_PASSWORD
        with transaction.atomic():
            for seeder in seeding.seeders():
                self.stdout.write(f"Seeding {seeder.name}…")
                seeder.run(stdout=self.stdout, password=password)
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
