from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand

from crm.key_sweep import data_keys_sweep


class Command(BaseCommand):
    help = (
        "Delete data keys that no row references (rows that were never committed), "
        "older than DATA_KEY_ORPHAN_HOURS. Runs daily; safe to run at any time."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than-hours", type=int, default=settings.DATA_KEY_ORPHAN_HOURS)

    def handle(self, *args, older_than_hours, **options):
        deleted = data_keys_sweep(older_than=timedelta(hours=older_than_hours))
        self.stdout.write(self.style.SUCCESS(f"Deleted {deleted} data keys without a row."))
