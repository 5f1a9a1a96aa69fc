"""``manage.py backups_prune [--keep N]``: the scheduled job's clean-up, by hand."""

from django.core.management.base import BaseCommand

from audit.backups import backups_prune


class Command(BaseCommand):
    help = (
        "Keep the newest PRIVACY_BACKUP_KEEP backups of each database, delete keys backups "
        "older than KEYS_BACKUP_RETENTION_DAYS and what crashed backups left behind."
    )

    def add_arguments(self, parser):
        parser.add_argument("--keep", type=int, default=None)

    def handle(self, *args, keep=None, **options):
        deleted = backups_prune(keep=keep)
        self.stdout.write(
            ", ".join(f"{alias}: {count} deleted" for alias, count in deleted.items())
        )
