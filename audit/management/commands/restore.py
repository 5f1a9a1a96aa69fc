"""``manage.py restore FILE [--database default|keys] [--force]``."""

from django.core.management.base import BaseCommand, CommandError

from audit.backups import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Restore one database from a backup file written by `manage.py backup`. Refuses a "
        "file whose manifest, checksum or authentication fails, a database that is not empty "
        "(unless --force), and a keys backup older than the last purge (unless --force). "
        "Never restore an old keys backup after a purge: see docs/backups.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The .backup file (its .manifest.json beside it).")
        parser.add_argument(
            "--database",
            help="The database alias to restore into (default: the one the file was taken of).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Replace the contents of a database that is not empty.",
        )

    def handle(self, *args, file, database=None, force=False, **options):
        try:
            report = backup_restore(
                file,
                database=database,
                force=force,
                progress=lambda message: self.stdout.write(message),
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {report.alias} from a backup taken at "
                f"{report.manifest['created_at']}: {sum(report.tables.values())} rows in "
                f"{len(report.tables)} tables."
            )
        )
