"""``manage.py backup [--database default|keys]``: encrypted, checksummed, verified backups."""

from django.core.management.base import BaseCommand, CommandError

from audit.backups import ALIASES, BackupError, backup_create, backups_prune


class Command(BaseCommand):
    help = (
        "Back up each database (business and keys) to its own encrypted file under "
        "PRIVACY_BACKUP_DIR, with a checksummed manifest, and verify it by restoring it into "
        "a scratch database and comparing the row count of every table."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--database",
            action="append",
            choices=ALIASES,
            dest="databases",
            help="Back up only this database (repeatable); default: both.",
        )
        parser.add_argument(
            "--prune",
            action="store_true",
            help="Afterwards keep only the last PRIVACY_BACKUP_KEEP backups of each database.",
        )

    def handle(self, *args, databases=None, prune=False, **options):
        try:
            report = backup_create(
                databases=tuple(databases or ALIASES),
                progress=lambda message: self.stdout.write(message),
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        for made in report.files:
            self.stdout.write(
                self.style.SUCCESS(
                    f"{made.alias}: {made.path} ({made.rows} rows in "
                    f"{len(made.manifest['tables'])} tables; sha256 {made.manifest['sha256']})"
                )
            )
        if prune:
            deleted = backups_prune()
            self.stdout.write(f"Pruned: {deleted}")
